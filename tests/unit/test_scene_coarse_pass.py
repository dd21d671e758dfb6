"""Which stretches between keyframes the coarse scene pass hands to the full-rate scan (pure logic)."""

from __future__ import annotations

import numpy as np

from clipped.understand.scenes import _all_intra, _Keyframe, _suspect_ranges

FRAME_S = 0.04
GREY = np.full((9, 16, 3), 100, dtype=np.uint8)
WHITE = np.full((9, 16, 3), 255, dtype=np.uint8)


def keyframes(times: list[float], *, spikes: tuple[int, ...] = (), images: dict[int, np.ndarray] | None = None):
    frames = [
        _Keyframe(t_s=t, pts=i, image=(images or {}).get(i, GREY), spike_before=i in spikes, frame_s=FRAME_S)
        for i, t in enumerate(times)
    ]
    end = frames[-1].t_s + 2.0
    return [*frames, _Keyframe(t_s=end, pts=-1, image=None, frame_s=FRAME_S)]


def spans(ranges) -> list[tuple[float, float]]:
    return [(start.t_s, end.t_s) for start, end in ranges]


def test_regular_similar_keyframes_are_trusted_and_only_the_open_end_is_scanned() -> None:
    ranges = _suspect_ranges(keyframes([0.0, 2.0, 4.0, 6.0]), min_change=81.0)
    assert spans(ranges) == [(6.0, 8.0)]


def test_off_cadence_keyframe_marks_the_stretch_before_it() -> None:
    # x264 put a keyframe on a new shot at 5.2 s, between its regular 2 s ones.
    ranges = _suspect_ranges(keyframes([0.0, 2.0, 4.0, 5.2, 7.2, 9.2]), min_change=81.0)
    assert spans(ranges) == [(4.0, 5.2), (9.2, 11.2)]


def test_oversized_packet_and_changed_keyframes_mark_their_stretches_and_runs_merge() -> None:
    times = [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    ranges = _suspect_ranges(keyframes(times, spikes=(2,), images={3: WHITE}), min_change=81.0)
    # Spike before keyframe 2 (2-4 s); keyframe 3 differs from 2 (4-6 s) and from 4 (6-8 s): one run 2-8 s.
    assert spans(ranges) == [(2.0, 8.0), (10.0, 12.0)]


def test_sparse_keyframes_are_not_trusted() -> None:
    ranges = _suspect_ranges(keyframes([0.0, 10.0, *(10.0 + 2 * i for i in range(1, 10))]), min_change=81.0)
    assert spans(ranges) == [(0.0, 10.0), (28.0, 30.0)]


def test_all_intra_video_is_recognised() -> None:
    assert _all_intra(keyframes([i * FRAME_S for i in range(20)]))
    assert not _all_intra(keyframes([0.0, 2.0, 4.0, 6.0, 8.0]))
