"""Live stream routes: start (URL policy, per-workspace limit), list, read with moments and clip links, stop; another
workspace's stream is a 404; and one real recorder started and stopped through the API on a local HLS stream."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clipped.live.models import StreamRecord
from tests.api.conftest import ApiHarness, make_harness
from tests.api.world import FAKE_JPEG, FAKE_MP4, seed_stream
from tests.support.live_hls import LiveHlsServer, make_live_media
from tests.support.ports import wait_until

LOCAL_URL = "http://127.0.0.1:9/live/index.m3u8"  # never opened: the launcher below starts nothing


class NoRecorder:
    """A recorder launcher that records what it was asked to start (the API's part ends there)."""

    def __init__(self) -> None:
        self.launched: list[str] = []

    def launch(self, record: StreamRecord) -> None:
        self.launched.append(record.stream_id)

    def is_running(self, record: StreamRecord) -> bool | None:
        return None


@pytest.fixture
def streams_api(api_env: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiHarness]:
    """An app on SQLite whose stream service accepts the tests' 127.0.0.1 playlists, two streams per workspace."""
    monkeypatch.setenv("CLIPPED_TEST_LOOPBACK_STREAMS", "1")
    monkeypatch.setenv("CLIPPED_STREAMS_PER_WORKSPACE", "2")
    harness = make_harness(api_env, f"sqlite:///{tmp_path / 'app.db'}", None)
    with harness.client:
        yield harness


def _start(api: ApiHarness, headers: dict[str, str], workspace_id: str, **body: object):
    return api.client.post(f"/api/workspaces/{workspace_id}/streams", headers=headers, json=body)


def test_start_list_read_and_stop(streams_api: ApiHarness) -> None:
    api = streams_api
    launcher = api.state.streams.launcher = NoRecorder()
    owner = api.register()
    ws = owner.workspace_id
    started = _start(api, owner.headers, ws, url=LOCAL_URL, keywords=["Goal", "clutch"], max_minutes=30)
    assert started.status_code == 201, started.text
    stream = started.json()
    assert stream["state"] == "starting" and stream["desired"] == "running" and stream["active"]
    assert stream["workspace_id"] == ws and stream["url"] == LOCAL_URL and stream["moment_count"] == 0
    assert launcher.launched == [stream["id"]]
    record = api.state.streams.record(ws, stream["id"])
    assert record.settings.detection.keywords == ["goal", "clutch"] and record.settings.recorder.max_minutes == 30

    listed = api.client.get(f"/api/workspaces/{ws}/streams", headers=owner.headers)
    assert listed.status_code == 200 and [s["id"] for s in listed.json()] == [stream["id"]]
    detail = api.client.get(f"/api/streams/{stream['id']}", headers=owner.headers).json()
    assert detail["health"] is None and detail["moments"] == [] and detail["clips"] == []

    stopped = api.client.post(f"/api/streams/{stream['id']}/stop", headers=owner.headers)
    assert stopped.status_code == 200 and stopped.json()["desired"] == "stopped" and not stopped.json()["active"]
    again = api.client.post(f"/api/streams/{stream['id']}/stop", headers=owner.headers)
    assert again.status_code == 200 and again.json()["desired"] == "stopped"  # idempotent
    assert launcher.launched == [stream["id"]]


def test_the_short_routes_act_in_the_workspace_the_header_names(streams_api: ApiHarness) -> None:
    """POST/GET /api/streams (what a live URL refused as a VOD job points to) act in X-Workspace-Id's workspace,
    by default the caller's first, as POST /api/jobs does."""
    api = streams_api
    launcher = api.state.streams.launcher = NoRecorder()
    owner = api.register()
    second = api.client.post("/api/workspaces", headers=owner.headers, json={"name": "second"}).json()["id"]
    started = api.client.post("/api/streams", headers=owner.headers, json={"url": LOCAL_URL, "keywords": ["Goal"]})
    assert started.status_code == 201, started.text
    assert started.json()["workspace_id"] == owner.workspace_id and launcher.launched == [started.json()["id"]]
    assert api.state.streams.record(owner.workspace_id, started.json()["id"]).settings.detection.keywords == ["goal"]
    in_second = {**owner.headers, "X-Workspace-Id": second}
    other = api.client.post("/api/streams", headers=in_second, json={"url": LOCAL_URL})
    assert other.status_code == 201 and other.json()["workspace_id"] == second
    assert [s["id"] for s in api.client.get("/api/streams", headers=owner.headers).json()] == [started.json()["id"]]
    assert [s["id"] for s in api.client.get("/api/streams", headers=in_second).json()] == [other.json()["id"]]
    refused = api.client.post("/api/streams", headers=owner.headers, json={"url": "file:///etc/passwd"})
    assert refused.status_code == 422 and "cannot be recorded as a live stream" in refused.json()["error"]["message"]


def test_a_recorder_whose_heartbeat_goes_stale_is_restarted(
    api_env: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded default has no Dagster sensor: the API's supervisor starts a silent local recorder again, once
    per stale period, and never one that was asked to stop."""
    monkeypatch.setenv("CLIPPED_TEST_LOOPBACK_STREAMS", "1")
    harness = make_harness(api_env, f"sqlite:///{tmp_path / 'app.db'}", None, stream_supervise_s=0.1)
    service = harness.state.streams
    launcher = service.launcher = NoRecorder()
    service.stale_after_s = service.start_grace_s = 2.0
    with harness.client:
        owner = harness.register()
        started = _start(harness, owner.headers, owner.workspace_id, url=LOCAL_URL).json()
        wait_until(lambda: len(launcher.launched) >= 2, timeout_s=20, what="the recorder's restart")
        assert launcher.launched == [started["id"], started["id"]]  # no heartbeat within 2 s of its start
        assert service.record(owner.workspace_id, started["id"]).launches == 2
        time.sleep(0.5)
        assert len(launcher.launched) == 2  # the restarted recorder has its own 2 s to speak up
        harness.client.post(f"/api/streams/{started['id']}/stop", headers=owner.headers)
        time.sleep(2.5)
        assert len(launcher.launched) == 2  # a stopped stream is never started again


def test_moments_and_clips_with_signed_links(streams_api: ApiHarness) -> None:
    api = streams_api
    owner = api.register()
    stream_id, moment_id = seed_stream(api, owner.workspace_id)
    detail = api.client.get(f"/api/streams/{stream_id}", headers=owner.headers).json()
    [moment] = detail["moments"]
    assert moment["id"] == moment_id and moment["score"] == 0.55 and moment["reason"] == "loud burst + keyword"
    assert moment["scores"] == {"energy": 0.9, "keyword": 1.0} and moment["events"][0]["kind"] == "loud_moment"
    [clip] = detail["clips"]
    assert clip["moment_id"] == moment_id and clip["duration_s"] == 30.0 and clip["title"] == "seeded moment"
    video = api.client.get(clip["video_url"])  # no header: the link names this one file
    assert video.status_code == 200 and video.content == FAKE_MP4 and video.headers["content-type"] == "video/mp4"
    partial = api.client.get(clip["video_url"], headers={"Range": "bytes=0-9"})
    assert partial.status_code == 206 and partial.content == FAKE_MP4[:10]
    assert api.client.get(clip["thumbnail_url"]).content == FAKE_JPEG
    # A link opens only what it names: the thumbnail's token is no key to the video.
    token = clip["thumbnail_url"].split("token=", 1)[1]
    assert api.client.get(f"/api/streams/{stream_id}/clips/{moment_id}/video?token={token}").status_code == 401
    assert api.client.get(f"/api/streams/{stream_id}/clips/{moment_id}/video").status_code == 401


def test_per_workspace_limit_is_a_clear_409(streams_api: ApiHarness) -> None:
    api = streams_api
    api.state.streams.launcher = NoRecorder()
    owner, other = api.register(), api.register()
    first = _start(api, owner.headers, owner.workspace_id, url=LOCAL_URL).json()
    assert _start(api, owner.headers, owner.workspace_id, url=LOCAL_URL).status_code == 201
    refused = _start(api, owner.headers, owner.workspace_id, url=LOCAL_URL)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
    assert "limit 2" in refused.json()["error"]["message"] and "stop one first" in refused.json()["error"]["message"]
    assert _start(api, other.headers, other.workspace_id, url=LOCAL_URL).status_code == 201  # per workspace
    api.client.post(f"/api/streams/{first['id']}/stop", headers=owner.headers)
    assert _start(api, owner.headers, owner.workspace_id, url=LOCAL_URL).status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/talk.mp4",  # a video file, not a live stream
        "https://example.com/channel",  # not on the allowlist, not a playlist
        "file:///etc/passwd",
        "http://10.0.0.1/live.m3u8",
        "http://169.254.169.254/latest/live.m3u8",
    ],
)
def test_urls_that_cannot_be_recorded_are_422(streams_api: ApiHarness, url: str) -> None:
    api = streams_api
    launcher = api.state.streams.launcher = NoRecorder()
    owner = api.register()
    refused = _start(api, owner.headers, owner.workspace_id, url=url)
    assert refused.status_code == 422, refused.text
    assert "cannot be recorded as a live stream" in refused.json()["error"]["message"]
    assert launcher.launched == [] and api.state.streams.list(owner.workspace_id) == []


def test_a_live_playlist_is_not_taken_as_a_vod_job(streams_api: ApiHarness) -> None:
    """POST /api/jobs refuses the playlist before any job exists (the ingest step's own live check, for allowlisted
    sites, is tests/integration/test_live_vod_guard.py)."""
    api = streams_api
    owner = api.register()
    refused = api.client.post("/api/jobs", headers=owner.headers, json={"source_url": LOCAL_URL})
    assert refused.status_code == 422
    assert api.client.get("/api/jobs", headers=owner.headers).json()["total"] == 0


def test_another_workspace_gets_404(streams_api: ApiHarness) -> None:
    api = streams_api
    api.state.streams.launcher = NoRecorder()
    owner, intruder = api.register(), api.register()
    stream_id, moment_id = seed_stream(api, owner.workspace_id)
    link = api.client.get(f"/api/streams/{stream_id}", headers=owner.headers).json()["clips"][0]["video_url"]
    for method, path in [
        ("GET", f"/api/streams/{stream_id}"),
        ("POST", f"/api/streams/{stream_id}/stop"),
        ("GET", f"/api/streams/{stream_id}/clips/{moment_id}/video"),
        ("GET", f"/api/workspaces/{owner.workspace_id}/streams"),
    ]:
        response = api.client.request(method, path, headers=intruder.headers)
        assert response.status_code == 404, (path, response.text)
    # The owner's link with the intruder's header: the header says who calls, and they have no such stream.
    assert api.client.get(link, headers=intruder.headers).status_code == 404
    assert _start(api, intruder.headers, owner.workspace_id, url=LOCAL_URL).status_code == 404
    assert api.client.get(f"/api/streams/{stream_id}", headers=owner.headers).json()["desired"] == "running"
    # The same id does not exist in the intruder's own workspace either; malformed ids are plain 404s too.
    for bad in ("../../etc", "UPPER", "a" * 200):
        assert api.client.get(f"/api/streams/{bad}", headers=owner.headers).status_code == 404


@pytest.mark.slow
@pytest.mark.xdist_group("live_streams")
def test_a_recorder_started_through_the_api_records_and_stops(streams_api: ApiHarness, tmp_path: Path) -> None:
    api = streams_api
    owner = api.register()
    media = make_live_media(tmp_path / "live", duration_s=40)
    with LiveHlsServer(media, ends=False) as server:
        started = _start(api, owner.headers, owner.workspace_id, url=server.url, max_minutes=5)
        assert started.status_code == 201, started.text
        stream_id = started.json()["id"]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            [listed] = api.client.get(f"/api/workspaces/{owner.workspace_id}/streams", headers=owner.headers).json()
            if listed["state"] == "recording" and (listed["bitrate_kbps"] or 0) > 0:
                break
            assert listed["state"] in ("starting", "recording"), listed
            time.sleep(0.5)
        assert listed["state"] == "recording" and listed["last_segment_age_s"] < 10 and not listed["stale"]
        detail = api.client.get(f"/api/streams/{stream_id}", headers=owner.headers).json()
        assert detail["health"]["segments"] >= 1 and detail["health"]["dropped_segments"] == 0
        assert api.client.post(f"/api/streams/{stream_id}/stop", headers=owner.headers).status_code == 200
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            stopped = api.client.get(f"/api/streams/{stream_id}", headers=owner.headers).json()
            if stopped["state"] == "stopped":
                break
            time.sleep(0.5)
    assert stopped["state"] == "stopped" and not stopped["active"] and not stopped["stale"]
