"""GET /api/jobs?status= filters by the status Dagster has for each job's latest run."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import DagsterRun, DagsterRunStatus

from api.models import Job
from tests.api.conftest import ApiHarness


def _job(api: ApiHarness, name: str, run_ids: list[str], *, canceled: bool = False) -> str:
    owner = api.accounts[0]
    with api.state.sessions() as session:
        job = Job(
            workspace_id=owner.workspace_id,
            user_id=owner.user_id,
            partition_key=f"{owner.workspace_id}.{name}-0123456789",
            source_kind="upload",
            source_location=f"{owner.workspace_id}/uploads/{name}.mp4",
            display_name=name,
            settings={"max_clips": 1},
            run_ids=run_ids,
            canceled_at=datetime.now(UTC) if canceled else None,
        )
        session.add(job)
        session.commit()
        return job.id


def test_status_filter_uses_each_jobs_latest_run(sqlite_api: ApiHarness) -> None:
    owner = sqlite_api.register()
    instance = sqlite_api.state.instance
    for run_id, status in (("run-ok", DagsterRunStatus.SUCCESS), ("run-bad", DagsterRunStatus.FAILURE)):
        instance.add_run(DagsterRun(job_name="clip_job", run_id=run_id, status=status))
    succeeded = _job(sqlite_api, "done", ["run-bad", "run-ok"])  # retried: the latest run counts
    failed = _job(sqlite_api, "broken", ["run-ok", "run-bad"])
    queued = _job(sqlite_api, "waiting", ["run-not-started"])
    canceled = _job(sqlite_api, "dropped", ["run-never"], canceled=True)

    def ids(status: str) -> tuple[int, list[str]]:
        page = sqlite_api.client.get(f"/api/jobs?status={status}", headers=owner.headers).json()
        return page["total"], [item["id"] for item in page["items"]]

    assert ids("succeeded") == (1, [succeeded])
    assert ids("failed") == (1, [failed])
    assert ids("queued") == (1, [queued])
    assert ids("canceled") == (1, [canceled])
    assert ids("running") == (0, [])
    page = sqlite_api.client.get("/api/jobs?status=queued&page=2&limit=1", headers=owner.headers).json()
    assert page["total"] == 1 and page["items"] == []
