"""Jobs: create (URL or confirmed upload), list, read, cancel, retry."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.deps import (
    LinkCredentialsDep,
    LinkIssuerDep,
    Principal,
    PrincipalDep,
    SessionDep,
    StateDep,
    WorkspaceDep,
    load_in_workspace,
)
from api.errors import ApiError, not_found
from api.links import EVENTS, job_events_resource
from api.models import Job, Upload
from api.roles import Permission
from api.routing import SessionReleasingRoute
from api.schemas import ChapterOut, JobIn, JobOut, JobPage, JobSummaryOut, StreamTokenOut
from api.services.job_snapshots import SharedSnapshots
from api.services.job_status import TERMINAL
from api.services.jobs import is_terminal, job_out, job_outs, job_run_view, job_statuses, launch
from api.services.search import delete_source_moments
from clipped.ingest.url_policy import DisallowedUrlError, validate_video_url
from clipped.layout import SUMMARY_FILE, SourceRef
from clipped.sources import SourceRequest, request_for
from clipped.types import ClipSettings
from clipped.understand.summary import SourceSummary
from clipped_app.pipeline import register_request

router = APIRouter(prefix="/api/jobs", tags=["jobs"], route_class=SessionReleasingRoute)
HEARTBEAT_S = 15.0
_snapshots = SharedSnapshots()  # the event streams of one job share each poll's payload
JobStatus = Literal["queued", "running", "succeeded", "failed", "canceled"]


def _source_request(state, session, workspace_id: str, body: JobIn) -> SourceRequest:
    settings = ClipSettings.model_validate(body.settings.model_dump())
    if body.source_url is not None:
        if "://" not in body.source_url:
            raise ApiError(422, "source_url must be an https URL")
        try:
            url = validate_video_url(body.source_url, allowed_domains=state.ingest_policy.allowed_domains)
        except DisallowedUrlError as exc:
            raise ApiError(422, str(exc), code="url_not_allowed") from exc
        return request_for(url, settings)
    upload = session.get(Upload, body.upload_id)
    if upload is None or upload.workspace_id != workspace_id:
        raise not_found("upload")
    if upload.status != "confirmed":
        raise ApiError(409, "upload is not confirmed yet")
    return SourceRequest(
        kind="upload", location=upload.storage_key, display_name=upload.display_name, settings=settings
    )


@router.post("", status_code=201, response_model=JobOut, responses={200: {"model": JobOut}})
def create_job(
    body: JobIn,
    access: WorkspaceDep,
    session: SessionDep,
    state: StateDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JobOut:
    access.require(Permission.EDIT)
    request_hash = hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True).encode()).hexdigest()
    if idempotency_key and (existing := _job_for_key(session, access.workspace_id, idempotency_key)) is not None:
        return _replay(state, session, response, existing, request_hash)
    request = _source_request(state, session, access.workspace_id, body)
    source = register_request(state.storage, state.instance, request, access.workspace_id)
    job = Job(
        workspace_id=access.workspace_id,
        user_id=access.user_id,
        partition_key=source.partition_key,
        source_kind=request.kind,
        source_location=request.location,
        display_name=request.display_name,
        settings=body.settings.model_dump(),
        run_ids=[],
        idempotency_key=idempotency_key or None,
        request_hash=request_hash,
    )
    session.add(job)
    try:
        session.commit()
    except IntegrityError:
        # Another request with this key committed between our look-up and our insert (uq_jobs_idempotency): it
        # made the job, this one answers with it. The source it registered is the same request's, so nothing leaks.
        session.rollback()
        existing = _job_for_key(session, access.workspace_id, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _replay(state, session, response, existing, request_hash)
    launch(state, session, job)
    return job_out(state, session, job)


def _job_for_key(session: Session, workspace_id: str, idempotency_key: str) -> Job | None:
    return session.scalar(select(Job).where(Job.workspace_id == workspace_id, Job.idempotency_key == idempotency_key))


def _replay(state, session: Session, response: Response, existing: Job, request_hash: str) -> JobOut:
    """The job an earlier request with the same Idempotency-Key made (200), or 409 when its body differed."""
    if existing.request_hash != request_hash:
        raise ApiError(409, "this Idempotency-Key was used with another request", code="idempotency_conflict")
    response.status_code = 200
    return job_out(state, session, existing)


@router.get("", response_model=JobPage)
def list_jobs(
    access: WorkspaceDep,
    session: SessionDep,
    state: StateDep,
    links: LinkIssuerDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    status: JobStatus | None = None,
) -> JobPage:
    access.require(Permission.READ)
    query = select(Job).where(Job.workspace_id == access.workspace_id).order_by(Job.created_at.desc(), Job.id)
    if status is None:
        total = session.scalar(select(func.count()).where(Job.workspace_id == access.workspace_id)) or 0
        jobs = session.scalars(query.offset((page - 1) * limit).limit(limit)).all()
    else:
        # Status lives in Dagster: one runs query for every job's status, event logs only for the page shown.
        jobs = session.scalars(query).all()
        statuses = job_statuses(state, jobs)
        matching = [job for job in jobs if statuses[job.id] == status]
        total = len(matching)
        jobs = matching[(page - 1) * limit : page * limit]
    items = job_outs(state, session, list(jobs), links=links)
    return JobPage(items=items, page=page, limit=limit, total=total)


def load_job(session: Session, principal: Principal, job_id: str, permission: Permission) -> Job:
    return load_in_workspace(session, principal, Job, job_id, permission, "job")[0]


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> JobOut:
    return job_out(state, session, load_job(session, principal, job_id, Permission.READ))


@router.get("/{job_id}/summary", response_model=JobSummaryOut)
def get_job_summary(job_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> JobSummaryOut:
    """The source's summary, key points and chapters (made by its source_summary step), once there is one."""
    job = load_job(session, principal, job_id, Permission.READ)
    key = SourceRef.from_partition_key(job.partition_key).key(SUMMARY_FILE)
    if not state.storage.exists(key):
        return JobSummaryOut(ready=False)
    made = state.storage.read_model(key, SourceSummary)
    return JobSummaryOut(
        ready=True,
        method=made.method,
        summary=made.summary,
        key_points=made.key_points,
        chapters=[ChapterOut(start_s=c.start_s, end_s=c.end_s, title=c.title) for c in made.chapters],
        fallback_reason=made.fallback_reason,
    )


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> JobOut:
    job = load_job(session, principal, job_id, Permission.EDIT)
    view = job_run_view(state, job)
    if is_terminal(view):
        raise ApiError(409, f"job already {view.status}")
    job.canceled_at = datetime.now(UTC)
    session.commit()
    if job.run_ids:
        state.launcher.cancel(job.run_ids[-1])
    return job_out(state, session, job)


@router.post("/{job_id}/retry", response_model=JobOut)
def retry_job(job_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> JobOut:
    job = load_job(session, principal, job_id, Permission.EDIT)
    view = job_run_view(state, job)
    if view.status not in ("failed", "canceled"):
        raise ApiError(409, f"only failed or canceled jobs can be retried (this one is {view.status})")
    # A new run of the same partition: stages with a complete record are reused, so it resumes at the failure.
    launch(state, session, job)
    return job_out(state, session, job)


@router.post("/{job_id}/stream-token", response_model=StreamTokenOut)
def stream_token(job_id: str, principal: PrincipalDep, session: SessionDep, links: LinkIssuerDep) -> StreamTokenOut:
    """A short-lived link to this job's event stream, for EventSource (which cannot send headers)."""
    load_job(session, principal, job_id, Permission.READ)
    issued = links.job_events(job_id)
    return StreamTokenOut(url=issued.url, token=issued.token, expires_at=issued.expires_at)


def _job_json(state, job_id: str) -> tuple[str, bool]:
    with state.sessions() as session:
        job = session.get(Job, job_id)
        if job is None:
            return "", True
        out = job_out(state, session, job)
        return out.model_dump_json(), out.status in TERMINAL


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "`event: job` with the job JSON"}},
)
async def job_events(
    job_id: str,
    request: Request,
    credentials: LinkCredentialsDep,
    session: SessionDep,
    state: StateDep,
    interval_s: Annotated[float, Query(ge=0.2, le=30)] = 1.0,
) -> StreamingResponse:
    """Server-Sent Events: the job whenever it changes, until it finishes (then the stream ends).

    Authorization header, or `?token=` from POST /api/jobs/{id}/stream-token (checked when the stream opens).
    """

    def authorize() -> None:
        principal = credentials.principal(session, state, EVENTS, job_events_resource(job_id))
        load_job(session, principal, job_id, Permission.READ)

    # In a worker thread, never on the event loop: a query waiting there for a pooled connection would stop the
    # loop for every other request, and with it the release of the connections they hold.
    await run_in_threadpool(authorize)

    async def stream():
        last, quiet_s = None, 0.0
        while True:
            data, finished = await _snapshots.get(state, job_id, lambda: _job_json(state, job_id))
            if data and data != last:
                last, quiet_s = data, 0.0
                yield f"event: job\ndata: {data}\n\n"
            elif quiet_s >= HEARTBEAT_S:
                quiet_s = 0.0
                yield ": keep-alive\n\n"
            if finished or await request.is_disconnected():
                return
            await asyncio.sleep(interval_s)
            quiet_s += interval_s

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


@router.delete("/{job_id}", status_code=204)
def delete_job(job_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> Response:
    """Remove a finished job: its clips, versions and comments, and its source's moments in search (unless another
    job of the workspace has the same source). Its media stays in storage, where publications may still point."""
    job = load_job(session, principal, job_id, Permission.DELETE)
    view = job_run_view(state, job)
    if not is_terminal(view):
        raise ApiError(409, f"the job is {view.status}: cancel it before removing it")
    delete_source_moments(state, session, job)
    session.delete(job)
    session.commit()
    return Response(status_code=204)
