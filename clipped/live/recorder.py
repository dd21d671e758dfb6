"""The recorder: a live stream read by streamlink, cut by ffmpeg into short segments on a monotonic stream clock.

Per connection, streamlink's byte stream is piped into one ``ffmpeg -f segment`` (stream copy, ~2 s segments cut
at keyframes, timestamps reset in each segment, a CSV segment list). ffmpeg is told to smooth every timestamp
jump (``-dts_delta_threshold``), so within a connection its output is one continuous timeline of the media that
arrived; the stream clock adds what never arrived, from two witnesses:

- the playlist's sequence numbers (:class:`clipped.live.source.SequenceTracker`): segments streamlink skipped
  after a network gap, or the overlap/outage between two connections;
- the wall clock, when sequence numbers cannot say (a restarted encoder, a non-HLS stream): an outage between
  connections counts as the time between their segments less the new segment's length.

A gap is placed before the first segment published after it was noticed (at worst one segment off). Stalls (no
new segment for ``stall_after_s``), discontinuities and gaps are recorded in the ring buffer's index; the health
record (``health.json``) is the heartbeat, written on every segment and at least every ``heartbeat_s``.

The recorder reconnects with exponential backoff, ends cleanly when the playlist ends (``#EXT-X-ENDLIST``), gives
up when no media came for ``give_up_after_s``, and stops cleanly on :meth:`Recorder.stop` or when a stop marker
appears in storage (``control/stop.json``, how another process asks): the segment being written is finished
first, so every second received is kept.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clipped.ingest.url_policy import DisallowedUrlError
from clipped.live.layout import HEALTH_FILE, STOP_FILE, StreamRef
from clipped.live.models import (
    Discontinuity,
    Gap,
    SegmentRecord,
    Stall,
    StreamHealth,
    StreamSettings,
    StreamState,
    now,
)
from clipped.live.ring_buffer import RingBuffer
from clipped.live.source import OpenedStream, SequenceTracker, StreamOpener, StreamOpenError
from clipped.media.capabilities import child_process_options
from clipped.media.ffmpeg import ffmpeg_exe
from clipped.storage import Storage

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
POLL_S = 0.2
STOP_MARKER_EVERY_S = 1.0
MIN_WALL_GAP_S = 1.0  # shorter estimated outages are the jitter of two connections' start-up, not lost media
BITRATE_SEGMENTS = 10
TS_SYNC = 0x47


@dataclass
class _Session:
    """One connection: its ffmpeg, the thread feeding it, and where its segment list has been read to."""

    number: int
    work: Path
    opened: OpenedStream
    process: subprocess.Popen | None = None
    list_offset: int = 0
    published: int = 0
    pump_done: threading.Event = field(default_factory=threading.Event)
    pump_error: str | None = None
    eof: bool = False
    ended: bool = False  # the source said it is over and everything was read
    bytes_in: int = 0


class Recorder:
    """Records one stream into its ring buffer until it ends, is stopped, or is given up on."""

    def __init__(
        self,
        storage: Storage,
        stream: StreamRef,
        url: str,
        settings: StreamSettings,
        *,
        opener: StreamOpener,
        work_dir: Path,
        on_segment: Callable[[SegmentRecord], None] | None = None,
        on_health: Callable[[StreamHealth], None] | None = None,
        ffmpeg: str | None = None,
    ) -> None:
        self.storage = storage
        self.stream = stream
        self.url = url
        self.settings = settings.recorder
        self.opener = opener
        self.work_dir = work_dir
        self.on_segment = on_segment or (lambda _segment: None)
        self.on_health = on_health or (lambda _health: None)
        self.ffmpeg = ffmpeg or ffmpeg_exe()
        self.ring = RingBuffer(storage, stream, settings.ring)
        self.tracker = SequenceTracker()
        self.health = StreamHealth(host=socket.gethostname(), pid=os.getpid())
        self._stop = threading.Event()
        self._stop_reason = ""
        self._stop_checked = 0.0
        self._heartbeat_at = 0.0
        self._last_segment_mono: float | None = None  # when the newest segment was published
        self._progress_mono = time.monotonic()  # last media progress (or start), for stalls and giving up
        self._open_stall: Stall | None = None
        self._pending_wall_gap = False  # a new connection whose outage only the wall clock can measure
        self._clock_s = self.ring.index.live_edge_s  # stream time where the next segment starts

    # -- control ---------------------------------------------------------------------------------------------

    def stop(self, reason: str = "stopped on request") -> None:
        """Ask the recorder to finish the segment in progress and return; safe from any thread or signal."""
        if not self._stop.is_set():
            self._stop_reason = reason
            self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _check_stop_marker(self) -> None:
        mono = time.monotonic()
        if mono - self._stop_checked < STOP_MARKER_EVERY_S:
            return
        self._stop_checked = mono
        if self.storage.exists(self.stream.key(STOP_FILE)):
            self.stop("stopped on request")

    # -- main loop -------------------------------------------------------------------------------------------

    def run(self) -> StreamHealth:
        """Record until the stream ends, :meth:`stop` is called, or no media came for ``give_up_after_s``."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._set_state("starting")
        backoff = self.settings.reconnect_initial_s
        session_number = 0
        final: StreamState = "ended"
        try:
            while True:
                self._check_stop_marker()
                if self.stopping:
                    final = "stopped"
                    break
                try:
                    opened = self.opener(self.url, self.tracker)
                except DisallowedUrlError as exc:
                    self.health.error = str(exc)
                    final = "failed"
                    break
                except StreamOpenError as exc:
                    self.health.error = str(exc)
                    log.info("%s: %s; retrying in %.0f s", self.stream.partition_key, exc, backoff)
                else:
                    session_number += 1
                    if session_number > 1:
                        self.health.reconnects += 1
                        self._pending_wall_gap = True
                    outcome = self._record_session(opened, session_number)
                    if outcome.published:
                        backoff = self.settings.reconnect_initial_s
                        self.health.error = None
                    if outcome.ended:
                        final = "ended"
                        break
                    if self.stopping:
                        final = "stopped"
                        break
                    if outcome.pump_error:
                        self.health.error = outcome.pump_error
                if self._given_up():
                    final = "ended" if self.health.segments else "failed"
                    self.health.error = f"no media for {self.settings.give_up_after_s:.0f} s: {self.health.error or ''}"
                    break
                self._set_state("reconnecting")
                self._wait(backoff)
                backoff = min(backoff * 2, self.settings.reconnect_max_s)
        except BaseException:  # interrupted (Ctrl-C, a terminated run): what was recorded stays, cleanly
            final = "stopped"
            self.health.error = self.health.error or "interrupted"
            raise
        finally:
            self._close_stall()
            self.ring.save()
            self._set_state(final, force=True)
            shutil.rmtree(self.work_dir, ignore_errors=True)
        if final == "stopped" and self._stop_reason:
            log.info("%s: %s", self.stream.partition_key, self._stop_reason)
        return self.health

    def _given_up(self) -> bool:
        return time.monotonic() - self._progress_mono > self.settings.give_up_after_s

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            self._check_stop_marker()
            self._tick()
            time.sleep(POLL_S)

    # -- one connection --------------------------------------------------------------------------------------

    def _record_session(self, opened: OpenedStream, number: int) -> _Session:
        work = self.work_dir / f"session-{number:04d}"
        work.mkdir(parents=True, exist_ok=True)
        session = _Session(number=number, work=work, opened=opened)
        pump = threading.Thread(target=self._pump, args=(session,), daemon=True, name=f"live-pump-{number}")
        pump.start()
        try:
            self._follow(session, pump)
        except BaseException:
            opened.close()
            if session.process is not None and session.process.poll() is None:
                session.process.kill()
            raise
        self._publish_ready(session)
        session.ended = session.eof and opened.ended()
        shutil.rmtree(work, ignore_errors=True)
        return session

    def _follow(self, session: _Session, pump: threading.Thread) -> None:
        """Publish segments as ffmpeg finishes them until the connection is over (stopping it if asked)."""
        opened = session.opened
        closed = False
        while True:
            self._publish_ready(session)
            self._check_stop_marker()
            max_minutes = self.settings.max_minutes
            if max_minutes is not None and self._clock_s >= max_minutes * 60:
                self.stop(f"reached {max_minutes:g} minutes")
            if self.stopping and not closed:
                opened.close()  # unblocks the pump's read; ffmpeg then finishes the segment in progress
                closed = True
            self._tick()
            if session.pump_done.is_set() and (session.process is None or session.process.poll() is not None):
                break
            time.sleep(POLL_S)
        pump.join(timeout=5)
        if not closed:
            opened.close()

    def _pump(self, session: _Session) -> None:
        """Feed what streamlink reads into this connection's ffmpeg; started lazily on the first bytes."""
        try:
            while True:
                data = session.opened.read(READ_SIZE)
                if not data:
                    session.eof = True
                    break
                if session.process is None:
                    session.process = self._start_ffmpeg(session.work, data)
                session.bytes_in += len(data)
                assert session.process.stdin is not None
                session.process.stdin.write(data)
        except (OSError, ValueError) as exc:  # read timeout, closed reader, ffmpeg gone
            if not self.stopping:
                session.pump_error = f"connection lost: {exc}"
        finally:
            if session.process is not None and session.process.stdin is not None:
                with contextlib.suppress(OSError):
                    session.process.stdin.close()
            if session.process is not None:
                try:
                    session.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    session.process.kill()
                    session.process.wait()
            session.pump_done.set()

    def _start_ffmpeg(self, work: Path, first_bytes: bytes) -> subprocess.Popen:
        input_format = ["-f", "mpegts"] if _looks_like_ts(first_bytes) else []
        command = [
            self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
            # Smooth every timestamp jump: the stream clock adds lost time itself, from better witnesses.
            "-fflags", "+genpts+discardcorrupt", "-dts_delta_threshold", "0.5",
            *input_format, "-i", "pipe:0",
            "-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy", "-dn", "-sn",
            "-f", "segment", "-segment_time", f"{self.settings.segment_s:g}", "-segment_format", "mpegts",
            "-reset_timestamps", "1", "-segment_list", str(work / "segments.csv"), "-segment_list_type", "csv",
            str(work / "seg_%08d.ts"),
        ]  # fmt: skip
        log_file = (work / "ffmpeg.log").open("wb")
        try:
            return subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                **child_process_options(),
            )
        finally:
            log_file.close()

    # -- segments --------------------------------------------------------------------------------------------

    def _publish_ready(self, session: _Session) -> None:
        """Publish every segment ffmpeg has finished (listed in its CSV) into the ring buffer."""
        listing = session.work / "segments.csv"
        if not listing.exists():
            return
        with listing.open("rb") as handle:
            handle.seek(session.list_offset)
            chunk = handle.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        session.list_offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            name, _, times = line.strip().partition(",")
            start_text, _, end_text = times.partition(",")
            try:
                duration = float(end_text) - float(start_text)
            except ValueError:
                continue
            path = session.work / Path(name).name
            if duration <= 0 or not path.is_file() or path.stat().st_size == 0:
                path.unlink(missing_ok=True)
                continue
            self._publish(session, path, duration)
            path.unlink(missing_ok=True)

    def _publish(self, session: _Session, path: Path, duration_s: float) -> None:
        mono = time.monotonic()
        discontinuity = False
        for event in self.tracker.drain():
            if event.kind == "gap":
                self._note_gap(event.duration_s, "sequence_gap", segments=event.segments)
            else:  # a discontinuity tag, or sequence numbers that restarted
                discontinuity = True
        if session.published == 0 and self._pending_wall_gap:
            self._pending_wall_gap = False
            if self.tracker.session_start in (None, "reset", "first") and self._last_segment_mono is not None:
                outage = mono - self._last_segment_mono - duration_s
                if outage >= MIN_WALL_GAP_S:
                    self._note_gap(outage, "reconnect")
        if discontinuity:
            self.ring.index.discontinuities.append(Discontinuity(at_s=round(self._clock_s, 3)))
        record = self.ring.add(
            path, start_s=self._clock_s, duration_s=duration_s, session=session.number, discontinuity=discontinuity
        )
        session.published += 1
        self._clock_s = record.end_s
        self._last_segment_mono = mono
        self._progress_mono = mono
        if not session.pump_done.is_set():
            # Media is flowing again. A segment ffmpeg only finished because its input ended is not that: it is
            # old media, flushed as the connection closed, and the stall it belongs to goes on.
            self._close_stall()
        self.health.segments += 1
        self.health.last_segment_at = record.recorded_at
        self.health.live_edge_s = record.end_s
        self._set_state("recording" if self._open_stall is None else self.health.state, force=True)
        try:
            self.on_segment(record)
        except Exception:  # a listener's failure must not stop the recording
            log.exception("%s: segment listener failed", self.stream.partition_key)

    def _note_gap(self, duration_s: float, reason: str, *, segments: int | None = None) -> None:
        gap = Gap(at_s=round(self._clock_s, 3), duration_s=round(duration_s, 3), segments=segments, reason=reason)
        self.ring.index.gaps.append(gap)
        self._clock_s += duration_s
        log.warning("%s: gap of %.1f s at %.1f s (%s)", self.stream.partition_key, duration_s, gap.at_s, reason)

    # -- stalls and heartbeats -------------------------------------------------------------------------------

    def _tick(self) -> None:
        mono = time.monotonic()
        idle = mono - self._progress_mono
        if self._open_stall is None and idle > self.settings.stall_after_s and self.health.state != "starting":
            self._open_stall = Stall(at_s=round(self._clock_s, 3), started_at=round(now() - idle, 3))
            self.ring.index.stalls.append(self._open_stall)
            self.ring.save()
            if self.health.state == "recording":
                self._set_state("stalled")
        if mono - self._heartbeat_at >= self.settings.heartbeat_s:
            self._write_health()

    def _close_stall(self) -> None:
        if self._open_stall is not None:
            self._open_stall.duration_s = round(now() - self._open_stall.started_at, 3)
            self._open_stall = None
            self.ring.save()

    def _set_state(self, state: StreamState, *, force: bool = False) -> None:
        changed = state != self.health.state
        self.health.state = state
        if changed or force:
            self._write_health()

    def _write_health(self) -> None:
        index = self.ring.index
        recent = index.segments[-BITRATE_SEGMENTS:]
        seconds = sum(segment.duration_s for segment in recent)
        health = self.health
        health.updated_at = now()
        health.kept_segments = len(index.segments)
        health.kept_bytes = index.size
        health.bitrate_kbps = round(sum(s.size for s in recent) * 8 / seconds / 1000, 1) if seconds else 0.0
        health.gaps = len(index.gaps)
        health.gap_s = round(sum(gap.duration_s for gap in index.gaps), 3)
        health.dropped_segments = sum(gap.segments or 0 for gap in index.gaps)
        health.stalls = len(index.stalls)
        health.discontinuities = len(index.discontinuities)
        self._heartbeat_at = time.monotonic()
        try:
            self.storage.write_model(self.stream.key(HEALTH_FILE), health)
        except OSError:
            log.exception("%s: cannot write the heartbeat", self.stream.partition_key)
        try:
            self.on_health(health.model_copy())
        except Exception:
            log.exception("%s: health listener failed", self.stream.partition_key)


def _looks_like_ts(data: bytes) -> bool:
    return len(data) > 188 and data[0] == TS_SYNC and data[188] == TS_SYNC
