"""Jobs accepted but never started (the embedded launcher's queue is in memory) are launched again on start-up."""

from __future__ import annotations

from datetime import UTC, datetime

from api.models import Job
from api.services.jobs import relaunch_unstarted
from tests.api.conftest import ApiHarness, RecordingLauncher


def _job(api: ApiHarness, run_ids: list[str], *, canceled: bool = False) -> str:
    owner = api.accounts[0] if api.accounts else api.register()
    with api.state.sessions() as session:
        job = Job(
            workspace_id=owner.workspace_id,
            user_id=owner.user_id,
            partition_key=f"{owner.workspace_id}.talk-0123456789",
            source_kind="upload",
            source_location=f"{owner.workspace_id}/uploads/x.mp4",
            display_name="talk",
            settings={"max_clips": 1},
            run_ids=run_ids,
            canceled_at=datetime.now(UTC) if canceled else None,
        )
        session.add(job)
        session.commit()
        return job.id


def test_unstarted_jobs_are_launched_again_and_others_are_not(sqlite_api: ApiHarness) -> None:
    launcher = sqlite_api.launcher
    assert isinstance(launcher, RecordingLauncher)
    lost = _job(sqlite_api, ["run-never-started"])
    canceled = _job(sqlite_api, ["run-canceled-before-start"], canceled=True)
    never_launched = _job(sqlite_api, [])

    assert relaunch_unstarted(sqlite_api.state) == [lost]
    assert len(launcher.launched) == 1
    with sqlite_api.state.sessions() as session:
        job = session.get(Job, lost)
        assert job.run_ids == ["run-never-started", launcher.launched[0][1]]
        assert session.get(Job, canceled).run_ids == ["run-canceled-before-start"]
        assert session.get(Job, never_launched).run_ids == []
