"""The inbox's pure rules: when a file counts as complete, which names it considers, cheap validation."""

import pytest

from clipped.inbox.readiness import InboxCursor, SeenFile, is_candidate_name, split_ready
from clipped.inbox.validation import check_name_and_size
from clipped.storage import ObjectInfo

EXTENSIONS = [".mp4", ".mov", ".webm", ".mkv", ".m4v"]


def info(key: str, size: int = 100, version: str = "v1") -> ObjectInfo:
    return ObjectInfo(key=key, size=size, version=version)


def test_a_file_is_ready_only_after_looking_the_same_for_min_stable_s() -> None:
    first, seen = split_ready([info("ws/inbox/a.mp4")], set(), {}, now=100.0, min_stable_s=10)
    assert first == [] and seen["ws/inbox/a.mp4"].since == 100.0
    early, seen = split_ready([info("ws/inbox/a.mp4")], set(), seen, now=105.0, min_stable_s=10)
    assert early == [] and seen["ws/inbox/a.mp4"].since == 100.0, "unchanged keeps its first-seen time"
    ready, seen = split_ready([info("ws/inbox/a.mp4")], set(), seen, now=110.0, min_stable_s=10)
    assert [item.key for item in ready] == ["ws/inbox/a.mp4"] and seen == {}


@pytest.mark.parametrize("changed", [info("ws/inbox/a.mp4", size=200), info("ws/inbox/a.mp4", version="v2")])
def test_a_growing_or_rewritten_file_starts_settling_again(changed: ObjectInfo) -> None:
    previous = {"ws/inbox/a.mp4": SeenFile(size=100, version="v1", since=0.0)}
    ready, seen = split_ready([changed], set(), previous, now=500.0, min_stable_s=10)
    assert ready == [] and seen["ws/inbox/a.mp4"].since == 500.0


def test_a_done_marker_makes_a_file_ready_at_once() -> None:
    ready, seen = split_ready([info("ws/inbox/a.mp4")], {"ws/inbox/a.mp4"}, {}, now=1.0, min_stable_s=3600)
    assert [item.key for item in ready] == ["ws/inbox/a.mp4"] and seen == {}


@pytest.mark.parametrize(
    ("key", "considered"),
    [
        ("ws/inbox/talk.mp4", True),
        ("ws/inbox/sub/talk.mov", True),
        ("ws/inbox/talk.mp4.done", False),
        ("ws/inbox/talk.mp4.part", False),
        ("ws/inbox/talk.mp4.crdownload", False),
        ("ws/inbox/.talk.mp4.swp", False),
    ],
)
def test_markers_hidden_files_and_unfinished_copies_are_not_candidates(key: str, considered: bool) -> None:
    assert is_candidate_name(key) is considered


def test_cheap_checks_refuse_extension_empty_and_oversized_before_reading() -> None:
    assert check_name_and_size("talk.MP4", 10, EXTENSIONS, 100) is None
    assert check_name_and_size("notes.txt", 10, EXTENSIONS, 100).code == "bad_extension"
    assert check_name_and_size("noext", 10, EXTENSIONS, 100).code == "bad_extension"
    assert check_name_and_size("talk.mp4", 0, EXTENSIONS, 100).code == "empty"
    too_big = check_name_and_size("talk.mp4", 101, EXTENSIONS, 100)
    assert too_big.code == "too_large" and "limit" in too_big.reason


def test_cursor_round_trips_and_an_unreadable_one_starts_afresh() -> None:
    cursor = InboxCursor(seen={"ws/inbox/a.mp4": SeenFile(size=1, version="x", since=2.0)})
    assert InboxCursor.parse(cursor.dump()) == cursor
    assert InboxCursor.parse("not json") == InboxCursor()
    assert InboxCursor.parse(None) == InboxCursor()


def test_definitions_register_the_sensor_for_clip_job() -> None:
    from definitions import build_definitions

    sensor = build_definitions("local").resolve_sensor_def("source_video_upload_sensor")
    assert sensor.job_name == "clip_job" and sensor.minimum_interval_seconds == 30
    assert sensor.required_resource_keys >= {"storage", "inbox", "ingest"}


def test_inbox_from_env_reads_workspaces_and_clips_per_video(monkeypatch: pytest.MonkeyPatch) -> None:
    from clipped_resources.inbox import inbox_from_env

    monkeypatch.setenv("CLIPPED_INBOX_WORKSPACES", "acme, beta")
    monkeypatch.delenv("CLIPPED_INBOX_MAX_CLIPS", raising=False)
    assert (inbox_from_env().workspaces, inbox_from_env().max_clips) == (["acme", "beta"], 5)
    monkeypatch.setenv("CLIPPED_INBOX_MAX_CLIPS", "2")
    assert inbox_from_env().max_clips == 2
    monkeypatch.setenv("CLIPPED_INBOX_MAX_CLIPS", "two")
    with pytest.raises(ValueError, match="CLIPPED_INBOX_MAX_CLIPS"):
        inbox_from_env()
