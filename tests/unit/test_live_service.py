"""The stream service: the per-workspace limit, stop, health and staleness, and one workspace never seeing
another's streams."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipped.ingest.url_policy import DisallowedUrlError, validate_stream_url
from clipped.live.layout import HEALTH_FILE, STOP_FILE, StreamRef
from clipped.live.models import StreamHealth, StreamRecord
from clipped.live.service import StreamLimitError, StreamNotFoundError, StreamService
from clipped_resources.profiles import streams_from_env
from clipped_resources.storage import LocalStorage
from clipped_resources.streams import LocalStreams


class FakeLauncher:
    def __init__(self) -> None:
        self.launched: list[str] = []
        self.running: dict[str, bool | None] = {}

    def launch(self, record: StreamRecord) -> None:
        self.launched.append(record.stream_id)

    def is_running(self, record: StreamRecord) -> bool | None:
        return self.running.get(record.stream_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def public(_host: str) -> list[str]:
    return ["142.250.74.14"]


@pytest.fixture
def world(tmp_path: Path) -> tuple[StreamService, FakeLauncher, Clock, LocalStorage]:
    storage = LocalStorage(root=str(tmp_path / "store"))
    launcher, clock = FakeLauncher(), Clock()
    service = StreamService(
        storage, launcher, check_url=lambda url: validate_stream_url(url, resolver=public), max_concurrent=3,
        stale_after_s=30.0, clock=clock,
    )  # fmt: skip
    return service, launcher, clock, storage


def beat(storage: LocalStorage, workspace: str, stream_id: str, clock: Clock, state: str = "recording") -> None:
    health = StreamHealth(state=state, updated_at=clock.now, started_at=clock.now, last_segment_at=clock.now - 1)
    storage.write_model(StreamRef(workspace, stream_id).key(HEALTH_FILE), health)


def test_a_workspace_records_at_most_its_limit_of_streams_at_once(world) -> None:
    service, launcher, clock, storage = world
    started = [service.start("ws1", f"https://www.twitch.tv/channel{n}") for n in range(3)]
    assert [s.state for s in started] == ["starting"] * 3 and len(launcher.launched) == 3
    with pytest.raises(StreamLimitError, match="limit 3"):
        service.start("ws1", "https://www.twitch.tv/one-more")
    assert len(service.list("ws1")) == 3
    # another workspace has its own limit
    assert service.start("ws2", "https://www.twitch.tv/channel0").active
    # a stopped stream, and one whose stream ended, free their places
    service.stop("ws1", started[0].stream_id)
    beat(storage, "ws1", started[1].stream_id, clock, state="ended")
    service.start("ws1", "https://www.twitch.tv/one-more")
    service.start("ws1", "https://www.twitch.tv/and-another")
    with pytest.raises(StreamLimitError):
        service.start("ws1", "https://www.twitch.tv/too-many")


def test_stop_asks_the_recorder_through_a_marker_and_is_idempotent(world) -> None:
    service, _, _, storage = world
    status = service.start("ws1", "https://cdn.example.com/live/index.m3u8")
    assert status.display_name == "live"
    stopped = service.stop("ws1", status.stream_id)
    assert stopped.desired == "stopped" and not stopped.active
    assert storage.exists(StreamRef("ws1", status.stream_id).key(STOP_FILE))
    assert service.stop("ws1", status.stream_id).desired == "stopped"


def test_health_ages_and_a_stale_recorder_is_restarted(world) -> None:
    service, launcher, clock, storage = world
    status = service.start("ws1", "https://www.twitch.tv/channel")
    beat(storage, "ws1", status.stream_id, clock)
    clock.now += 10
    fresh = service.get("ws1", status.stream_id)
    assert fresh.state == "recording" and fresh.heartbeat_age_s == 10.0 and fresh.last_segment_age_s == 11.0
    assert not fresh.stale and service.supervise("ws1") == []
    clock.now += 60
    assert service.get("ws1", status.stream_id).stale
    assert service.supervise("ws1") == [status.stream_id]
    assert launcher.launched == [status.stream_id, status.stream_id]
    assert service.record("ws1", status.stream_id).launches == 2
    # the new recorder has start_grace_s (it loads code and models first) to speak up before it is restarted again
    clock.now += 100
    assert not service.get("ws1", status.stream_id).stale and service.supervise("ws1") == []
    clock.now += 25
    assert service.supervise("ws1") == [status.stream_id] and len(launcher.launched) == 3
    # a launcher that knows its process died says so before the heartbeat would
    beat(storage, "ws1", status.stream_id, clock)
    launcher.running[status.stream_id] = False
    assert service.get("ws1", status.stream_id).stale


def test_a_stream_recorded_elsewhere_is_not_restarted_here(world) -> None:
    service, launcher, clock, storage = world
    record = service.register("ws1", "https://www.twitch.tv/channel")  # as `clipped stream URL` does
    beat(storage, "ws1", record.stream_id, clock)
    clock.now += 60
    assert service.get("ws1", record.stream_id).stale
    assert service.supervise("ws1") == [] and launcher.launched == []


def test_streams_of_another_workspace_are_not_found(world) -> None:
    service, _, _, _ = world
    theirs = service.start("ws2", "https://www.twitch.tv/channel")
    for call in (service.get, service.stop, service.moments, service.clips, service.record):
        with pytest.raises(StreamNotFoundError):
            call("ws1", theirs.stream_id)
    with pytest.raises(StreamNotFoundError):
        service.get("ws1", "../ws2")
    assert service.list("ws1") == []


def test_refused_urls_are_not_registered(world) -> None:
    service, launcher, _, _ = world
    with pytest.raises(DisallowedUrlError):
        service.start("ws1", "https://cdn.example.com/page.html")
    assert service.list("ws1") == [] and launcher.launched == []


def test_the_resource_builds_the_service_with_its_limit_and_keeps_loopback_off(tmp_path: Path) -> None:
    streams = LocalStreams(work_dir=str(tmp_path / "live"), max_concurrent_per_workspace=1)
    service = streams.service(LocalStorage(root=str(tmp_path / "store")))
    assert service.max_concurrent == 1 and service.runner == "local"
    with pytest.raises(DisallowedUrlError):
        service.register("ws1", "http://127.0.0.1:8000/live/index.m3u8")
    settings = streams.stream_settings(max_minutes=5, keywords=["gg"])
    assert settings.recorder.max_minutes == 5 and settings.detection.keywords == ["gg"]
    assert settings.clips.clip_s == 30 and settings.ring.max_age_s == 600
    assert settings.detection.faces  # the crop follows faces, as a VOD clip's does
    assert not LocalStreams(track_faces=False).stream_settings().detection.faces


def test_face_tracking_is_on_unless_the_environment_turns_it_off(tmp_path: Path, monkeypatch) -> None:
    assert streams_from_env("local", tmp_path).stream_settings().detection.faces
    monkeypatch.setenv("CLIPPED_STREAMS_TRACK_FACES", "0")
    assert not streams_from_env("local", tmp_path).stream_settings().detection.faces
    assert not streams_from_env("prod", tmp_path).stream_settings().detection.faces
