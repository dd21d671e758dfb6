"""Published clips and what they realised, as the learner reads them from the ``fct_clip_performance`` mart.

The target is ``log1p(views)`` at the latest snapshot. Views are what a better moment earns most directly and
every platform reports them; they are heavy-tailed (roughly log-normal), so the log makes a linear model fit
and keeps one viral post from deciding the weights. The engagement rate is a poor target here: it is NULL at
zero views, noisy on small view counts, and its parts differ by platform (saves are NULL where unreported).
Platform, post age, caption style and posting time explain views too; the fit controls for them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from clipped.layout import check_workspace_id
from clipped.learn.weights import SUB_SCORES

MIN_AGE_DAYS = 2.0
"""Counts of a post younger than this mostly say how fast the platform distributes, not how good the clip is."""
PERFORMANCE_TABLE = "fct_clip_performance"


@dataclass(frozen=True)
class PostOutcome:
    """One publication: the rendered clip's sub-scores and features, and the views it realised."""

    publication_id: str
    clip_id: str
    platform: str
    scores: dict[str, float]
    duration_s: float
    caption_style: str
    posting_hour: int | None
    age_days: float
    views: int
    hook_type: str = "unknown"

    @property
    def target(self) -> float:
        """What the learner predicts: log1p of the views at the latest snapshot."""
        return math.log1p(self.views)


def outcomes_from_rows(rows: Iterable[Mapping[str, Any]], *, min_age_days: float = MIN_AGE_DAYS) -> list[PostOutcome]:
    """The usable posts among mart rows: views reported (NULL is missing, never zero), all four sub-scores and
    the duration known, and at least ``min_age_days`` old. Sorted by publication id, so a fit is reproducible."""
    outcomes = []
    for row in rows:
        views = row.get("views")
        scores = {name: row.get(f"score_{name}") for name in SUB_SCORES}
        duration = row.get("duration_s")
        if views is None or duration is None or any(value is None for value in scores.values()):
            continue
        age = _age_days(row)
        if age is not None and age < min_age_days:
            continue
        hour = row.get("posting_hour_local")
        outcomes.append(
            PostOutcome(
                publication_id=str(row.get("publication_id")),
                clip_id=str(row.get("clip_id") or row.get("clip_ref") or row.get("publication_id")),
                platform=str(row.get("platform") or "unknown"),
                scores={name: float(value) for name, value in scores.items()},
                duration_s=float(duration),
                caption_style=str(row.get("caption_style") or "unknown"),
                posting_hour=None if hour is None else int(hour),
                age_days=age if age is not None else float("nan"),
                views=max(0, int(views)),
                hook_type=str(row.get("hook_type") or "unknown"),
            )
        )
    return sorted(outcomes, key=lambda outcome: outcome.publication_id)


def performance_query(workspace_id: str) -> str:
    """SQL for one workspace's rows of the performance mart; the id passes the key rules ([a-z0-9_-]) first, so
    quoting it inline is safe."""
    workspace = check_workspace_id(workspace_id)
    return f"select * from {PERFORMANCE_TABLE} where workspace_id = '{workspace}' order by publication_id"


def _age_days(row: Mapping[str, Any]) -> float | None:
    """Days from publishing to the snapshot: the mart's ``days_since_post``, else from the two timestamps."""
    days = row.get("days_since_post")
    if days is not None:
        return float(days)
    published = row.get("published_at")
    measured = row.get("captured_at") or row.get("snapshot_day")
    if isinstance(published, datetime) and isinstance(measured, datetime):
        return (measured - published).total_seconds() / 86400.0
    if isinstance(published, datetime) and isinstance(measured, date):
        return float((measured - published.date()).days)
    return None
