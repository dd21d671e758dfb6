"""POST /api/clips/{id}/rerender and GET /api/clips/{id}/versions: a re-render is a clip_version_job run.

The app's own embedded launcher runs the job in a child process against the instance of DAGSTER_HOME, on a
seeded source (a short synthetic video with one rendered clip), so a run costs one small encode.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterEventType, DagsterRunStatus, MultiPartitionKey

from api.models import ClipVersion, Job
from clipped.layout import RENDERED_CLIPS_FILE, TRANSCRIPT_FILE, ClipVersionRef, SourceRef
from clipped.render.versions import VERSION_CHECKS, VERSION_CLIP_FILE
from clipped.render_manifest import RenderedClipsManifest
from clipped.types import RenderedClip, Segment, Transcript
from clipped_assets.partitions import clip_version_partitions, source_video_partitions
from clipped_resources.render_options import RenderOptions
from definitions import build_definitions
from tests.api.conftest import Account, ApiHarness, make_harness
from tests.api.test_servers import webserver  # noqa: F401  (a real dagster-webserver, for the GraphQL launcher)
from tests.api.world import add_clip
from tests.support.rendered_source import seed_rendered_source

pytestmark = pytest.mark.xdist_group("api_e2e")  # runs real Dagster runs: keep them off the other worker
RUN_TIMEOUT_S = 240


def _no_encoding_in_the_api(*args: object, **kwargs: object) -> None:
    raise AssertionError("the API process encoded a clip; re-renders must run as Dagster runs")


@pytest.fixture
def harness(api_env: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The app with the launcher its settings choose (embedded: runs in child processes); encoding in this
    process fails the test."""
    monkeypatch.setattr(RenderOptions, "encode", _no_encoding_in_the_api)
    harness = make_harness(api_env, f"sqlite:///{tmp_path / 'app.db'}", None)
    with harness.client:
        yield harness


def seed_clip(api: ApiHarness, account: Account) -> tuple[SourceRef, str, str]:
    """A finished job of ``account`` on a seeded source, with its one clip; (source, manifest clip id, clip id)."""
    source = SourceRef(account.workspace_id, "seeded-0123456789")
    original = seed_rendered_source(api.state.storage, source)
    api.state.instance.add_dynamic_partitions(source_video_partitions.name, [source.partition_key])
    with api.state.sessions() as session:
        job = Job(
            workspace_id=account.workspace_id,
            user_id=account.user_id,
            partition_key=source.partition_key,
            source_kind="upload",
            source_location=source.key("upload.mp4"),
            display_name="seeded",
            settings={"max_clips": 1, "caption_style": "highlight_word", "aspect": "9:16"},
            run_ids=[],
        )
        session.add(job)
        session.flush()
        clip = add_clip(
            session,
            job.id,
            account.workspace_id,
            original.clip_id,
            video_key=original.video_key,
            thumbnail_key=original.thumbnail_key,
            title=original.title,
        )
        session.commit()
        return source, original.clip_id, clip.id


def wait_for_versions(api: ApiHarness, account: Account, clip_id: str) -> list[dict]:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        versions = api.client.get(f"/api/clips/{clip_id}/versions", headers=account.headers).json()
        if all(v["status"] != "rendering" for v in versions) or time.monotonic() > deadline:
            return versions
        time.sleep(0.5)


def run_id_of(api: ApiHarness, clip_id: str, number: int) -> str:
    with api.state.sessions() as session:
        [version] = session.query(ClipVersion).filter_by(clip_id=clip_id, version=number).all()
        assert version.run_id, "the version has no run"
        return version.run_id


def test_rerender_materializes_the_versions_partition_in_a_run(harness: ApiHarness) -> None:
    account = harness.register()
    source, manifest_clip_id, clip_id = seed_clip(harness, account)
    instance = harness.state.instance

    queued = harness.client.post(
        f"/api/clips/{clip_id}/rerender", headers=account.headers, json={"caption_style": "karaoke"}
    )
    assert queued.status_code == 202, queued.text
    assert (queued.json()["version"], queued.json()["status"]) == (2, "rendering")
    busy = harness.client.post(f"/api/clips/{clip_id}/rerender", headers=account.headers, json={})
    assert busy.status_code == 409
    versions = wait_for_versions(harness, account, clip_id)
    assert [(v["version"], v["caption_style"], v["status"], v["error"]) for v in versions] == [
        (1, "highlight_word", "ready", None),
        (2, "karaoke", "ready", None),
    ], versions

    # The version is the materialization of clip_version for its own partition, by the run on the version's row.
    version = ClipVersionRef(source, manifest_clip_id, 2)
    run_id = run_id_of(harness, clip_id, 2)
    run = instance.get_run_by_id(run_id)
    assert run.job_name == "clip_version_job" and run.status == DagsterRunStatus.SUCCESS
    assert run.tags["dagster/partition"] == version.partition_key
    assert run.tags["dagster/partition/source_video"] == source.partition_key
    assert run.tags["dagster/partition/clip_version"] == version.folder
    assert run.tags["clipped/trigger"] == "api" and run.tags["clipped/workspace"] == account.workspace_id
    materialized = instance.get_latest_materialization_event(AssetKey("clip_version"))
    assert materialized.run_id == run_id
    assert materialized.asset_materialization.partition == version.partition_key
    assert instance.get_materialized_partitions(AssetKey("clip_version")) == {version.partition_key}
    checks = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    results = {
        e.dagster_event.event_specific_data.check_name: e.dagster_event.event_specific_data.passed for e in checks
    }
    assert results == dict.fromkeys(VERSION_CHECKS, True)
    # Lineage: the version's partition maps onto its own source's rendered_clips partition, and no other.
    graph = build_definitions("local").resolve_asset_graph()
    mapping = graph.get_partition_mapping(AssetKey("clip_version"), AssetKey("rendered_clips"))
    upstream = mapping.get_upstream_mapped_partitions_result_for_partitions(
        clip_version_partitions.subset_with_partition_keys([MultiPartitionKey(version.partition_keys_by_dimension)]),
        clip_version_partitions,
        source_video_partitions,
        dynamic_partitions_store=instance,
    )
    assert list(upstream.partitions_subset.get_partition_keys()) == [source.partition_key]

    # The clip now shows the new version; both versions stay, each with its own file.
    current = harness.client.get(f"/api/clips/{clip_id}", headers=account.headers).json()
    assert (current["version"], current["caption_style"]) == (2, "karaoke")
    video = harness.client.get(f"/api/clips/{clip_id}/video?version=2", headers=account.headers)
    assert video.status_code == 200 and video.content == harness.state.storage.read_bytes(version.key("clip.mp4"))


def test_a_failed_rerender_run_fails_its_version_with_the_reason(harness: ApiHarness) -> None:
    account = harness.register()
    source, manifest_clip_id, clip_id = seed_clip(harness, account)
    # The rendered clips were replaced since the review rows were made: the clip is gone from the manifest.
    manifest_key = source.key("rendered_clips.json")
    manifest = harness.state.storage.read_json(manifest_key)
    manifest["clips"][0]["clip_id"] = f"{source.video_id}-01-ffffffff"
    harness.state.storage.write_json(manifest_key, manifest)

    queued = harness.client.post(f"/api/clips/{clip_id}/rerender", headers=account.headers, json={})
    assert queued.status_code == 202, queued.text
    versions = wait_for_versions(harness, account, clip_id)
    assert [(v["version"], v["status"]) for v in versions] == [(1, "ready"), (2, "failed")], versions
    assert versions[1]["error"] == f"clip {manifest_clip_id} is no longer in the rendered clips manifest"
    run = harness.state.instance.get_run_by_id(run_id_of(harness, clip_id, 2))
    assert run.job_name == "clip_version_job" and run.status == DagsterRunStatus.FAILURE
    # The clip keeps showing the version that works, and a failed version does not block another try.
    assert harness.client.get(f"/api/clips/{clip_id}", headers=account.headers).json()["version"] == 1
    again = harness.client.post(f"/api/clips/{clip_id}/rerender", headers=account.headers, json={})
    assert again.status_code == 202 and again.json()["version"] == 3
    assert [v["status"] for v in wait_for_versions(harness, account, clip_id)] == ["ready", "failed", "failed"]


def test_graphql_launcher_submits_a_rerender_to_the_webserver_queue(
    api_env: tuple[Path, Path],
    tmp_path: Path,
    webserver: str,  # noqa: F811
) -> None:
    """In production the webserver's queue (and its K8sRunLauncher) takes the run: submitted with the partition
    of both dimensions as tags, it is a clip_version_job run of the version's partition."""
    api = make_harness(
        api_env, f"sqlite:///{tmp_path / 'app.db'}", None, launcher="graphql", dagster_graphql_url=webserver
    )
    with api.client:
        account = api.register()
        source, manifest_clip_id, clip_id = seed_clip(api, account)
        queued = api.client.post(f"/api/clips/{clip_id}/rerender", headers=account.headers, json={})
        assert queued.status_code == 202 and queued.json()["status"] == "rendering", queued.text
        run = api.state.instance.get_run_by_id(run_id_of(api, clip_id, 2))
        # Queued (no daemon here dequeues it); the version stays "rendering" until the run ends.
        version = ClipVersionRef(source, manifest_clip_id, 2)
        assert run.job_name == "clip_version_job" and run.status == DagsterRunStatus.QUEUED
        assert run.tags["dagster/partition"] == version.partition_key
        assert run.tags["dagster/partition/source_video"] == source.partition_key
        assert run.tags["dagster/partition/clip_version"] == version.folder
        versions = api.client.get(f"/api/clips/{clip_id}/versions", headers=account.headers).json()
        assert [v["status"] for v in versions] == ["ready", "rendering"]


def test_an_edited_rerender_trims_on_words_and_fixes_a_misheard_word(harness: ApiHarness) -> None:
    account = harness.register()
    source, manifest_clip_id, clip_id = seed_clip(harness, account)
    storage = harness.state.storage
    original = storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest).clips[0]
    words = original.words  # hello 0.5–0.85, there 0.95–1.3, this, is, a, short 2.75–3.1, test 3.2–3.55
    text = " ".join(w.word for w in words)
    segment = Segment(start_s=words[0].start_s, end_s=words[-1].end_s, text=text, words=words)
    storage.write_model(source.key(TRANSCRIPT_FILE), Transcript(language="en", duration_s=4.0, model="seeded",
                                                                 segments=[segment]))  # fmt: skip
    url = f"/api/clips/{clip_id}/rerender"
    transcript_url = f"/api/clips/{clip_id}/transcript"
    before = harness.client.get(transcript_url, headers=account.headers).json()
    assert [w["word"] for w in before["words"]] == [w.word for w in words] and len(before["context"]) == len(words)
    assert before["hook_end_s"] == 3.55  # the words starting in its first 3 s (0.3–3.3 s): all, in so short a clip

    # A trim with no word in it is refused at once, and no version is queued for it.
    empty = harness.client.post(url, headers=account.headers, json={"start_s": 3.7, "end_s": 3.9})
    assert empty.status_code == 422 and "no spoken word" in empty.json()["error"]["message"]
    # Mid-word times snap to the words; the misheard "short" becomes "shirt" at the same time.
    edit = {"start_s": 0.9, "end_s": 3.0, "caption_text": "there this is a shirt"}
    queued = harness.client.post(url, headers=account.headers, json=edit)
    assert queued.status_code == 202, queued.text
    assert queued.json()["version"] == 2
    versions = wait_for_versions(harness, account, clip_id)
    assert [(v["version"], v["status"], v["error"]) for v in versions][-1] == (2, "ready", None), versions
    rendered = storage.read_model(ClipVersionRef(source, manifest_clip_id, 2).key(VERSION_CLIP_FILE), RenderedClip)
    assert (rendered.start_s, rendered.end_s) == (0.95, 3.1)
    assert [(w.word, w.start_s) for w in rendered.words] == [
        ("there", 0.95), ("this", 1.4), ("is", 1.85), ("a", 2.3), ("shirt", 2.75),
    ]  # fmt: skip
    current = harness.client.get(f"/api/clips/{clip_id}", headers=account.headers).json()
    assert (current["version"], current["start_s"], current["end_s"]) == (2, 0.95, 3.1)
    after = harness.client.get(transcript_url, headers=account.headers).json()
    assert [w["word"] for w in after["words"]] == ["there", "this", "is", "a", "shirt"] and after["start_s"] == 0.95
