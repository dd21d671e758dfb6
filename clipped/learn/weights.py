"""Ranking weights: how much each sub-score (and a clip's duration) counts when the selector ranks windows.

Version 0 is the selector's built-in weights (:data:`clipped.select.scoring.WEIGHTS`); every fit of a workspace
gets the next version number, accepted or not, and the selector uses the latest accepted one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import numpy as np
from pydantic import BaseModel, Field, field_validator

from clipped.select.scoring import WEIGHTS

SUB_SCORES: tuple[str, ...] = tuple(WEIGHTS)
WEIGHT_BOUNDS = (0.05, 0.60)
"""No sub-score is ever ignored (each measures something viewers notice) and none takes over the ranking."""
MAX_DURATION_BONUS = 0.10
"""A duration bonus never outweighs a tenth of the 0..1 score: duration breaks near-ties, it does not select."""
DURATION_BUCKETS: tuple[tuple[str, float], ...] = (
    ("00-15s", 15.0),
    ("15-30s", 30.0),
    ("30-45s", 45.0),
    ("45-60s", 60.0),
    ("60s+", np.inf),
)
"""Bucket name and its exclusive upper bound in seconds, in order: the marts' ``duration_bucket`` labels."""


def duration_bucket(duration_s: float) -> str:
    """The bucket a clip length falls in (see :data:`DURATION_BUCKETS`)."""
    for name, upper in DURATION_BUCKETS:
        if duration_s < upper:
            return name
    return DURATION_BUCKETS[-1][0]


class RankingWeights(BaseModel):
    """One version of a workspace's ranking: sub-score weights (summing to 1), duration bonuses, and how the
    fit that produced it went.

    ``duration_terms`` are used by the selector; ``context_terms`` (platform, caption style, posting daypart,
    hook type, post age) were fitted alongside so they do not bias the sub-score weights, and are reported, not ranked
    on: every window of a source shares them.
    """

    version: int = 0
    workspace_id: str
    weights: dict[str, float] = Field(default_factory=lambda: dict(WEIGHTS))
    duration_terms: dict[str, float] = Field(default_factory=dict)
    context_terms: dict[str, float] = Field(default_factory=dict)
    target: str = "log1p_views"
    fitted_at: datetime | None = None
    n_posts: int = 0
    accepted: bool = True
    reason: str = "built-in default weights"
    based_on_version: int | None = None
    data_fingerprint: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)

    @field_validator("weights")
    @classmethod
    def _one_weight_per_sub_score(cls, weights: dict[str, float]) -> dict[str, float]:
        if set(weights) != set(SUB_SCORES) or any(value < 0 for value in weights.values()):
            raise ValueError(f"weights need one non-negative value for each of {', '.join(SUB_SCORES)}")
        return {name: float(weights[name]) for name in SUB_SCORES}

    def duration_bonus(self, duration_s: np.ndarray) -> np.ndarray:
        """The learned score adjustment of each window for its duration (zeros without duration terms)."""
        durations = np.asarray(duration_s, dtype=np.float64)
        if not self.duration_terms:
            return np.zeros(durations.shape)
        uppers = np.array([upper for _, upper in DURATION_BUCKETS])
        index = np.minimum(np.searchsorted(uppers, durations, side="right"), len(uppers) - 1)
        terms = np.array([self.duration_terms.get(name, 0.0) for name, _ in DURATION_BUCKETS])
        return terms[index]

    def score(self, scores: dict[str, float] | dict[str, np.ndarray], duration_s: float | np.ndarray) -> np.ndarray:
        """The selector's score (0..1) under these weights for sub-scores and durations (arrays or scalars)."""
        total = sum(self.weights[name] * np.asarray(scores[name], dtype=np.float64) for name in SUB_SCORES)
        total = total + self.duration_bonus(np.atleast_1d(np.asarray(duration_s, dtype=np.float64)))
        return np.clip(np.asarray(total, dtype=np.float64), 0.0, 1.0)

    def ranking_fingerprint(self) -> str:
        """A hash of what changes a ranking (weights and duration terms), for the candidates' stage fingerprint."""
        ranked = {"weights": self.weights, "duration_terms": self.duration_terms}
        return hashlib.sha256(json.dumps(ranked, sort_keys=True).encode()).hexdigest()[:16]

    def lineage(self) -> dict[str, object]:
        """What the candidates stage records about the weights it ranked with."""
        return {"ranking_weights_version": self.version, "ranking": self.ranking_fingerprint()}


def default_weights(workspace_id: str) -> RankingWeights:
    """Version 0: the selector's built-in weights, no duration bonus."""
    return RankingWeights(workspace_id=workspace_id)


def clamp_weights(raw: dict[str, float], bounds: tuple[float, float] = WEIGHT_BOUNDS) -> dict[str, float]:
    """Non-negative weights scaled to sum to 1, each within ``bounds``.

    Each weight is ``clip(t * raw, low, high)`` with the one scale ``t`` that makes them sum to 1 (found by
    bisection; the sum grows with ``t``), so weights inside the bounds keep their ratios.
    """
    low, high = bounds
    values = np.array([max(0.0, float(raw.get(name, 0.0))) for name in SUB_SCORES])
    if not len(values) * low <= 1.0 <= len(values) * high:
        raise ValueError(f"bounds {bounds} cannot hold {len(values)} weights summing to 1")
    if values.sum() <= 0:
        values = np.ones(len(values))
    # A zero share could never leave the low bound; a tiny floor lets every weight grow with t.
    values = np.maximum(values / values.sum(), 1e-6)
    lo_t, hi_t = 0.0, 1.0
    while np.clip(hi_t * values, low, high).sum() < 1.0:
        hi_t *= 2.0
    for _ in range(100):
        mid = (lo_t + hi_t) / 2
        if np.clip(mid * values, low, high).sum() < 1.0:
            lo_t = mid
        else:
            hi_t = mid
    clamped = np.clip(hi_t * values, low, high)
    clamped = clamped / clamped.sum()  # removes the bisection's last 1e-16
    return {name: float(value) for name, value in zip(SUB_SCORES, clamped, strict=True)}
