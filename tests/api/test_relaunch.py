"""Work held in memory by a stopped service is picked up on start-up: unstarted job runs and re-renders."""

from __future__ import annotations

from api.models import ClipVersion, Job
from api.services.jobs import relaunch_unstarted
from api.services.rendering import resume_rerenders
from tests.api.conftest import ApiHarness, RecordingLauncher
from tests.api.world import add_job, seed_world


def test_unstarted_jobs_are_launched_again_and_others_are_not(sqlite_api: ApiHarness) -> None:
    launcher = sqlite_api.launcher
    assert isinstance(launcher, RecordingLauncher)
    owner = sqlite_api.register()
    lost = add_job(sqlite_api, owner, "lost", ["run-never-started"])
    canceled = add_job(sqlite_api, owner, "canceled", ["run-canceled-before-start"], canceled=True)
    never_launched = add_job(sqlite_api, owner, "unlaunched", [])

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
