"""Running baselines: what a track is usually like around each moment, so a moment is judged against its
surroundings (a lively stretch of a calm meeting, not the loudest minute of a concert recording)."""

from __future__ import annotations

import numpy as np

BASELINE_S = 180.0
"""Span of the running median: long enough that a one-minute highlight barely moves its own baseline."""


def running_median(values: np.ndarray, valid: np.ndarray, hop_s: float, span_s: float = BASELINE_S) -> np.ndarray:
    """Median of the ``valid`` ``values`` within ``span_s`` around each hop (the overall median of the valid
    values where none is near; zeros where none is valid at all).

    The median is taken every few hops and interpolated between, since a baseline moves over minutes.
    """
    values = np.asarray(values, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    count = len(values)
    if count == 0 or not valid.any():
        return np.zeros(count)
    overall = float(np.median(values[valid]))
    half = max(1, round(span_s / 2 / hop_s))
    stride = max(1, half // 8)
    anchors = np.arange(0, count, stride)
    medians = np.empty(len(anchors))
    for position, anchor in enumerate(anchors):
        low, high = max(0, anchor - half), anchor + half + 1
        near = values[low:high][valid[low:high]]
        medians[position] = float(np.median(near)) if len(near) else overall
    return np.interp(np.arange(count), anchors, medians)


def prefix_sums(values: np.ndarray) -> np.ndarray:
    """Cumulative sums with a leading zero, for O(1) window sums."""
    return np.concatenate(([0.0], np.cumsum(np.asarray(values, dtype=np.float64))))


def window_mean(prefix: np.ndarray, weight_prefix: np.ndarray, first: np.ndarray, past: np.ndarray) -> np.ndarray:
    """Weighted mean over hops ``[first, past)`` from prefix sums of ``value * weight`` and of ``weight``
    (0 where a window holds no weight)."""
    weight = weight_prefix[past] - weight_prefix[first]
    total = prefix[past] - prefix[first]
    return np.where(weight > 0, total / np.maximum(weight, 1e-9), 0.0)
