"""The ring buffer keeps a stream's recent segments within its age and size bounds, never a pinned one."""

from __future__ import annotations

from pathlib import Path

from clipped.live.layout import INDEX_FILE, StreamRef
from clipped.live.models import RingIndex, RingLimits
from clipped.live.ring_buffer import RingBuffer, live_pins, load_index, pin_window, unpin_window
from clipped_resources.storage import LocalStorage

STREAM = StreamRef("ws1", "channel-20260101-000000-abcd")
KB = 1000


def segment_file(folder: Path, size: int) -> Path:
    path = folder / "segment.ts"
    path.write_bytes(b"\x47" * size)
    return path


def fill(ring: RingBuffer, folder: Path, count: int, *, size: int = 100 * KB, duration_s: float = 2.0) -> None:
    for index in range(count):
        ring.add(segment_file(folder, size), start_s=index * duration_s, duration_s=duration_s, session=1)


def stored_segments(storage: LocalStorage) -> list[str]:
    return [key for key in storage.list_keys(STREAM.key("segments"))]


def test_size_bound_evicts_the_oldest_segments_from_the_index_and_storage(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "store"))
    ring = RingBuffer(storage, STREAM, RingLimits(max_age_s=10_000, max_bytes=500 * KB))
    fill(ring, tmp_path, 20)
    index = load_index(storage, STREAM)
    assert index.size <= 500 * KB
    assert [s.sequence for s in index.segments] == list(range(15, 20))
    assert index.evicted == 15 and index.next_sequence == 20
    assert stored_segments(storage) == [s.key for s in index.segments]
    assert sum(storage.size(key) for key in stored_segments(storage)) <= 500 * KB


def test_age_bound_keeps_only_the_last_max_age_seconds(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "store"))
    ring = RingBuffer(storage, STREAM, RingLimits(max_age_s=10.0, max_bytes=10**9))
    fill(ring, tmp_path, 30)
    index = ring.index
    assert index.live_edge_s == 60.0
    assert all(index.live_edge_s - s.end_s <= 10.0 for s in index.segments)
    assert [s.start_s for s in index.segments] == [48.0, 50.0, 52.0, 54.0, 56.0, 58.0]


def test_a_pinned_window_is_never_evicted_until_released(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "store"))
    ring = RingBuffer(storage, STREAM, RingLimits(max_age_s=10_000, max_bytes=300 * KB))
    fill(ring, tmp_path, 4)  # 0..8 s
    pin_window(storage, STREAM, "m0001", 2.5, 5.0)  # segments 1 (2-4 s) and 2 (4-6 s)
    for index in range(4, 12):
        ring.add(segment_file(tmp_path, 100 * KB), start_s=index * 2.0, duration_s=2.0, session=1)
    kept = [s.sequence for s in ring.index.segments]
    assert kept == [1, 2, 11]  # over nothing but the pin: the bound holds for everything else
    assert all(storage.exists(STREAM.segment_key(sequence)) for sequence in kept)
    unpin_window(storage, STREAM, "m0001")
    assert live_pins(storage, STREAM) == []
    ring.add(segment_file(tmp_path, 100 * KB), start_s=24.0, duration_s=2.0, session=1)
    assert [s.sequence for s in ring.index.segments] == [2, 11, 12]  # oldest first, once released


def test_an_expired_pin_does_not_hold_segments(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "store"))
    pin_window(storage, STREAM, "m0001", 0.0, 100.0, ttl_s=-1.0)
    ring = RingBuffer(storage, STREAM, RingLimits(max_age_s=10_000, max_bytes=200 * KB))
    fill(ring, tmp_path, 5)
    assert [s.sequence for s in ring.index.segments] == [3, 4]


def test_a_new_ring_buffer_carries_on_the_stored_index(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "store"))
    fill(RingBuffer(storage, STREAM, RingLimits()), tmp_path, 3)
    again = RingBuffer(storage, STREAM, RingLimits())
    record = again.add(segment_file(tmp_path, KB), start_s=6.0, duration_s=2.0, session=2)
    assert record.sequence == 3
    assert storage.read_model(STREAM.key(INDEX_FILE), RingIndex).next_sequence == 4
