"""Enumerating clip windows: every (start, end) pair of boundaries whose span fits the duration bounds."""

from __future__ import annotations

import numpy as np


def spans_within(starts: np.ndarray, ends: np.ndarray, min_s: float, max_s: float) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs ``(i, j)``, ``i <= j``, with ``min_s <= ends[j] - starts[i] <= max_s``.

    ``starts[i]``/``ends[i]`` are the start and end of unit ``i`` (a sentence, or a boundary used as both),
    in time order. A two-pointer scan finds, for each start, the contiguous run of ends that fit; the pairs
    come back sorted by ``i`` then ``j``. O(units + windows).
    """
    count = len(starts)
    if count == 0 or len(ends) != count:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # ASR times can step back by a few ms; scanning the running maximum keeps the pointers monotone, and the
    # exact check below drops any pair that only fit because of it.
    reach = np.maximum.accumulate(np.asarray(ends, dtype=np.float64))
    first_fit = np.empty(count, dtype=np.int64)
    past_fit = np.empty(count, dtype=np.int64)
    low = high = 0
    for index in range(count):
        low = max(low, index)
        while low < count and reach[low] - starts[index] < min_s:
            low += 1
        high = max(high, low)
        while high < count and reach[high] - starts[index] <= max_s:
            high += 1
        first_fit[index], past_fit[index] = low, high
    lengths = np.maximum(past_fit - first_fit, 0)
    start_index = np.repeat(np.arange(count), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    end_index = np.repeat(first_fit, lengths) + offsets
    span = np.asarray(ends, dtype=np.float64)[end_index] - np.asarray(starts, dtype=np.float64)[start_index]
    fits = (span >= min_s) & (span <= max_s)
    return start_index[fits], end_index[fits]
