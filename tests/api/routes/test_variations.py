"""POST/GET /api/clips/{id}/variations: N variants of a clip's moment rendered as its versions by one
clip_version_job run, listed with their uniqueness."""

from __future__ import annotations

import pytest
from dagster import AssetKey, DagsterRunStatus

from clipped.layout import ClipVersionRef
from tests.api.conftest import ApiHarness
from tests.api.routes import test_clip_versions
from tests.api.routes.test_clip_versions import run_id_of, seed_clip, wait_for_versions

harness = test_clip_versions.harness  # the app with its embedded launcher (runs in child processes)

pytestmark = pytest.mark.xdist_group("api_e2e")  # runs a real Dagster run: keep it off the other worker


def test_two_variations_render_as_versions_in_one_run_and_list_with_their_uniqueness(harness: ApiHarness) -> None:
    account = harness.register()
    source, manifest_clip_id, clip_id = seed_clip(harness, account)
    url = f"/api/clips/{clip_id}/variations"
    assert harness.client.get(url, headers=account.headers).json() == {"rendering": False, "variants": []}
    assert harness.client.post(url, headers=account.headers, json={"count": 9}).status_code == 422

    queued = harness.client.post(url, headers=account.headers, json={"count": 2})
    assert queued.status_code == 202, queued.text
    assert [(v["version"], v["status"]) for v in queued.json()] == [(2, "rendering"), (3, "rendering")]
    assert harness.client.post(url, headers=account.headers, json={}).status_code == 409
    assert run_id_of(harness, clip_id, 2) == run_id_of(harness, clip_id, 3)  # one run renders the set

    versions = wait_for_versions(harness, account, clip_id)
    assert [(v["version"], v["status"]) for v in versions] == [(1, "ready"), (2, "ready"), (3, "ready")], versions
    run = harness.state.instance.get_run_by_id(run_id_of(harness, clip_id, 3))
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags["dagster/partition"] == ClipVersionRef(source, manifest_clip_id, 3).partition_key
    event = harness.state.instance.get_latest_materialization_event(AssetKey("clip_version"))
    assert event.asset_materialization.metadata["variations"].value == 2

    listed = harness.client.get(url, headers=account.headers).json()
    assert listed["rendering"] is False
    first, second = listed["variants"]
    assert (first["version"], second["version"]) == (3, 2)  # the moment as ranked is the newest, current version
    assert first["caption_style"] == "highlight_word" and second["caption_style"] != first["caption_style"]
    assert (first["start_s"], first["end_s"]) != (second["start_s"], second["end_s"])
    for variant in listed["variants"]:
        assert 0.0 < variant["uniqueness"]["overall"] <= 0.6 and variant["status"] == "ready"
        video = harness.client.get(variant["video_url"])  # a signed link: no header needed
        key = ClipVersionRef(source, manifest_clip_id, variant["version"]).key("clip.mp4")
        assert video.status_code == 200 and video.content == harness.state.storage.read_bytes(key)
    assert harness.client.get(f"/api/clips/{clip_id}", headers=account.headers).json()["version"] == 3
