"""Events to moments: clustering, the fused score of seed 000 §10, and the clip window around a moment.

``score = recency × (0.30·energy + 0.25·keyword + 0.15·scene density + 0.15·sentiment + 0.15·game)``, capped at 1:

- energy: the strongest loud burst or crowd (chat) reaction in the cluster (0..1);
- keyword: the summed weights of the keywords said (capped at 1);
- scene density: scene cuts per second around the cluster, 1.0 at one cut every two seconds;
- sentiment: the strongest rise of emotive speech above the stream's usual;
- game: game events (none are detected yet: the HUD detector of the seed is not built, so this stays 0);
- recency: ``exp(-0.01 × seconds from the cluster's last event to the live edge)``.

With the default threshold (0.3) one signal alone never makes a moment (a burst at full strength gives 0.30 before
decay): a loud burst needs a keyword, a flurry of cuts or emotive speech with it. That keeps a noisy stream from
clipping every cheer, and is what "event-driven, corroborated" means here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from clipped.live.models import DetectionSettings, Gap, LiveClipSettings, LiveEvent
from clipped.types import Word

WEIGHTS = {"energy": 0.30, "keyword": 0.25, "scene_density": 0.15, "sentiment": 0.15, "game": 0.15}
RECENCY_PER_S = 0.01
FULL_SCENE_RATE = 0.5  # cuts per second counted as full scene density
SCENE_MARGIN_S = 2.0  # cuts this close around a cluster count for it
MIN_SCENE_SPAN_S = 4.0
WORD_SNAP_S = 1.5  # a window edge inside a word moves to the word's edge if it is this close
_SIGNAL_OF = {
    "loud_moment": "energy",
    "crowd_reaction": "energy",
    "keyword_trigger": "keyword",
    "emotional_moment": "sentiment",
    "game_highlight": "game",
}


@dataclass(frozen=True)
class MomentPlan:
    """A cluster that crossed the threshold, with its scores and the window to clip."""

    anchor: LiveEvent
    events: list[LiveEvent]
    score: float
    scores: dict[str, float]
    start_s: float
    end_s: float
    reason: str


def cluster_events(events: Sequence[LiveEvent], gap_s: float) -> list[list[LiveEvent]]:
    """Events in time order, split wherever two consecutive ones are more than ``gap_s`` apart."""
    clusters: list[list[LiveEvent]] = []
    for event in sorted(events, key=lambda e: e.at_s):
        if clusters and event.at_s - clusters[-1][-1].at_s <= gap_s:
            clusters[-1].append(event)
        else:
            clusters.append([event])
    return clusters


def score_cluster(cluster: Sequence[LiveEvent], cuts_s: Sequence[float], live_edge_s: float) -> tuple[float, dict]:
    """The fused score of ``cluster`` and its parts (each 0..1, plus ``recency``)."""

    def strongest(signal: str) -> float:
        return max((e.strength for e in cluster if _SIGNAL_OF[e.kind] == signal), default=0.0)

    first, last = cluster[0].at_s, cluster[-1].at_s
    span_start, span_end = first - SCENE_MARGIN_S, last + SCENE_MARGIN_S
    span = max(MIN_SCENE_SPAN_S, span_end - span_start)
    cuts = sum(span_start <= cut <= span_end for cut in cuts_s)
    scores = {
        "energy": strongest("energy"),
        "keyword": min(1.0, sum(e.strength for e in cluster if e.kind == "keyword_trigger")),
        "scene_density": min(1.0, cuts / span / FULL_SCENE_RATE),
        "sentiment": strongest("sentiment"),
        "game": min(1.0, sum(e.strength for e in cluster if e.kind == "game_highlight")),
    }
    recency = math.exp(-RECENCY_PER_S * max(0.0, live_edge_s - last))
    fused = sum(WEIGHTS[name] * value for name, value in scores.items())
    scores = {name: round(value, 3) for name, value in scores.items()} | {"recency": round(recency, 3)}
    return round(min(1.0, recency * fused), 4), scores


def anchor_of(cluster: Sequence[LiveEvent]) -> LiveEvent:
    """The event that weighs most in the score (the earliest of equals): the instant the clip is built around."""
    return max(cluster, key=lambda e: (WEIGHTS[_SIGNAL_OF[e.kind]] * e.strength, -e.at_s))


def plan_window(
    anchor_s: float,
    clips: LiveClipSettings,
    *,
    earliest_s: float,
    live_edge_s: float,
    not_before_s: float,
    gaps: Sequence[Gap] = (),
    words: Sequence[Word] = (),
) -> tuple[float, float]:
    """The clip around ``anchor_s``: ``clip_s`` long ending ``post_roll_s`` after it, inside what is recorded,
    after the previous moment's clip where that leaves at least half a clip, never across a gap, with edges
    moved out of half-spoken words."""
    end = min(anchor_s + clips.post_roll_s, live_edge_s)
    floor = earliest_s  # the clip starts no earlier than this: the buffer's start, or the end of a gap before it
    for gap in sorted(gaps, key=lambda g: g.at_s):
        gap_end = gap.at_s + gap.duration_s
        if gap.at_s > anchor_s:
            end = min(end, gap.at_s)
        elif gap_end > end - clips.clip_s:
            floor = max(floor, gap_end)
    start = max(floor, end - clips.clip_s)
    if not_before_s > start and end - not_before_s >= clips.clip_s / 2:
        start = not_before_s
    for word in words:
        if word.start_s < start < word.end_s and start - word.start_s <= WORD_SNAP_S and word.start_s >= earliest_s:
            start = word.start_s
        if word.start_s < end < word.end_s and word.end_s - end <= WORD_SNAP_S and word.end_s <= live_edge_s:
            end = word.end_s
    return round(start, 3), round(end, 3)


def describe(cluster: Sequence[LiveEvent], scores: dict[str, float]) -> str:
    """One line saying why: the strongest evidence of each kind, in score order."""
    parts = []
    for kind, label in (("loud_moment", "loud burst"), ("crowd_reaction", "chat surge"),
                        ("keyword_trigger", "keyword"), ("emotional_moment", "emotive speech"),
                        ("game_highlight", "game event")):  # fmt: skip
        found = [e for e in cluster if e.kind == kind]
        if found:
            best = max(found, key=lambda e: e.strength)
            parts.append(f"{label} ({best.detail})" if best.detail else label)
    if scores.get("scene_density", 0) > 0:
        parts.append(f"scene density {scores['scene_density']:.2f}")
    return "; ".join(parts)


def find_moment(
    events: Sequence[LiveEvent],
    *,
    cuts_s: Sequence[float],
    live_edge_s: float,
    earliest_s: float,
    not_before_s: float,
    detection: DetectionSettings,
    clips: LiveClipSettings,
    gaps: Sequence[Gap] = (),
    words: Sequence[Word] = (),
    final: bool = False,
) -> MomentPlan | None:
    """The first cluster of ``events`` that scores at least the threshold once its post-roll is recorded (or,
    with ``final``, when the stream is over and nothing more will be)."""
    for cluster in cluster_events([e for e in events if e.at_s >= not_before_s], detection.cluster_gap_s):
        anchor = anchor_of(cluster)
        if not final and live_edge_s < anchor.at_s + clips.post_roll_s:
            continue  # its clip is not recorded yet; and later clusters are later still
        score, scores = score_cluster(cluster, cuts_s, live_edge_s)
        if score < detection.threshold:
            continue
        start, end = plan_window(anchor.at_s, clips, earliest_s=earliest_s, live_edge_s=live_edge_s,
                                 not_before_s=not_before_s, gaps=gaps, words=words)  # fmt: skip
        if end - start < 1.0:
            continue
        return MomentPlan(anchor, list(cluster), score, scores, start, end, describe(cluster, scores))
    return None
