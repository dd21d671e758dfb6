"""Which stream URLs may be recorded, and what the playlist's sequence numbers tell the recorder."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from clipped.ingest.url_policy import DisallowedUrlError, check_public_host, validate_stream_url, validate_video_url
from clipped.live.source import SequenceTracker, StreamlinkOpener


def public(_host: str) -> list[str]:
    return ["142.250.74.14"]


def private(_host: str) -> list[str]:
    return ["10.0.0.5"]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.twitch.tv/somechannel",
        "https://www.youtube.com/watch?v=abc",
        "https://cdn.example.com/live/index.m3u8",
        "http://cdn.example.com/live/index.m3u8?token=1",
    ],
)
def test_allowlisted_sites_and_public_hls_playlists_may_be_recorded(url: str) -> None:
    assert validate_stream_url(url, resolver=public) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://cdn.example.com/live/page.html", "not an HLS playlist"),
        ("https://cdn.example.com/live/index.m3u8", "private"),
        ("http://127.0.0.1/live/index.m3u8", "private"),
        ("http://169.254.169.254/latest/index.m3u8", "private"),
        ("https://cdn.example.com:8443/live/index.m3u8", "port"),
        ("https://user:pw@cdn.example.com/live/index.m3u8", "credentials"),
        ("rtmp://cdn.example.com/live/index.m3u8", "scheme"),
        ("file:///etc/passwd.m3u8", "scheme"),
    ],
)
def test_other_stream_urls_are_refused(url: str, reason: str) -> None:
    resolver = private if reason == "private" and "example" in url else public
    with pytest.raises(DisallowedUrlError, match=reason):
        validate_stream_url(url, resolver=resolver)


def test_loopback_is_only_allowed_when_a_test_asks_for_it() -> None:
    url = "http://127.0.0.1:8765/live/index.m3u8"
    with pytest.raises(DisallowedUrlError):
        validate_stream_url(url, resolver=public)
    with pytest.raises(DisallowedUrlError):
        validate_video_url(url, resolver=public)
    assert validate_stream_url(url, resolver=public, allow_loopback=True) == url
    assert validate_video_url(url, resolver=public, allow_loopback=True) == url
    # the allowance is for the loopback address only: other private addresses stay refused
    with pytest.raises(DisallowedUrlError):
        validate_stream_url("http://10.0.0.5/live/index.m3u8", resolver=public, allow_loopback=True)
    with pytest.raises(DisallowedUrlError):
        check_public_host("internal.example", resolver=private, allow_loopback=True)
    check_public_host("127.0.0.1", allow_loopback=True)


def test_tracker_counts_skipped_segments_as_a_gap() -> None:
    tracker = SequenceTracker()
    assert all(tracker.take(num, 2.0, False) for num in (10, 11, 12))
    assert tracker.take(16, 2.0, False)
    [gap] = tracker.drain()
    assert (gap.kind, gap.segments, gap.duration_s) == ("gap", 3, 6.0)
    assert tracker.drain() == []


def test_tracker_skips_what_a_new_connection_repeats_and_notes_its_start() -> None:
    tracker = SequenceTracker()
    for num in (10, 11, 12):
        tracker.take(num, 2.0, False)
    tracker.new_session()
    assert not tracker.take(11, 2.0, False)  # already recorded by the previous connection
    assert not tracker.take(12, 2.0, False)
    assert tracker.take(13, 2.0, False)
    assert tracker.session_start == "next" and tracker.drain() == []


def test_tracker_sees_discontinuities_and_restarted_numbering() -> None:
    tracker = SequenceTracker()
    for num in (500, 501):
        tracker.take(num, 2.0, False)
    tracker.new_session()
    assert tracker.take(0, 2.0, True)
    assert tracker.session_start == "reset"
    assert [event.kind for event in tracker.drain()] == ["reset", "discontinuity"]


def test_a_name_that_resolves_to_a_private_address_at_connect_time_is_refused_at_the_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: the name looked public when it was checked, then resolves to loopback when connecting."""
    real = socket.getaddrinfo

    def rebinding(host: str, *args: object, **kwargs: object) -> list:
        return real("127.0.0.1" if host == "cdn.example.com" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    opener = StreamlinkOpener(resolver=public)
    with pytest.raises(DisallowedUrlError, match="non-public address"):
        opener("http://cdn.example.com/live/index.m3u8", SequenceTracker())


def test_file_urls_never_reach_streamlink() -> None:
    with pytest.raises(DisallowedUrlError):
        StreamlinkOpener(resolver=public)("file:///etc/hosts.m3u8", SequenceTracker())


def test_streamlink_and_yt_dlp_can_share_a_process() -> None:
    """Both patch urllib3 on import; streamlink's patch must come second or every URL in the process breaks."""
    code = (
        "from clipped.live.source import load_streamlink; load_streamlink(); import yt_dlp; "
        "import urllib3.util.url as url; url._PERCENT_RE.sub; "
        "import urllib3; urllib3.util.parse_url('http://example.com/a%2Fb c'); print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "ok", result.stderr
