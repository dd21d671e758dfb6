"""GET /api/jobs?status= filters by the status Dagster has for each job's latest run; each listed job carries its
clip count and its best-ranked clip's thumbnail."""

from __future__ import annotations

from dagster import DagsterRun, DagsterRunStatus

from tests.api.conftest import ApiHarness
from tests.api.world import FAKE_JPEG, add_clip, add_finished_job, add_job


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


def test_listed_jobs_show_their_clip_count_and_best_ranked_thumbnail(sqlite_api: ApiHarness) -> None:
    owner = sqlite_api.register()
    with sqlite_api.state.sessions() as session:
        jobs = []
        for index, ranks in enumerate(([3, 1, 2], [1], [])):
            job = add_finished_job(session, owner.workspace_id, owner.user_id, f"talk{index}-0123456789", f"t{index}")
            for rank in ranks:
                folder = f"{owner.workspace_id}/clips/c{index}-{rank}"
                sqlite_api.state.storage.write_bytes(f"{folder}/thumbnail.jpg", FAKE_JPEG)
                clip = add_clip(
                    session, job.id, owner.workspace_id, f"c{index}-{rank}", video_key=f"{folder}/clip.mp4",
                    thumbnail_key=f"{folder}/thumbnail.jpg", title=f"rank {rank}", rank=rank,
                )  # fmt: skip
                if rank == 1:
                    best = clip.id
            jobs.append((job.id, len(ranks), best if ranks else None))
        session.commit()
    listed = {item["id"]: item for item in sqlite_api.client.get("/api/jobs", headers=owner.headers).json()["items"]}
    for job_id, count, best in jobs:
        assert listed[job_id]["clip_count"] == count
        picture = listed[job_id]["thumbnail_url"]
        if best is None:
            assert picture is None
        else:
            assert picture.startswith(f"/api/clips/{best}/thumbnail?version=1&token=")
            assert sqlite_api.client.get(picture).content == FAKE_JPEG  # the link opens without headers
