"""Live detection's pure parts: baselines, signals, clustering, the seed's fused score, clip windows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from clipped.live.chat import ChatReplay
from clipped.live.models import DetectionSettings, Gap, LiveClipSettings, LiveEvent
from clipped.live.scoring import WEIGHTS, anchor_of, cluster_events, find_moment, plan_window, score_cluster
from clipped.live.signals import Ewma, energy_events, hop_levels_db, keyword_events, sentiment_event
from clipped.types import Word


def event(kind: str, at: float, strength: float = 1.0, keyword: str | None = None) -> LiveEvent:
    return LiveEvent(kind=kind, at_s=at, strength=strength, keyword=keyword)  # type: ignore[arg-type]


def words(*items: tuple[str, float, float]) -> list[Word]:
    return [Word(word=text, start_s=start, end_s=end) for text, start, end in items]


def test_the_seed_weights_and_recency_decay() -> None:
    assert WEIGHTS == {"energy": 0.30, "keyword": 0.25, "scene_density": 0.15, "sentiment": 0.15, "game": 0.15}
    cluster = [event("loud_moment", 10.0, 0.8), event("keyword_trigger", 11.0, 1.0, "wow")]
    score, parts = score_cluster(cluster, cuts_s=[], live_edge_s=11.0)
    assert parts["energy"] == 0.8 and parts["keyword"] == 1.0 and parts["recency"] == 1.0
    assert score == pytest.approx(0.30 * 0.8 + 0.25)
    later, parts = score_cluster(cluster, cuts_s=[], live_edge_s=31.0)
    assert parts["recency"] == pytest.approx(math.exp(-0.2), abs=1e-3)
    assert later == pytest.approx(score * math.exp(-0.2), abs=1e-3)


def test_scene_density_counts_cuts_around_the_cluster() -> None:
    cluster = [event("loud_moment", 10.0), event("keyword_trigger", 12.0, 1.0), event("emotional_moment", 12.5),
               event("game_highlight", 12.6)]  # fmt: skip
    score, parts = score_cluster(cluster, cuts_s=[9.0, 10.5, 11.0, 12.0, 13.0, 40.0], live_edge_s=13.0)
    assert parts["scene_density"] == 1.0  # 5 cuts in 6.5 s is over one per two seconds
    assert all(parts[name] == 1.0 for name in WEIGHTS)
    assert score == pytest.approx(math.exp(-0.01 * 0.4), abs=1e-3)  # every signal full: only recency is left


def test_one_signal_alone_never_reaches_the_default_threshold() -> None:
    threshold = DetectionSettings().threshold
    for kind in ("loud_moment", "keyword_trigger", "emotional_moment", "crowd_reaction"):
        score, _ = score_cluster([event(kind, 5.0, 1.0)], cuts_s=[], live_edge_s=5.0)
        assert score <= threshold, kind


def test_clusters_split_on_quiet_gaps_and_the_anchor_is_the_weightiest_event() -> None:
    events = [event("keyword_trigger", 20.0), event("loud_moment", 1.0, 0.5), event("loud_moment", 5.0, 0.9)]
    clusters = cluster_events(events, gap_s=8.0)
    assert [[e.at_s for e in c] for c in clusters] == [[1.0, 5.0], [20.0]]
    assert anchor_of(clusters[0]).at_s == 5.0
    # energy (0.30 x 0.9) outweighs a keyword (0.25 x 1.0)
    assert anchor_of([event("keyword_trigger", 3.0), event("loud_moment", 4.0, 0.9)]).kind == "loud_moment"


def test_window_ends_post_roll_after_the_anchor_and_snaps_to_words() -> None:
    clips = LiveClipSettings(clip_s=30, post_roll_s=8)
    start, end = plan_window(50.0, clips, earliest_s=0.0, live_edge_s=70.0, not_before_s=0.0)
    assert (start, end) == (28.0, 58.0)
    spoken = words(("half", 27.5, 28.4), ("said", 57.8, 58.6))
    start, end = plan_window(50.0, clips, earliest_s=0.0, live_edge_s=70.0, not_before_s=0.0, words=spoken)
    assert (start, end) == (27.5, 58.6)


def test_window_never_spans_a_gap_nor_reaches_before_the_buffer() -> None:
    clips = LiveClipSettings(clip_s=30, post_roll_s=8)
    gap = Gap(at_s=35.0, duration_s=5.0, reason="sequence_gap")
    assert plan_window(50.0, clips, earliest_s=0.0, live_edge_s=70.0, not_before_s=0.0, gaps=[gap]) == (40.0, 58.0)
    after = Gap(at_s=55.0, duration_s=2.0, reason="reconnect")
    assert plan_window(50.0, clips, earliest_s=0.0, live_edge_s=70.0, not_before_s=0.0, gaps=[after]) == (25.0, 55.0)
    assert plan_window(50.0, clips, earliest_s=40.0, live_edge_s=70.0, not_before_s=0.0) == (40.0, 58.0)


def test_a_moment_waits_for_its_post_roll_and_the_threshold() -> None:
    detection = DetectionSettings(threshold=0.3)
    clips = LiveClipSettings(clip_s=20, post_roll_s=6)
    events = [event("loud_moment", 30.0, 0.9), event("keyword_trigger", 29.0, 1.0, "wow")]
    kwargs = {"cuts_s": [], "earliest_s": 0.0, "not_before_s": 0.0, "detection": detection, "clips": clips}
    assert find_moment(events, live_edge_s=34.0, **kwargs) is None  # post-roll not recorded yet
    plan = find_moment(events, live_edge_s=36.0, **kwargs)
    assert plan is not None and plan.anchor.kind == "loud_moment" and (plan.start_s, plan.end_s) == (16.0, 36.0)
    assert "keyword" in plan.reason and "loud burst" in plan.reason
    assert find_moment(events, live_edge_s=34.0, final=True, **kwargs) is not None  # the stream ended
    weak = [event("loud_moment", 30.0, 0.5)]
    assert find_moment(weak, live_edge_s=60.0, **kwargs) is None
    assert find_moment(events, live_edge_s=36.0, **{**kwargs, "not_before_s": 31.0}) is None  # already clipped


def test_ewma_z_scores_need_a_warm_baseline_and_learn_outliers_only_partly() -> None:
    baseline = Ewma()
    assert baseline.z(-20.0, 3.0) is None
    for _ in range(40):
        baseline.update(-30.0, 0.5, halflife_s=30.0)
    assert baseline.z(-30.0, 3.0) == pytest.approx(0.0)
    assert baseline.z(-18.0, 3.0) == pytest.approx(4.0)
    baseline.update(0.0, 0.5, halflife_s=30.0, clip_z=3.0)
    assert baseline.mean < -29.5  # a single burst barely moves the baseline


def test_energy_events_fire_on_a_burst_relative_to_the_stream_not_on_loud_but_steady_audio() -> None:
    rate = 16_000
    rng = np.random.default_rng(1)
    steady = (rng.standard_normal(rate * 20) * 0.3).astype(np.float32)  # loud, but always this loud
    baseline = Ewma()
    _, events = energy_events(hop_levels_db(steady, rate, 0.5), 0.0, 0.5, baseline, z_threshold=3.0, halflife_s=30)
    assert events == []
    burst = np.concatenate([(rng.standard_normal(rate) * 0.02), (rng.standard_normal(rate) * 0.9)]).astype(np.float32)
    quiet = Ewma()
    bed = (rng.standard_normal(rate * 20) * 0.02).astype(np.float32)
    energy_events(hop_levels_db(bed, rate, 0.5), 0.0, 0.5, quiet, z_threshold=3.0, halflife_s=30)
    z, events = energy_events(hop_levels_db(burst, rate, 0.5), 20.0, 0.5, quiet, z_threshold=3.0, halflife_s=30)
    assert len(events) == 1 and events[0].kind == "loud_moment" and events[0].at_s in (21.0, 21.5)
    assert max(z) > 3.0 and events[0].strength > 0.5


def test_keywords_match_whole_words_and_phrases_across_the_previous_words() -> None:
    context = words(("oh", 9.0, 9.2), ("my", 9.2, 9.4))
    new = words(("God!", 10.0, 10.3), ("that", 10.4, 10.6), ("was", 10.6, 10.8), ("wowza", 11.0, 11.5))
    found = keyword_events(new, ["oh my god", "wow", "that was"], {"that was": 0.4}, context)
    assert sorted((e.keyword, e.at_s, e.strength) for e in found) == [("oh my god", 9.0, 1.0), ("that was", 10.4, 0.4)]
    # a phrase wholly inside the context was reported with its own segment
    assert keyword_events(words(("later", 12.0, 12.2)), ["oh my"], {}, context) == []


def test_sentiment_rises_above_the_streams_usual() -> None:
    baseline = Ewma()
    for _ in range(10):
        sentiment_event(words(("the", 0, 1), ("plan", 1, 2), ("is", 2, 3), ("fine", 3, 4)), baseline, 2.0, 30.0)
    delta, found = sentiment_event(words(("wow", 0, 1), ("amazing!", 1, 2), ("incredible", 2, 3)), baseline, 2.0, 30)
    assert found is not None and found.kind == "emotional_moment" and delta > 0.5


def test_chat_replay_counts_stream_and_unix_times() -> None:
    replay = ChatReplay.parse(
        '{"t_s": 1.0}\n{"t_s": 2.5, "text": "x"}\nnot json\n{"ts": 1000.5}\n{"timestamp": 1003.0}\n'
    )
    assert replay.count(0.0, 2.0, origin_at=None) == 1
    assert replay.count(0.0, 3.0, origin_at=1000.0) == 3
    assert replay.count(2.9, 10.0, origin_at=1000.0) == 1
