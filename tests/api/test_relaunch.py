"""Work held in memory by a stopped service is picked up on start-up: unstarted job and re-render runs."""

from __future__ import annotations

import dagster as dg

from api.models import Clip, ClipVersion, Job
from api.services.jobs import relaunch_unstarted
from api.services.rendering import resume_rerenders
from clipped.layout import ClipVersionRef, SourceRef
from clipped.render.versions import ClipVersionRequest, save_version_request
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


def test_rerenders_whose_run_never_started_are_launched_again(sqlite_api: ApiHarness) -> None:
    launcher = sqlite_api.launcher
    assert isinstance(launcher, RecordingLauncher)
    world = seed_world(sqlite_api)
    with sqlite_api.state.sessions() as session:
        # Queued in the memory of a stopped process (or rendered in process before runs): never reached Dagster.
        stranded = ClipVersion(
            clip_id=world.clip_id,
            version=2,
            caption_style="karaoke",
            status="rendering",
            video_key=f"{world.workspace_id}/clips/x-v2/clip.mp4",
            thumbnail_key=f"{world.workspace_id}/clips/x-v2/thumbnail.jpg",
            run_id="run-lost-in-memory",
        )
        session.add(stranded)
        session.commit()
        stranded_id = stranded.id

    assert resume_rerenders(sqlite_api.state) == [stranded_id]
    [(partition_key, run_id)] = launcher.launched_versions
    with sqlite_api.state.sessions() as session:
        version = session.get(ClipVersion, stranded_id)
        clip = session.get(Clip, world.clip_id)
        assert version.status == "rendering" and version.run_id == run_id
        assert partition_key == ClipVersionRef.from_partition_key(partition_key).partition_key
        assert partition_key.startswith(f"{clip.manifest_clip_id}-v2|{world.workspace_id}.")
    assert sqlite_api.state.instance.has_dynamic_partition("clip_version", f"{clip.manifest_clip_id}-v2")

    # Once Dagster knows the run, the next start-up leaves the version to it: never two runs for one version.
    known = placeholder_run.execute_in_process(instance=sqlite_api.state.instance).run_id
    with sqlite_api.state.sessions() as session:
        session.get(ClipVersion, stranded_id).run_id = known
        session.commit()
    assert resume_rerenders(sqlite_api.state) == []
    assert len(launcher.launched_versions) == 1


@dg.op
def nothing() -> None:
    """Stands for the version's run: all the instance needs is a run with its id."""


@dg.job
def placeholder_run() -> None:
    nothing()


def test_a_stranded_variations_set_is_launched_again_as_one_run(sqlite_api: ApiHarness) -> None:
    launcher = sqlite_api.launcher
    assert isinstance(launcher, RecordingLauncher)
    world = seed_world(sqlite_api)
    with sqlite_api.state.sessions() as session:
        clip = session.get(Clip, world.clip_id)
        source = SourceRef.from_partition_key(session.get(Job, clip.job_id).partition_key)
        request = ClipVersionRequest(clip_id=clip.manifest_clip_id, version=3, caption_style="karaoke", variations=2)
        save_version_request(sqlite_api.state.storage, source, request)
        rows = [
            ClipVersion(
                clip_id=world.clip_id,
                version=number,
                caption_style="karaoke",
                status="rendering",
                video_key=f"{world.workspace_id}/clips/x-v{number}/clip.mp4",
                thumbnail_key=f"{world.workspace_id}/clips/x-v{number}/thumbnail.jpg",
                run_id="run-lost-in-memory",
            )
            for number in (2, 3)
        ]
        session.add_all(rows)
        session.commit()
        ids = {row.id for row in rows}

    assert set(resume_rerenders(sqlite_api.state)) == ids
    [(partition_key, run_id)] = launcher.launched_versions  # one run for the set, on its newest version
    assert partition_key == ClipVersionRef(source, clip.manifest_clip_id, 3).partition_key
    with sqlite_api.state.sessions() as session:
        assert {session.get(ClipVersion, row_id).run_id for row_id in ids} == {run_id}
