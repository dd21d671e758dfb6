"""The learner on its own: shrinkage, clamping, held-out judging, and versions that are never overwritten."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from clipped.learn import (
    FitSettings,
    RankingWeights,
    accept,
    clamp_weights,
    default_weights,
    evaluate,
    fit_weights,
    learn_step,
    ndcg_at_k,
    outcomes_from_rows,
    spearman,
)
from clipped.learn.versions import learn_ranking_weights, list_versions, read_latest_weights, read_version, record_fit
from clipped.learn.weights import SUB_SCORES, WEIGHT_BOUNDS
from clipped_resources.storage import LocalStorage

NOW = datetime(2026, 3, 1, tzinfo=UTC)
TRUTH = {"hook": 0.10, "flow": 0.15, "value": 0.15, "energy": 0.60}
PLATFORMS = ("tiktok", "youtube", "instagram", "x")


def rows(count: int, *, seed: int = 0, truth: dict[str, float] = TRUTH, noise: float = 0.4) -> list[dict]:
    """Mart-shaped rows whose log views follow ``truth`` (10 log-views per score point) plus noise."""
    rng = np.random.default_rng(seed)
    out = []
    for index in range(count):
        scores = {name: float(rng.uniform(0.1, 0.95)) for name in SUB_SCORES}
        platform = PLATFORMS[index % len(PLATFORMS)]
        quality = sum(truth[name] * scores[name] for name in SUB_SCORES)
        log_views = 7.0 + 10.0 * (quality - 0.5) + 0.5 * (platform == "tiktok") + rng.normal(0.0, noise)
        out.append(
            {
                "publication_id": f"pub-{index:05d}",
                "workspace_id": "ws1",
                "clip_id": f"clip-{index:05d}",
                "platform": platform,
                **{f"score_{name}": scores[name] for name in SUB_SCORES},
                "duration_s": float(rng.uniform(15, 75)),
                "caption_style": "highlight_word",
                "posting_hour_local": int(rng.integers(24)),
                "days_since_post": int(rng.integers(3, 30)),
                "views": int(np.exp(log_views)),
            }
        )
    return out


def distance(weights: RankingWeights, target: dict[str, float]) -> float:
    return sum(abs(weights.weights[name] - target[name]) for name in SUB_SCORES)


def test_too_few_posts_keep_the_current_weights_and_say_why() -> None:
    current = default_weights("ws1")
    result = fit_weights(outcomes_from_rows(rows(12)), current, now=NOW)
    assert not result.fitted
    assert result.weights is current
    assert "12 usable posts, at least 30 needed" in result.reason


def test_few_posts_are_shrunk_toward_the_defaults_and_many_reach_the_truth() -> None:
    defaults = default_weights("ws1")
    few = outcomes_from_rows(rows(40, seed=1))
    shrunk = fit_weights(few, defaults, now=NOW).weights
    unshrunk = fit_weights(few, defaults, now=NOW, settings=FitSettings(prior_posts=0.0)).weights
    assert distance(shrunk, defaults.weights) < distance(unshrunk, defaults.weights)
    many = fit_weights(outcomes_from_rows(rows(2000, seed=2)), defaults, now=NOW).weights
    assert distance(many, TRUTH) < 0.1
    assert distance(many, TRUTH) < distance(shrunk, TRUTH)
    assert many.n_posts == 2000 and many.fitted_at == NOW and many.based_on_version == 0


def test_weights_are_clamped_to_bounds_and_sum_to_one() -> None:
    extreme = {"hook": 0.0, "flow": 0.0, "value": 0.02, "energy": 0.98}
    fitted = fit_weights(outcomes_from_rows(rows(3000, seed=3, truth=extreme, noise=0.1)), default_weights("ws1"))
    low, high = WEIGHT_BOUNDS
    assert sum(fitted.weights.weights.values()) == pytest.approx(1.0)
    assert all(low - 1e-6 <= value <= high + 1e-6 for value in fitted.weights.weights.values())
    assert fitted.weights.weights["energy"] == pytest.approx(high, abs=1e-6)
    assert clamp_weights({"hook": 5.0, "flow": 0.0, "value": 0.0, "energy": -1.0}) == pytest.approx(
        {"hook": 0.6, "flow": 0.4 / 3, "value": 0.4 / 3, "energy": 0.4 / 3}
    )
    assert clamp_weights(default_weights("ws1").weights) == pytest.approx(default_weights("ws1").weights)


def test_duration_bonus_stays_small() -> None:
    weights = RankingWeights(workspace_id="ws1", duration_terms={"15-30s": 0.05, "60s+": -0.05})
    bonus = weights.duration_bonus(np.array([10.0, 20.0, 40.0, 75.0]))
    assert bonus.tolist() == [0.0, 0.05, 0.0, -0.05]


def test_rank_measures() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=50), rng.normal(size=50)
    b[:10] = a[:10]
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic)
    ties = np.array([1.0, 1.0, 2.0, 3.0, 3.0])
    assert spearman(ties, np.arange(5.0)) == pytest.approx(spearmanr(ties, np.arange(5.0)).statistic)
    assert ndcg_at_k(b, b, 10) == pytest.approx(1.0)
    assert ndcg_at_k(-b, b, 10) < 0.2


def test_acceptance_refuses_a_worse_fit_and_takes_a_better_one() -> None:
    held_out = outcomes_from_rows(rows(200, seed=5))
    good = RankingWeights(workspace_id="ws1", weights=TRUTH)
    bad = RankingWeights(workspace_id="ws1", weights={"hook": 0.6, "flow": 0.25, "value": 0.1, "energy": 0.05})
    refused = accept(bad, good, held_out)
    assert not refused.accepted
    assert refused.new.spearman < refused.current.spearman
    assert "not better" in refused.reason
    taken = accept(good, bad, held_out)
    assert taken.accepted
    assert taken.new.spearman >= taken.current.spearman + 0.02
    # The same weights again are not "better by a margin".
    assert not accept(good, good, held_out).accepted
    assert not accept(good, bad, held_out[:6]).accepted  # too few held-out posts to judge


def test_evaluation_is_within_platform() -> None:
    held_out = outcomes_from_rows(rows(200, seed=6))
    result = evaluate(RankingWeights(workspace_id="ws1", weights=TRUTH), held_out)
    assert result.n_posts == 200
    assert 0.5 < result.spearman <= 1.0


def test_learn_step_records_both_evaluations() -> None:
    step = learn_step(outcomes_from_rows(rows(600, seed=7)), default_weights("ws1"), now=NOW)
    assert step.accepted, step.reason
    assert step.fit.metrics["spearman_new"] > step.fit.metrics["spearman_current"]
    assert step.current is step.fit


def test_missing_counts_are_not_zero_views() -> None:
    data = rows(3)
    data[0]["views"] = None
    data[1]["score_hook"] = None
    data[2]["days_since_post"] = 1  # too young to judge
    assert outcomes_from_rows(data) == []


def test_versions_keep_every_fit_and_latest_only_moves_on_acceptance(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    assert read_latest_weights(storage, "ws1").version == 0
    first = learn_ranking_weights(storage, "ws1", rows(600, seed=8), now=NOW)
    assert first.fit.version == 1 and first.fit.accepted and not first.reused
    assert read_latest_weights(storage, "ws1") == first.fit

    again = learn_ranking_weights(storage, "ws1", rows(600, seed=8), now=NOW)
    assert again.reused and again.fit.version == 1
    assert list_versions(storage, "ws1") == [1]

    worse = RankingWeights(
        workspace_id="ws1",
        weights={"hook": 0.6, "flow": 0.25, "value": 0.1, "energy": 0.05},
        accepted=False,
        reason="held-out Spearman lower",
    )
    refused = record_fit(storage, worse)
    assert refused.version == 2
    assert read_latest_weights(storage, "ws1").version == 1  # the refused fit is kept, not used
    assert read_version(storage, "ws1", 1) == first.fit  # never overwritten
    assert list_versions(storage, "ws1") == [1, 2]

    more = learn_ranking_weights(storage, "ws1", rows(900, seed=9), now=NOW)
    assert more.fit.version == 3 and more.previous.version == 1
    assert read_version(storage, "ws1", 1) == first.fit


def test_a_crash_between_version_and_latest_is_finished_by_the_next_run(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    first = learn_ranking_weights(storage, "ws1", rows(600, seed=10), now=NOW)
    storage.delete("ws1/learn/ranking_weights/latest.json")  # as if the run died after v1.json
    rerun = learn_ranking_weights(storage, "ws1", rows(600, seed=10), now=NOW)
    assert rerun.reused and rerun.current == first.fit
    assert read_latest_weights(storage, "ws1") == first.fit
