"""How the four sub-scores combine into one candidate score.

score = 0.30 hook + 0.25 flow + 0.25 value + 0.20 energy, each sub-score 0..1, so the score is 0..1.
The hook weighs most because viewers decide in the first seconds whether to keep watching a short.

A workspace's learned ranking (:class:`clipped.learn.RankingWeights`, fitted from realised engagement) may
replace these weights and add a small bonus per clip duration; without one the score is exactly the above.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

WEIGHTS: dict[str, float] = {"hook": 0.30, "flow": 0.25, "value": 0.25, "energy": 0.20}


class Ranking(Protocol):
    """What the selector needs of learned ranking weights (declared here so selection never imports learning)."""

    @property
    def weights(self) -> Mapping[str, float]:
        """One weight per sub-score in :data:`WEIGHTS`, summing to 1."""
        ...

    def duration_bonus(self, duration_s: np.ndarray) -> np.ndarray:
        """A small additive score adjustment per window for its duration (zeros when none was learned)."""
        ...


def combine(
    parts: Mapping[str, np.ndarray], ranking: Ranking | None = None, duration_s: np.ndarray | None = None
) -> np.ndarray:
    """Weighted sum of the ``hook``, ``flow``, ``value`` and ``energy`` arrays, clipped to 0..1.

    With a ``ranking``, its weights replace :data:`WEIGHTS` and its duration bonus for ``duration_s`` is added.
    """
    if ranking is None:
        total = sum(weight * parts[name] for name, weight in WEIGHTS.items())
        return np.clip(np.asarray(total, dtype=np.float64), 0.0, 1.0)
    learned = sum(ranking.weights[name] * parts[name] for name in WEIGHTS)
    if duration_s is not None:
        learned = learned + ranking.duration_bonus(np.asarray(duration_s, dtype=np.float64))
    return np.clip(np.asarray(learned, dtype=np.float64), 0.0, 1.0)


def weights_of(ranking: Ranking | None) -> Mapping[str, float]:
    """The sub-score weights in force: the ranking's, or the defaults."""
    return WEIGHTS if ranking is None else ranking.weights
