import itertools

import numpy as np

from clipped.understand.asr_audio import chunk_bounds

RATE = 100  # a low rate keeps the arrays small; the logic is rate-independent


def test_short_audio_is_one_chunk() -> None:
    assert chunk_bounds(np.ones(RATE * 800, dtype=np.float32), RATE, 600) == [(0, RATE * 800)]
    assert chunk_bounds(np.ones(RATE * 5000, dtype=np.float32), RATE, 0) == [(0, RATE * 5000)]


def test_chunks_cover_everything_and_cut_at_quiet_moments() -> None:
    audio = np.ones(RATE * 3600, dtype=np.float32)
    quiet_s = [590, 1185, 1770]
    for second in quiet_s:
        audio[second * RATE : second * RATE + RATE // 2] = 0.0
    bounds = chunk_bounds(audio, RATE, 600)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(audio)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    for (_, cut), second in zip(bounds, quiet_s, strict=False):
        assert second * RATE <= cut <= second * RATE + RATE // 2
    assert all(end - start <= 900 * RATE for start, end in bounds)
