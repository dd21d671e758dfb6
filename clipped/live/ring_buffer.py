"""The disk-backed ring buffer of one stream: its recent segments in storage, evicted by age and by size.

Segments live under ``{workspace}/streams/{stream}/segments/``; ``index.json`` lists the ones kept (with their
times on the stream clock) and what happened to the stream. A moment that will become a clip *pins* its window
(``pins/{moment}.json``, with an expiry so a crashed clip job cannot pin forever): eviction never removes a
segment that overlaps a live pin, even when that keeps the buffer over its limits for a while. Pins are files,
not memory, because the clip may be cut by another process (a ``live_clip_job`` run) than the recorder's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from clipped.live.layout import INDEX_FILE, StreamRef
from clipped.live.models import RingIndex, RingLimits, SegmentRecord, now
from clipped.storage import Storage

PIN_TTL_S = 900.0


class Pin(BaseModel):
    moment_id: str
    start_s: float
    end_s: float
    expires_at: float


def pin_key(stream: StreamRef, moment_id: str) -> str:
    return stream.key(f"pins/{moment_id}.json")


def pin_window(
    storage: Storage, stream: StreamRef, moment_id: str, start_s: float, end_s: float, *, ttl_s: float = PIN_TTL_S
) -> None:
    """Keep the segments of ``[start_s, end_s]`` until :func:`unpin_window` (or ``ttl_s`` from now)."""
    storage.write_model(pin_key(stream, moment_id), Pin(moment_id=moment_id, start_s=start_s, end_s=end_s,
                                                         expires_at=now() + ttl_s))  # fmt: skip


def unpin_window(storage: Storage, stream: StreamRef, moment_id: str) -> None:
    storage.delete(pin_key(stream, moment_id))


def live_pins(storage: Storage, stream: StreamRef, at: float | None = None) -> list[Pin]:
    """The stream's pins that have not expired."""
    at = now() if at is None else at
    pins = []
    for key in storage.list_keys(stream.key("pins")):
        try:
            pin = storage.read_model(key, Pin)
        except (FileNotFoundError, ValueError):  # removed while listing, or half a file from an old crash
            continue
        if pin.expires_at > at:
            pins.append(pin)
    return pins


def load_index(storage: Storage, stream: StreamRef) -> RingIndex:
    """The stream's index, or an empty one before its first segment."""
    key = stream.key(INDEX_FILE)
    return storage.read_model(key, RingIndex) if storage.exists(key) else RingIndex()


class RingBuffer:
    """Adds segments to storage and evicts old ones; one writer per stream (the recorder), many readers.

    Every change is written to ``index.json`` before it returns, so readers in other processes (the sensor, a
    clip job) see a consistent list: a segment is in storage before it is listed, and unlisted before deleted.
    """

    def __init__(
        self,
        storage: Storage,
        stream: StreamRef,
        limits: RingLimits,
        index: RingIndex | None = None,
        clock: Callable[[], float] = now,
    ) -> None:
        self.storage = storage
        self.stream = stream
        self.limits = limits
        self.index = index if index is not None else load_index(storage, stream)
        self.clock = clock
        self.lock = threading.RLock()

    def add(
        self,
        local_file: Path,
        *,
        start_s: float,
        duration_s: float,
        session: int,
        discontinuity: bool = False,
    ) -> SegmentRecord:
        """Publish ``local_file`` as the next segment, then evict what the limits no longer allow."""
        with self.lock:
            sequence = self.index.next_sequence
            key = self.stream.segment_key(sequence)
            self.storage.put_file(local_file, key)
            record = SegmentRecord(
                sequence=sequence,
                key=key,
                start_s=round(start_s, 4),
                duration_s=round(duration_s, 4),
                size=local_file.stat().st_size,
                recorded_at=self.clock(),
                session=session,
                discontinuity=discontinuity,
            )
            self.index.segments.append(record)
            self.index.next_sequence = sequence + 1
            evicted = self._evictable()
            if evicted:
                gone = {segment.sequence for segment in evicted}
                self.index.segments = [s for s in self.index.segments if s.sequence not in gone]
                self.index.evicted += len(evicted)
            self.save()
            for segment in evicted:  # unlisted first: a reader never opens a listed segment that is gone
                self.storage.delete(segment.key)
            return record

    def save(self) -> None:
        with self.lock:
            self.storage.write_model(self.stream.key(INDEX_FILE), self.index)

    def _evictable(self) -> list[SegmentRecord]:
        """Oldest first: segments older than ``max_age_s`` behind the live edge, then more until the buffer fits
        ``max_bytes``; never one overlapping a live pin, never the newest."""
        segments = self.index.segments
        if len(segments) < 2:
            return []
        pins = live_pins(self.storage, self.stream, self.clock())

        def pinned(segment: SegmentRecord) -> bool:
            return any(segment.start_s < pin.end_s and segment.end_s > pin.start_s for pin in pins)

        edge = segments[-1].end_s
        size = sum(segment.size for segment in segments)
        chosen: list[SegmentRecord] = []
        for segment in segments[:-1]:
            too_old = edge - segment.end_s > self.limits.max_age_s
            too_big = size > self.limits.max_bytes
            if not (too_old or too_big):
                break
            if pinned(segment):
                continue
            chosen.append(segment)
            size -= segment.size
        return chosen

    def window(self, start_s: float, end_s: float) -> list[SegmentRecord]:
        """The kept segments that overlap ``[start_s, end_s]``, in order."""
        with self.lock:
            return segments_in(self.index, start_s, end_s)


def segments_in(index: RingIndex, start_s: float, end_s: float) -> list[SegmentRecord]:
    """Segments of ``index`` overlapping ``[start_s, end_s]``, in order."""
    return [s for s in index.segments if s.end_s > start_s and s.start_s < end_s]
