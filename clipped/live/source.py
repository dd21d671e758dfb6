"""Opening a live stream with streamlink: the URL policy on every request, and what the playlist says.

A page on an allowlisted site goes through streamlink's plugin for that site; an http(s) ``.m3u8`` URL is read as
HLS. Every HTTP request the session makes (the page, the playlist, each segment, each redirect) passes
:func:`clipped.ingest.url_policy.check_public_host` first, because a playlist may point its segments anywhere, and
is sent inside :func:`clipped.ingest.url_policy.public_connections_only`, which checks the address at the socket
(streamlink sends from its own threads, so the guard is set around each send, in the sending thread);
``file://`` is unmounted.

streamlink writes an HLS stream's segments one after another into the byte stream we read and only *logs* what
it skipped. :class:`SequenceTracker` sees each segment as streamlink's writer takes it (a subclass of the
stream's own writer, the extension point streamlink's plugins use) and turns sequence numbers into facts: a
gap (segments the playlist dropped before we read them), a discontinuity (``#EXT-X-DISCONTINUITY``), and across
reconnects the overlap to skip or the outage to count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from requests.adapters import BaseAdapter, HTTPAdapter

from clipped.ingest.url_policy import (
    ALLOWED_VIDEO_DOMAINS,
    BlockedConnectionError,
    DisallowedUrlError,
    Resolver,
    check_public_host,
    host_is_allowed,
    public_connections_only,
    resolve_host,
    validate_stream_url,
)
from clipped.media.ffmpeg import ffmpeg_exe

# A sequence number this far below the last one read is a restarted encoder, not a replay of the window.
MAX_OVERLAP_SEGMENTS = 30


class StreamOpenError(RuntimeError):
    """The stream could not be opened now (offline, no playable stream, network); worth retrying later."""


@dataclass(frozen=True)
class SourceEvent:
    """What the tracker learnt from the playlist, noted when streamlink wrote the segment concerned."""

    kind: str  # "gap", "discontinuity", "reset"
    noted_at: float  # time.monotonic()
    segments: int = 0
    duration_s: float = 0.0


@dataclass
class SequenceTracker:
    """Sequence numbers of the HLS segments written, across every connection of one recorder."""

    last_num: int | None = None
    last_duration_s: float = 0.0
    # How this connection's first new segment follows the last one recorded: "first" (nothing before), "next",
    # "gap" (the tracker counted what was lost), "reset" (numbers restarted); None until one was written.
    session_start: str | None = None
    events: list[SourceEvent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_session(self) -> None:
        with self.lock:
            self.session_start = None

    def take(self, segment_num: int, duration_s: float, discontinuity: bool) -> bool:
        """Note a segment streamlink is about to write; False when it was already recorded (skip it)."""
        with self.lock:
            noted = time.monotonic()
            start = "first" if self.last_num is None else "next"
            if self.last_num is not None and segment_num <= self.last_num:
                if self.last_num - segment_num <= MAX_OVERLAP_SEGMENTS:
                    return False  # a new connection starts inside what we already have: skip the repeat
                self.events.append(SourceEvent("reset", noted))  # numbers restarted: a new encoder
                start = "reset"
            elif self.last_num is not None and segment_num > self.last_num + 1:
                missing = segment_num - self.last_num - 1
                average = duration_s or self.last_duration_s
                self.events.append(SourceEvent("gap", noted, segments=missing, duration_s=missing * average))
                start = "gap"
            if self.session_start is None:
                self.session_start = start
            if discontinuity:
                self.events.append(SourceEvent("discontinuity", noted))
            self.last_num = segment_num
            self.last_duration_s = duration_s
            return True

    def drain(self) -> list[SourceEvent]:
        with self.lock:
            events, self.events = self.events, []
            return events


class OpenedStream(Protocol):
    """A stream being read: bytes of one continuous container (MPEG-TS or fragmented MP4)."""

    def read(self, size: int) -> bytes: ...

    def close(self) -> None: ...

    def ended(self) -> bool:
        """True once the source said it is over (``#EXT-X-ENDLIST`` read to the end)."""
        ...


StreamOpener = Callable[[str, SequenceTracker], OpenedStream]


@dataclass(frozen=True)
class StreamlinkOpener:
    """Opens URLs with a fresh streamlink session per connection, under the stream URL policy."""

    allowed_domains: tuple[str, ...] = ALLOWED_VIDEO_DOMAINS
    allow_loopback: bool = False  # tests only: the local HLS server
    resolver: Resolver = resolve_host
    read_timeout_s: float = 20.0
    live_edge: int = 2  # segments behind the newest one to start from: lower is sooner, higher is steadier
    quality: str = "best"

    def check(self, url: str) -> str:
        """The URL if it may be recorded, else :class:`DisallowedUrlError`."""
        return validate_stream_url(
            url, allowed_domains=self.allowed_domains, resolver=self.resolver, allow_loopback=self.allow_loopback
        )

    def __call__(self, url: str, tracker: SequenceTracker) -> OpenedStream:
        streamlink_class = load_streamlink()
        from streamlink.exceptions import NoPluginError, PluginError, StreamError

        url = self.check(url)
        session = streamlink_class(
            options={
                "hls-live-edge": self.live_edge,
                "stream-timeout": self.read_timeout_s,
                "hls-playlist-reload-attempts": 2,
                "ffmpeg-ffmpeg": ffmpeg_exe(),
            },
            plugins_builtin=True,
        )
        guard = _GuardedAdapter(self.resolver, self.allow_loopback)
        session.http.mount("http://", guard)
        session.http.mount("https://", guard)
        session.http.mount("file://", _RefusingAdapter())
        host = urlsplit(url).hostname or ""
        target = url if host_is_allowed(host, self.allowed_domains) else f"hls://{url}"
        try:
            streams = session.streams(target)
        except NoPluginError as exc:
            raise DisallowedUrlError(f"no streamlink plugin reads {url}") from exc
        except (PluginError, StreamError, OSError) as exc:
            if _blocked(exc):  # refused at the socket: a policy answer, not worth a retry
                raise DisallowedUrlError(f"{url} led to a connection to a non-public address") from exc
            raise StreamOpenError(f"cannot read {url}: {exc}") from exc
        if not streams:
            raise StreamOpenError(f"{url} has no playable stream (offline?)")
        stream = streams.get(self.quality) or streams.get("best") or next(iter(streams.values()))
        tracker.new_session()
        _install_tracking(stream, tracker)
        try:
            reader = stream.open()
        except (StreamError, OSError) as exc:
            raise StreamOpenError(f"cannot open {url}: {exc}") from exc
        return _StreamlinkReader(reader)


def load_streamlink() -> type:
    """streamlink's session class, imported only after yt-dlp's HTTP layer.

    Both libraries replace urllib3's ``_PERCENT_RE`` with a wrapper when imported. yt-dlp's wrapper forwards
    attributes with ``__getattribute__``, which cannot see the methods streamlink's wrapper only provides through
    ``__getattr__``: with streamlink first, every urllib3 URL in the process (streamlink's, yt-dlp's, boto3's) then
    fails with "object has no attribute 'sub'". With yt-dlp first, each wrapper works through the other.
    """
    import yt_dlp.networking  # noqa: F401  (for its side effect: patch urllib3 before streamlink does)
    from streamlink import Streamlink

    return Streamlink


class _StreamlinkReader:
    def __init__(self, reader: Any) -> None:
        self.reader = reader

    def read(self, size: int) -> bytes:
        return self.reader.read(size)

    def close(self) -> None:
        self.reader.close()

    def ended(self) -> bool:
        worker = getattr(self.reader, "worker", None)
        return worker is not None and getattr(worker, "playlist_end", None) is not None


def _install_tracking(stream: Any, tracker: SequenceTracker) -> None:
    """Give this stream object a reader whose writer reports each segment to ``tracker`` before writing it.

    Only segmented streams (HLS, including the site plugins' subclasses) have one; others go untracked and
    their outages are counted by the wall clock.
    """
    reader_class = getattr(stream, "__reader__", None)
    writer_class = getattr(reader_class, "__writer__", None)
    if reader_class is None or writer_class is None or not hasattr(writer_class, "write"):
        return

    class TrackingWriter(writer_class):  # type: ignore[misc, valid-type]
        def write(self, segment: Any, result: Any, *data: Any) -> None:
            is_map = bool(data and data[0] is True)
            if not is_map and not tracker.take(segment.num, float(segment.duration or 0.0), segment.discontinuity):
                _drain(result)
                return
            super().write(segment, result, *data)

    class TrackingReader(reader_class):  # type: ignore[misc, valid-type]
        __writer__ = TrackingWriter

    stream.__reader__ = TrackingReader


def _blocked(error: BaseException, depth: int = 0) -> bool:
    """True when ``error`` was caused by the socket guard (requests and streamlink wrap it a few levels deep)."""
    if isinstance(error, BlockedConnectionError):
        return True
    if depth > 8:
        return False
    linked = [error.__cause__, error.__context__, getattr(error, "reason", None), *error.args]
    return any(isinstance(item, BaseException) and _blocked(item, depth + 1) for item in linked)


def _drain(result: Any) -> None:
    raw = getattr(result, "raw", None)
    try:
        if raw is not None and hasattr(raw, "drain_conn"):
            raw.drain_conn()
        else:
            result.close()
    except Exception:  # a connection we are throwing away anyway
        pass


class _GuardedAdapter(HTTPAdapter):
    """Refuses a request (and so each redirect hop) to a host that is not public: by name first (a clear error),
    then at the socket, with the address actually connected to (a name that resolves differently by then)."""

    def __init__(self, resolver: Resolver, allow_loopback: bool) -> None:
        super().__init__()
        self.resolver = resolver
        self.allow_loopback = allow_loopback

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DisallowedUrlError(f"refused request to {request.url[:120]}")
        check_public_host(parts.hostname, resolver=self.resolver, allow_loopback=self.allow_loopback)
        with public_connections_only(allow_loopback=self.allow_loopback):  # this thread: the one sending
            return super().send(request, *args, **kwargs)


class _RefusingAdapter(BaseAdapter):
    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        raise DisallowedUrlError(f"refused request to {request.url[:120]}")

    def close(self) -> None:
        pass
