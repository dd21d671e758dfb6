"""Non-maximum suppression over time windows: keep the best, drop windows mostly covered by a kept one."""

from __future__ import annotations

import numpy as np

MAX_OVERLAP = 0.2
"""Clips of one source share at most a fifth of the shorter one: well under half, so none repeats another."""


def suppress_overlaps(
    start_s: np.ndarray, end_s: np.ndarray, scores: np.ndarray, keep: int, *, max_overlap: float = MAX_OVERLAP
) -> list[int]:
    """Indices of up to ``keep`` windows, best score first, no two overlapping by more than ``max_overlap``
    of the shorter one. Ties go to the earlier, then the shorter window, so the result is deterministic."""
    if keep <= 0 or len(scores) == 0:
        return []
    order = np.lexsort((end_s, start_s, -scores))
    alive = np.ones(len(scores), dtype=bool)
    lengths = end_s - start_s
    kept: list[int] = []
    for index in order:
        if not alive[index]:
            continue
        kept.append(int(index))
        if len(kept) == keep:
            break
        overlap = np.minimum(end_s, end_s[index]) - np.maximum(start_s, start_s[index])
        shorter = np.minimum(lengths, lengths[index])
        alive &= overlap <= max_overlap * shorter
    return kept
