"""Judging weights on posts they were not fitted on: rank correlation and NDCG, and the accept rule.

Both measures are taken within each platform and averaged by post count: platforms differ in reach by orders
of magnitude, and the selector ranks moments, not platforms.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clipped.learn.outcomes import PostOutcome
from clipped.learn.weights import SUB_SCORES, RankingWeights

NDCG_K = 10
ACCEPT_MARGIN = 0.02
"""A new fit must beat the current weights' held-out rank correlation by this much (noise is not progress)."""
MIN_HELD_OUT = 10
MIN_GROUP = 3


@dataclass(frozen=True)
class Evaluation:
    """How well weights rank held-out posts: Spearman's rho and NDCG@k, and how many posts were ranked."""

    spearman: float
    ndcg: float
    n_posts: int

    def as_dict(self) -> dict[str, float]:
        return {"spearman": round(self.spearman, 4), "ndcg": round(self.ndcg, 4), "n_posts": self.n_posts}


@dataclass(frozen=True)
class Decision:
    """Whether a new fit replaces the current weights, why, and both evaluations."""

    accepted: bool
    reason: str
    current: Evaluation
    new: Evaluation


def rank(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their average rank."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def spearman(predicted: np.ndarray, realised: np.ndarray) -> float:
    """Spearman's rank correlation; 0 when either side is constant or there are fewer than two values."""
    if len(predicted) < 2:
        return 0.0
    a, b = rank(predicted), rank(realised)
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.sqrt((a**2).sum() * (b**2).sum()))
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def ndcg_at_k(predicted: np.ndarray, realised: np.ndarray, k: int = NDCG_K) -> float:
    """NDCG@k of the order ``predicted`` gives; a post's gain is its realised percentile rank (0 worst, 1 best),
    so one viral post does not swamp the measure. Ties in ``predicted`` are broken pessimistically."""
    count = len(predicted)
    if count == 0:
        return 0.0
    k = min(k, count)
    gains = (rank(realised) - 1) / max(count - 1, 1)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    order = np.lexsort((gains, -np.asarray(predicted, dtype=np.float64)))[:k]
    ideal = float(np.sort(gains)[::-1][:k] @ discounts)
    return float(gains[order] @ discounts) / ideal if ideal > 0 else 0.0


def predict(weights: RankingWeights, outcomes: Sequence[PostOutcome]) -> np.ndarray:
    """The selector's score of each post's clip under ``weights``."""
    scores = {name: np.array([outcome.scores[name] for outcome in outcomes]) for name in SUB_SCORES}
    return weights.score(scores, np.array([outcome.duration_s for outcome in outcomes]))


def evaluate(weights: RankingWeights, held_out: Sequence[PostOutcome], *, k: int = NDCG_K) -> Evaluation:
    """Spearman and NDCG@k of ``weights``' scores against realised views, within each platform, averaged by
    post count (platforms with fewer than 3 posts are left out)."""
    groups: dict[str, list[PostOutcome]] = defaultdict(list)
    for outcome in held_out:
        groups[outcome.platform].append(outcome)
    total = rho = gain = 0.0
    for posts in groups.values():
        if len(posts) < MIN_GROUP:
            continue
        predicted = predict(weights, posts)
        realised = np.array([post.target for post in posts])
        rho += len(posts) * spearman(predicted, realised)
        gain += len(posts) * ndcg_at_k(predicted, realised, k)
        total += len(posts)
    if total == 0:
        return Evaluation(spearman=0.0, ndcg=0.0, n_posts=0)
    return Evaluation(spearman=rho / total, ndcg=gain / total, n_posts=int(total))


def accept(
    new: RankingWeights,
    current: RankingWeights,
    held_out: Sequence[PostOutcome],
    *,
    margin: float = ACCEPT_MARGIN,
    min_held_out: int = MIN_HELD_OUT,
) -> Decision:
    """Accept ``new`` only when, on ``held_out`` posts, its rank correlation is above chance (one standard error
    of Spearman's rho under no relation) and beats ``current``'s by ``margin``, and its NDCG is not worse by more
    than ``margin``."""
    before, after = evaluate(current, held_out), evaluate(new, held_out)
    if after.n_posts < min_held_out:
        reason = f"only {after.n_posts} held-out posts to judge on, at least {min_held_out} needed"
        return Decision(False, reason, before, after)
    chance = 1.0 / math.sqrt(after.n_posts - 1)  # Spearman's standard error when nothing predicts anything
    if after.spearman < chance:
        reason = f"held-out Spearman {after.spearman:.3f} is within chance (< {chance:.3f} on {after.n_posts} posts)"
        return Decision(False, reason, before, after)
    gain = after.spearman - before.spearman
    if gain < margin:
        reason = f"held-out Spearman {after.spearman:.3f} vs current {before.spearman:.3f}: not better by {margin}"
        return Decision(False, reason, before, after)
    if after.ndcg < before.ndcg - margin:
        reason = f"held-out NDCG@{NDCG_K} fell from {before.ndcg:.3f} to {after.ndcg:.3f}"
        return Decision(False, reason, before, after)
    reason = (
        f"held-out Spearman {before.spearman:.3f} -> {after.spearman:.3f}, NDCG {before.ndcg:.3f} -> {after.ndcg:.3f}"
    )
    return Decision(True, reason, before, after)
