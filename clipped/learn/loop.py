"""One turn of the learning loop: split the posts, fit on one part, judge on the other, accept or keep.

Posts are split by clip (a hash of its id), so one clip posted to several accounts never sits on both sides,
and a clip stays on the same side as posts accumulate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from clipped.learn.evaluate import ACCEPT_MARGIN, Decision, Evaluation, accept
from clipped.learn.fit import FitSettings, fit_weights
from clipped.learn.outcomes import PostOutcome
from clipped.learn.weights import RankingWeights

HELD_OUT_SHARE = 0.25


@dataclass(frozen=True)
class LearnStep:
    """A fit and its verdict: ``fit`` is the new version's content (accepted or not), ``current`` what the
    selector uses afterwards."""

    fit: RankingWeights
    accepted: bool
    reason: str
    current: RankingWeights
    before: Evaluation | None
    after: Evaluation | None


def split_held_out(
    outcomes: Sequence[PostOutcome], share: float = HELD_OUT_SHARE
) -> tuple[list[PostOutcome], list[PostOutcome]]:
    """(training, held-out) posts; a clip goes to held-out when its id hashes below ``share``."""
    train, held_out = [], []
    for outcome in outcomes:
        digest = hashlib.sha256(outcome.clip_id.encode()).digest()
        (held_out if int.from_bytes(digest[:8], "big") / 2**64 < share else train).append(outcome)
    return train, held_out


def learn_step(
    outcomes: Sequence[PostOutcome],
    current: RankingWeights,
    *,
    now: datetime | None = None,
    settings: FitSettings | None = None,
    margin: float = ACCEPT_MARGIN,
    held_out_share: float = HELD_OUT_SHARE,
) -> LearnStep:
    """Fit new weights on the training posts and accept them only if they rank the held-out posts better."""
    train, held_out = split_held_out(outcomes, held_out_share)
    result = fit_weights(train, current, settings=settings, now=now)
    if not result.fitted:
        kept = current.model_copy(
            update={
                "fitted_at": now,
                "n_posts": len(train),
                "accepted": False,
                "reason": result.reason,
                "based_on_version": current.version,
                "metrics": {},
            }
        )
        return LearnStep(fit=kept, accepted=False, reason=result.reason, current=current, before=None, after=None)
    decision: Decision = accept(result.weights, current, held_out, margin=margin)
    metrics = {
        **result.weights.metrics,
        "n_held_out": float(decision.new.n_posts),
        "spearman_current": round(decision.current.spearman, 4),
        "spearman_new": round(decision.new.spearman, 4),
        "ndcg_current": round(decision.current.ndcg, 4),
        "ndcg_new": round(decision.new.ndcg, 4),
    }
    fit = result.weights.model_copy(
        update={"accepted": decision.accepted, "reason": decision.reason, "metrics": metrics}
    )
    return LearnStep(
        fit=fit,
        accepted=decision.accepted,
        reason=decision.reason,
        current=fit if decision.accepted else current,
        before=decision.current,
        after=decision.new,
    )
