"""How the four sub-scores combine into one candidate score.

score = 0.30 hook + 0.25 flow + 0.25 value + 0.20 energy, each sub-score 0..1, so the score is 0..1.
The hook weighs most because viewers decide in the first seconds whether to keep watching a short.
"""

from __future__ import annotations

import numpy as np

WEIGHTS: dict[str, float] = {"hook": 0.30, "flow": 0.25, "value": 0.25, "energy": 0.20}


def combine(parts: dict[str, np.ndarray]) -> np.ndarray:
    """Weighted sum of the ``hook``, ``flow``, ``value`` and ``energy`` arrays, clipped to 0..1."""
    total = sum(weight * parts[name] for name, weight in WEIGHTS.items())
    return np.clip(np.asarray(total, dtype=np.float64), 0.0, 1.0)
