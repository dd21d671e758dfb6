"""GET /api/jobs?status= filters by the status Dagster has for each job's latest run."""

from __future__ import annotations

from dagster import DagsterRun, DagsterRunStatus

from tests.api.conftest import ApiHarness
from tests.api.world import add_job


def test_status_filter_uses_each_jobs_latest_run(sqlite_api: ApiHarness) -> None:
    owner = sqlite_api.register()
    instance = sqlite_api.state.instance
    for run_id, status in (("run-ok", DagsterRunStatus.SUCCESS), ("run-bad", DagsterRunStatus.FAILURE)):
        instance.add_run(DagsterRun(job_name="clip_job", run_id=run_id, status=status))
    succeeded = add_job(sqlite_api, owner, "done", ["run-bad", "run-ok"])  # retried: the latest run counts
    failed = add_job(sqlite_api, owner, "broken", ["run-ok", "run-bad"])
    queued = add_job(sqlite_api, owner, "waiting", ["run-not-started"])
    canceled = add_job(sqlite_api, owner, "dropped", ["run-never"], canceled=True)

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
