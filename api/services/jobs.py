"""Creating jobs (source request + partition + run) and describing them from Dagster."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from dagster import DagsterRun, RunsFilter
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.links import LinkIssuer
from api.models import Clip, Job
from api.schemas import JobOut, JobSource, JobStep
from api.services.clips import sync_clips
from api.services.job_status import RUN_STATUS, TERMINAL, RunView, StepView
from api.state import AppState
from clipped.layout import SourceRef

log = logging.getLogger("clipped.api")


def latest_run_id(job: Job) -> str | None:
    return job.run_ids[-1] if job.run_ids else None


def job_run_view(state: AppState, job: Job) -> RunView:
    return job_run_views(state, [job])[job.id]


def job_run_views(state: AppState, jobs: list[Job]) -> dict[str, RunView]:
    """Each job's view of its latest run: one runs query for all of them, and event logs only of runs that have
    not been seen finished (those are kept, see FinishedRunViews)."""
    views = {}
    for job, run in latest_runs(state, jobs):
        view = state.run_views.view(state.instance, run)
        if canceled_before_start(job, view.status):
            view.status = "canceled"
            for step in view.steps:
                step.status = "skipped"
        views[job.id] = view
    return views


def job_statuses(state: AppState, jobs: list[Job]) -> dict[str, str]:
    """Each job's status from one runs query (no event logs): what a status filter needs before paging."""
    statuses = {}
    for job, run in latest_runs(state, jobs):
        status = RUN_STATUS.get(run.status, "running") if run is not None else "queued"
        statuses[job.id] = "canceled" if canceled_before_start(job, status) else status
    return statuses


def latest_runs(state: AppState, jobs: list[Job]) -> list[tuple[Job, DagsterRun | None]]:
    """Each job with its latest run, from one runs query (None: the instance does not know the run yet)."""
    run_ids = [run_id for job in jobs if (run_id := latest_run_id(job))]
    runs = {run.run_id: run for run in state.instance.get_runs(RunsFilter(run_ids=run_ids))} if run_ids else {}
    return [(job, runs.get(latest_run_id(job) or "")) for job in jobs]


def canceled_before_start(job: Job, status: str) -> bool:
    """Canceled before the launcher started its run: Dagster never saw one, so it reads queued."""
    return job.canceled_at is not None and status == "queued"


def job_out(
    state: AppState, session: Session, job: Job, view: RunView | None = None, links: LinkIssuer | None = None
) -> JobOut:
    """The job as the API shows it; with ``links`` (the job list) it carries its top clip's thumbnail link."""
    return job_outs(state, session, [job], {job.id: view} if view is not None else None, links)[0]


def job_outs(
    state: AppState,
    session: Session,
    jobs: list[Job],
    views: dict[str, RunView] | None = None,
    links: LinkIssuer | None = None,
) -> list[JobOut]:
    """:func:`job_out` of each job, with one runs query and one clips query for all of them (a page of the job
    list would otherwise make three queries per job)."""
    views = views or job_run_views(state, jobs)
    for job in jobs:
        run_id = latest_run_id(job)
        if views[job.id].status == "succeeded" and run_id and job.clips_synced_run != run_id:
            try:
                sync_clips(state, session, job, run_id)
            except Exception:  # the job stays readable; clips appear on the next read
                session.rollback()
                log.exception("could not read the clips of job %s", job.id)
    clips = _clips_by_job(session, [job.id for job in jobs])
    now = datetime.now(UTC)
    outs = []
    for job in jobs:
        view, ranked = views[job.id], clips.get(job.id, [])
        top = ranked[0] if ranked else None  # the job's picture: its best-ranked clip's current thumbnail
        picture = links.clip_media(top.id, top.version, "thumbnail") if links is not None and top is not None else None
        outs.append(
            JobOut(
                id=job.id,
                workspace_id=job.workspace_id,
                status=view.status,
                source=JobSource(kind=job.source_kind, display_name=job.display_name),
                settings=job.settings,
                created_at=job.created_at,
                updated_at=max(_utc(job.updated_at), view.last_event_at or _utc(job.updated_at)),
                run_id=latest_run_id(job),
                error=view.error,
                progress=view.progress,
                seconds_left=view.seconds_left(now),
                steps=[_step(step) for step in view.steps],
                clip_count=len(ranked),
                thumbnail_url=picture,
            )
        )
    return outs


def _step(step: StepView) -> JobStep:
    return JobStep(
        name=step.name,
        status=step.status,
        started_at=step.started_at,
        ended_at=step.ended_at,
        duration_s=step.duration_s,
    )


def _clips_by_job(session: Session, job_ids: list[str]) -> dict[str, list]:
    """Each job's clips (id and shown version), best-ranked first."""
    if not job_ids:
        return {}
    rows = session.execute(
        select(Clip.job_id, Clip.id, Clip.version).where(Clip.job_id.in_(job_ids)).order_by(Clip.job_id, Clip.rank)
    ).all()
    clips: dict[str, list] = {}
    for row in rows:
        clips.setdefault(row.job_id, []).append(row)
    return clips


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands datetimes back naive


def launch(state: AppState, session: Session, job: Job) -> None:
    run_id = state.launcher.launch(SourceRef.from_partition_key(job.partition_key))
    job.run_ids = [*job.run_ids, run_id]
    job.canceled_at = None
    job.updated_at = datetime.now(UTC)
    session.commit()


def relaunch_unstarted(state: AppState) -> list[str]:
    """Launch again every job whose latest run never reached the instance; returns their ids.

    The embedded launcher queues runs in memory: a job accepted just before the service stopped would otherwise
    stay "queued" forever. A run the instance knows (running, finished) is left alone; canceled jobs too.
    """
    relaunched: list[str] = []
    with state.sessions() as session:
        for job in session.scalars(select(Job).where(Job.canceled_at.is_(None))):
            if job.run_ids and state.instance.get_run_by_id(job.run_ids[-1]) is None:
                log.info("relaunching job %s: its run %s never started", job.id, job.run_ids[-1])
                launch(state, session, job)
                relaunched.append(job.id)
    return relaunched


def is_terminal(view: RunView) -> bool:
    return view.status in TERMINAL
