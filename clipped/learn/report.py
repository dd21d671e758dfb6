"""Tables people read: a fit's weight changes (asset metadata) and the simulation's rounds (bench, README)."""

from __future__ import annotations

from collections.abc import Sequence

from clipped.learn.simulate import RoundReport
from clipped.learn.weights import DURATION_BUCKETS, SUB_SCORES, RankingWeights


def weight_changes_markdown(previous: RankingWeights, new: RankingWeights) -> str:
    """Sub-score weights and duration bonuses, before and after, with the change."""
    rows = [f"| term | v{previous.version} | new | change |", "|---|---|---|---|"]
    for name in SUB_SCORES:
        before, after = previous.weights[name], new.weights[name]
        rows.append(f"| {name} | {before:.3f} | {after:.3f} | {after - before:+.3f} |")
    for name, _ in DURATION_BUCKETS:
        before, after = previous.duration_terms.get(name, 0.0), new.duration_terms.get(name, 0.0)
        if before or after:
            rows.append(f"| duration {name} | {before:+.3f} | {after:+.3f} | {after - before:+.3f} |")
    return "\n".join(rows)


def context_markdown(weights: RankingWeights) -> str:
    """The fitted context effects (log-views), largest first: reported, not used for ranking."""
    rows = ["| context | effect on log views |", "|---|---|"]
    for name, value in sorted(weights.context_terms.items(), key=lambda item: -abs(item[1])):
        rows.append(f"| {name} | {value:+.3f} |")
    return "\n".join(rows)


def rounds_markdown(reports: Sequence[RoundReport]) -> str:
    """The simulation as a table: one row per round."""
    names = " | ".join(SUB_SCORES)
    rows = [
        f"| round | posts | weights | Spearman | NDCG@10 | L1 to hidden | {names} |",
        "|" + "---|" * (6 + len(SUB_SCORES)),
    ]
    for report in reports:
        weights = " | ".join(f"{report.weights[name]:.2f}" for name in SUB_SCORES)
        version = f"v{report.version}" + (" (new)" if report.accepted else "")
        rows.append(
            f"| {report.round} | {report.n_posts} | {version} | {report.spearman:.3f} | {report.ndcg:.3f} "
            f"| {report.distance:.3f} | {weights} |"
        )
    return "\n".join(rows)
