"""The loop learns: clips the selector made, engagement drawn from hidden true weights, several rounds of
publish → measure → fit → accept. The weights move toward the hidden ones and rank realised views better."""

from __future__ import annotations

import itertools

from clipped.learn.simulate import HiddenTruth, simulate


def test_the_learned_weights_approach_the_hidden_ones_and_rank_better() -> None:
    truth = HiddenTruth()
    reports = simulate(rounds=6, talks_per_round=8, seed=7, truth=truth)
    start, end = reports[0], reports[-1]
    assert start.version == 0 and start.n_posts == 0  # round 0: the built-in weights
    assert end.version >= 2, [report.reason for report in reports]  # more than one fit was accepted
    # Rank correlation between predicted and realised views on fresh clips: a clear gain over the defaults.
    assert end.spearman >= start.spearman + 0.2, (start.spearman, end.spearman)
    assert end.ndcg > start.ndcg
    # Distance to the hidden weights shrinks with every accepted fit, to well under half of the start.
    distances = [report.distance for report in reports]
    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(distances)), distances
    assert end.distance < 0.4 * start.distance
    # Every round either moved to a new version or said why it kept the old one.
    for earlier, later in itertools.pairwise(reports):
        assert later.accepted == (later.version == earlier.version + 1), later.reason
        assert later.reason


def test_no_signal_no_drift() -> None:
    """When views do not depend on the clip at all, fits are refused and the defaults stay."""
    noise_only = HiddenTruth(views_per_point=0.0)
    reports = simulate(rounds=3, talks_per_round=8, eval_talks=10, seed=3, truth=noise_only)
    assert all(not report.accepted for report in reports[1:]), [report.reason for report in reports]
    assert reports[-1].version == 0
