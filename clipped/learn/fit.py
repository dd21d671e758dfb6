"""Fitting ranking weights: a ridge regression of realised engagement on the selector's sub-scores.

    log1p(views) ~ intercept + sum_s beta_s * sub_score_s + duration bucket + platform + caption style
                   + posting daypart + hook type (of the title, from the mart) + log1p(post age)

The sub-score coefficients are shrunk toward ``c * default weights`` (``c``: how many log-views one point of the
default score is worth in this workspace, estimated first), the rest toward zero. Each prior counts as
``prior_posts`` posts of evidence, so with few posts the weights stay near the defaults and with many the data
decide. The positive parts of the coefficients, scaled to sum to 1 and clamped, are the new weights: the
selector's scale, where the score is a weighted mean of 0..1 sub-scores. Duration coefficients are divided by
the same sum, so a bonus is in score points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from clipped.learn.outcomes import PostOutcome
from clipped.learn.weights import (
    MAX_DURATION_BONUS,
    SUB_SCORES,
    WEIGHT_BOUNDS,
    RankingWeights,
    clamp_weights,
    default_weights,
    duration_bucket,
)

DAYPARTS: tuple[tuple[str, int], ...] = (("night", 6), ("morning", 12), ("afternoon", 18), ("evening", 24))


@dataclass(frozen=True)
class FitSettings:
    """Knobs of a fit; the defaults are what the ``ranking_weights`` asset uses."""

    min_posts: int = 30
    prior_posts: float = 80.0
    context_prior_posts: float = 1.0
    bounds: tuple[float, float] = WEIGHT_BOUNDS
    max_duration_bonus: float = MAX_DURATION_BONUS

    def as_dict(self) -> dict[str, object]:
        return {
            "min_posts": self.min_posts,
            "prior_posts": self.prior_posts,
            "context_prior_posts": self.context_prior_posts,
            "bounds": list(self.bounds),
            "max_duration_bonus": self.max_duration_bonus,
        }


@dataclass(frozen=True)
class FitResult:
    """The fitted weights (or ``current`` when there was nothing to fit) and why."""

    weights: RankingWeights
    fitted: bool
    reason: str
    coefficients: dict[str, float] = field(default_factory=dict)


def fit_weights(
    outcomes: Sequence[PostOutcome],
    current: RankingWeights,
    *,
    prior: RankingWeights | None = None,
    settings: FitSettings | None = None,
    now: datetime | None = None,
) -> FitResult:
    """Weights that predict ``outcomes``' realised views from their sub-scores, shrunk toward ``prior``
    (default: the built-in weights). Keeps ``current`` (``fitted`` False, with the reason) when there are
    fewer than ``settings.min_posts`` posts or no sub-score raises views at all."""
    settings = settings or FitSettings()
    prior = prior or default_weights(current.workspace_id)
    count = len(outcomes)
    if count < settings.min_posts:
        reason = f"{count} usable posts, at least {settings.min_posts} needed: keeping the current weights"
        return FitResult(weights=current, fitted=False, reason=reason)
    y = np.array([outcome.target for outcome in outcomes])
    subs = np.array([[outcome.scores[name] for name in SUB_SCORES] for outcome in outcomes])
    durations, duration_names = _one_hot([duration_bucket(outcome.duration_s) for outcome in outcomes], "duration")
    context, context_names = _context_columns(outcomes)

    prior_weights = np.array([prior.weights[name] for name in SUB_SCORES])
    scale = _score_scale(y, subs @ prior_weights, context, settings)
    x = np.hstack([subs, durations, context])
    centre = np.array(
        [scale * w for w in prior_weights] + [0.0] * (durations.shape[1] + context.shape[1]), dtype=np.float64
    )
    strength = np.array(
        [settings.prior_posts] * (subs.shape[1] + durations.shape[1])
        + [settings.context_prior_posts] * context.shape[1]
    )
    beta = _ridge_toward(x, y, centre, strength)
    names = [*SUB_SCORES, *duration_names, *context_names]
    coefficients = {name: round(float(value), 6) for name, value in zip(names, beta, strict=True)}

    sub_beta = np.maximum(beta[: len(SUB_SCORES)], 0.0)
    if sub_beta.sum() <= 1e-9:
        reason = "no sub-score raised views in this workspace's posts: keeping the current weights"
        return FitResult(weights=current, fitted=False, reason=reason, coefficients=coefficients)
    weights = clamp_weights(dict(zip(SUB_SCORES, sub_beta.tolist(), strict=True)), settings.bounds)
    bonus = beta[len(SUB_SCORES) : len(SUB_SCORES) + durations.shape[1]] / sub_beta.sum()
    bonus = bonus - float(durations.mean(axis=0) @ bonus)  # zero on average over the posts, so scores keep scale
    bonus = np.clip(bonus, -settings.max_duration_bonus, settings.max_duration_bonus)
    duration_terms = {
        name.removeprefix("duration:"): round(float(value), 4)
        for name, value in zip(duration_names, bonus, strict=True)
    }
    context_terms = {name: coefficients[name] for name in context_names}
    fitted = RankingWeights(
        workspace_id=current.workspace_id,
        weights={name: round(value, 6) for name, value in weights.items()},
        duration_terms=duration_terms,
        context_terms=context_terms,
        fitted_at=now,
        n_posts=count,
        accepted=False,
        reason="fitted",
        based_on_version=current.version,
        metrics={"score_scale": round(scale, 4)},
    )
    return FitResult(weights=fitted, fitted=True, reason="fitted", coefficients=coefficients)


def _ridge_toward(x: np.ndarray, y: np.ndarray, centre: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """argmin ||y - a - X b||^2 + sum_j lambda_j (b_j - centre_j)^2, intercept ``a`` free.

    ``lambda_j = strength_j * var(X_j)``: a prior worth ``strength_j`` posts at that column's spread.
    """
    xc = x - x.mean(axis=0)
    yc = y - y.mean()
    variance = (xc**2).mean(axis=0)
    # A floor keeps the system solvable when a column is constant or one-hot levels add up to the intercept.
    penalty = np.diag(np.maximum(strength, 1e-3) * np.maximum(variance, 1e-9))
    gram = xc.T @ xc + penalty
    return centre + np.linalg.solve(gram, xc.T @ (yc - xc @ centre))


def _score_scale(y: np.ndarray, prior_score: np.ndarray, context: np.ndarray, settings: FitSettings) -> float:
    """Log-views per point of the prior's score, with the context held fixed; never below a quarter of the
    spread ratio, so the prior keeps pointing the defaults' way when the data alone show no slope."""
    x = np.hstack([prior_score[:, None], context])
    strength = np.array([0.0] + [settings.context_prior_posts] * context.shape[1])
    slope = float(_ridge_toward(x, y, np.zeros(x.shape[1]), strength)[0])
    spread = float(np.std(prior_score))
    floor = 0.25 * float(np.std(y)) / spread if spread > 0 else 1.0
    return max(slope, floor)


def _context_columns(outcomes: Sequence[PostOutcome]) -> tuple[np.ndarray, list[str]]:
    platform, platform_names = _one_hot([outcome.platform for outcome in outcomes], "platform")
    style, style_names = _one_hot([outcome.caption_style for outcome in outcomes], "caption_style")
    daypart, daypart_names = _one_hot([_daypart(outcome.posting_hour) for outcome in outcomes], "daypart")
    hook, hook_names = _one_hot([outcome.hook_type for outcome in outcomes], "hook_type")
    ages = np.array([outcome.age_days for outcome in outcomes], dtype=np.float64)
    known = ~np.isnan(ages)
    age = np.log1p(np.where(known, ages, np.nanmean(ages) if known.any() else 0.0))[:, None]
    columns = np.hstack([platform, style, daypart, hook, age])
    return columns, [*platform_names, *style_names, *daypart_names, *hook_names, "log1p_age_days"]


def _one_hot(values: Sequence[str], prefix: str) -> tuple[np.ndarray, list[str]]:
    """Indicator columns for every level seen (the ridge penalty makes a reference level unnecessary)."""
    levels = sorted(set(values))
    matrix = np.array([[value == level for level in levels] for value in values], dtype=np.float64)
    return matrix.reshape(len(values), len(levels)), [f"{prefix}:{level}" for level in levels]


def _daypart(hour: int | None) -> str:
    if hour is None or math.isnan(hour):
        return "unknown"
    for name, upper in DAYPARTS:
        if hour % 24 < upper:
            return name
    return "unknown"
