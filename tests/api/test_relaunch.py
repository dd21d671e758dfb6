"""Work held in memory by a stopped service is picked up on start-up: unstarted job runs and re-renders."""

from __future__ import annotations

from datetime import UTC, datetime

from api.models import ClipVersion, Job
from api.services.jobs import relaunch_unstarted
from api.services.rendering import resume_rerenders
from tests.api.conftest import ApiHarness, RecordingLauncher
from tests.api.world import seed_world


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


def test_rerenders_left_rendering_by_a_stopped_process_are_finished(sqlite_api: ApiHarness) -> None:
    world = seed_world(sqlite_api)
    with sqlite_api.state.sessions() as session:
        stranded = ClipVersion(
            clip_id=world.clip_id,
            version=2,
            caption_style="karaoke",
            status="rendering",
            video_key=f"{world.workspace_id}/clips/x-v2/clip.mp4",
            thumbnail_key=f"{world.workspace_id}/clips/x-v2/thumbnail.jpg",
        )
        session.add(stranded)
        session.commit()
        stranded_id = stranded.id

    assert resume_rerenders(sqlite_api.state) == [stranded_id]
    assert sqlite_api.state.worker.wait_idle(timeout=120)
    with sqlite_api.state.sessions() as session:
        version = session.get(ClipVersion, stranded_id)
        # The seeded job has no pipeline outputs, so the resumed render fails - with a reason, not stuck.
        assert version.status == "failed" and version.error
