"""Proof that the loop learns: engagement drawn from hidden true weights for clips the selector produced.

Each round publishes the top clips the current weights pick from fresh synthetic talks, draws their views from
a hidden model (log-normal: ``log views = platform base + k * true score + context + noise``), fits and judges
new weights on everything measured so far, and reports how well the weights then in use rank a fixed pool of
fresh candidates (Spearman and NDCG@10 against their realised views) and how far they are from the hidden
weights. The talks are made of sentences with the cues the selector scores (questions, "you", numbers, key-point
phrases, names, continuations, fillers), at varied pace and pauses, with a loudness track and cuts, so the
sub-scores and their correlations are the real selector's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from clipped.learn.evaluate import evaluate
from clipped.learn.fit import FitSettings
from clipped.learn.loop import learn_step
from clipped.learn.outcomes import PostOutcome, outcomes_from_rows
from clipped.learn.weights import SUB_SCORES, RankingWeights, default_weights, duration_bucket
from clipped.select.candidates import select_candidates
from clipped.select.errors import NoCandidatesError
from clipped.types import AudioFeatures, Candidate, ClipSettings, Scenes, Segment, Transcript, Word

WORKSPACE = "sim"
PLATFORMS = {"tiktok": 8.0, "youtube": 6.5, "instagram": 7.0, "x": 5.0}  # log-views of an average clip
CAPTION_STYLES = {"highlight_word": 0.10, "karaoke": 0.0, "plain": -0.15}
HOUR_EFFECT = {"night": -0.3, "morning": 0.0, "afternoon": 0.1, "evening": 0.25}
SETTINGS = ClipSettings(max_clips=5, min_duration_s=15.0, max_duration_s=75.0)
START = datetime(2026, 2, 1, tzinfo=UTC)

SENTENCES: dict[str, list[str]] = {
    "question": [
        "Why do most people get this completely wrong?",
        "What would you do with ten extra hours every week?",
        "Have you ever wondered why prices keep going up?",
        "How did the team fix the engine in 1970?",
        "Do you know what actually happens when you sleep?",
        "Why does nobody talk about this?",
    ],
    "you": [
        "You can double your savings with one small habit.",
        "If you remember one thing today, remember this.",
        "You have probably made this mistake yourself.",
        "Your brain is lying to you about time.",
    ],
    "number": [
        "We tested 37 different strategies over 5 years.",
        "It took 400 engineers three months to ship it.",
        "Sales grew by 12 percent in a single quarter.",
        "Only 2 out of 100 startups reach that stage.",
    ],
    "trigger": [
        "Here's the key lesson from all of this.",
        "This is the most important part of the whole story.",
        "The secret is that nobody checks the defaults.",
        "The truth is the plan never mattered.",
    ],
    "name": [
        "Marie Curie won two Nobel Prizes in different sciences.",
        "Tesla and Edison fought for years over power lines.",
        "At Google the rule was written on every whiteboard.",
        "Ada Lovelace wrote the first program for the Analytical Engine.",
    ],
    "flat": [
        "The weather was fine that morning.",
        "We went back to the office after lunch.",
        "It was a long day for everyone involved.",
        "The meeting ran late again on Thursday.",
        "The room had a large table and a few chairs.",
        "Later the group walked down to the station together.",
        "Nothing much changed over the next few weeks.",
        "The report was finished and sent out on time.",
    ],
    "continuation": [
        "And then we just kept going with it.",
        "But it did not work out the way we hoped.",
        "So we tried the whole thing again.",
        "And that was more or less the end of it.",
    ],
    "filler": [
        "Um, anyway, that was that.",
        "Well, it happens to everyone sometimes.",
        "Like, the details are not that interesting.",
    ],
}


@dataclass(frozen=True)
class HiddenTruth:
    """What really drives views in the simulated world (unknown to the learner).

    The default audience rewards lively delivery far more, and hook cues far less, than the built-in weights
    assume, and prefers short clips: far enough from the defaults that learning has something to find, inside
    the weight bounds so it can be found.
    """

    weights: dict[str, float] = field(
        default_factory=lambda: {"hook": 0.10, "flow": 0.15, "value": 0.15, "energy": 0.60}
    )
    duration_effect: dict[str, float] = field(
        default_factory=lambda: {"00-15s": 0.06, "15-30s": 0.06, "30-45s": 0.02, "45-60s": -0.02, "60s+": -0.06}
    )
    views_per_point: float = 10.0
    """Log-views per point of true score: 0.1 more score is e^1 ≈ 2.7× the views."""
    noise_sigma: float = 0.6
    age_effect: float = 0.35
    """Log-views per log1p(day) of age: counts are cumulative."""

    def score(self, scores: dict[str, float], duration_s: float) -> float:
        """The hidden true quality of a clip (the simulated world's equivalent of the selector's score)."""
        base = sum(self.weights[name] * scores[name] for name in SUB_SCORES)
        return base + self.duration_effect[duration_bucket(duration_s)]


@dataclass(frozen=True)
class RoundReport:
    """The state after one round: weights in use and how well they rank the evaluation pool."""

    round: int
    n_posts: int
    version: int
    accepted: bool
    reason: str
    spearman: float
    ndcg: float
    distance: float
    weights: dict[str, float]


def synthetic_talk(rng: np.random.Generator, minutes: float = 5.0) -> tuple[Transcript, AudioFeatures, Scenes]:
    """A talk of about ``minutes``: sentences with a speaker's own mix of cues, pace and liveliness."""
    kinds = list(SENTENCES)
    mix = rng.dirichlet(np.array([1.0, 0.8, 0.8, 0.8, 0.8, 3.0, 1.2, 0.8]) * 1.5)
    pace = rng.uniform(1.8, 3.8)  # words per second
    liveliness = rng.uniform(1.0, 5.0)  # dB spread of sentence loudness
    words: list[Word] = []
    sentence_levels: list[tuple[float, float, float]] = []
    t = 0.5
    while t < minutes * 60:
        kind = kinds[int(rng.choice(len(kinds), p=mix))]
        text = SENTENCES[kind][int(rng.integers(len(SENTENCES[kind])))]
        local_pace = pace * rng.uniform(0.75, 1.3)
        start = t
        for token in text.split():
            length = max(0.12, len(token) / (5.0 * local_pace))
            words.append(Word(word=token, start_s=round(t, 3), end_s=round(t + length, 3)))
            t += length + (rng.uniform(0.6, 1.6) if rng.random() < 0.03 else 1.0 / local_pace - length * 0.8)
            t = max(t, words[-1].end_s + 0.02)
        sentence_levels.append((start, t, float(rng.normal(0.0, liveliness))))
        t += rng.uniform(0.15, 0.9) if rng.random() > 0.1 else rng.uniform(1.0, 2.5)
    duration = t + 1.0
    hop = 0.5
    levels = np.full(int(duration / hop) + 1, -48.0) + rng.normal(0.0, 1.0, int(duration / hop) + 1)
    for start, end, lift in sentence_levels:
        first, past = int(start / hop), math.ceil(end / hop)
        levels[first:past] = -22.0 + lift + rng.normal(0.0, 1.5, past - first)
    median = float(np.median(levels))
    is_peak = (levels[1:-1] > levels[:-2]) & (levels[1:-1] >= levels[2:]) & (levels[1:-1] > median + 6.0)
    peaks = [round((index + 1) * hop, 3) for index in np.flatnonzero(is_peak)]
    quiet = levels < -40.0
    silences: list[tuple[float, float]] = []
    index = 0
    while index < len(quiet):
        if quiet[index]:
            end = index
            while end < len(quiet) and quiet[end]:
                end += 1
            if end - index >= 2:
                silences.append((index * hop, end * hop))
            index = end
        else:
            index += 1
    cut_rate = rng.uniform(0.3, 8.0) / 60.0
    cuts = np.cumsum(rng.exponential(1.0 / cut_rate, size=int(duration * cut_rate * 3) + 2))
    segment = Segment(start_s=words[0].start_s, end_s=words[-1].end_s, text="", words=words)
    transcript = Transcript(language="en", duration_s=round(duration, 3), model="simulated", segments=[segment])
    audio = AudioFeatures(
        hop_s=hop,
        rms_db=[round(float(level), 2) for level in levels],
        peaks_s=peaks,
        silences=silences,
        mean_db=float(levels.mean()),
        is_silent=False,
    )
    scenes = Scenes(cuts_s=[round(float(c), 3) for c in cuts if c < duration], duration_s=round(duration, 3))
    return transcript, audio, scenes


def candidates_of_talk(
    rng: np.random.Generator, ranking: RankingWeights | None, keep: int | None = None
) -> list[Candidate]:
    """The selector's candidates for a fresh synthetic talk, ranked with ``ranking`` (None: the defaults)."""
    transcript, audio, scenes = synthetic_talk(rng)
    try:
        return select_candidates(transcript, audio, scenes, SETTINGS, keep=keep, ranking=ranking)
    except NoCandidatesError:
        return []


def measure(
    rng: np.random.Generator,
    truth: HiddenTruth,
    clip_id: str,
    candidate: Candidate,
    platform: str,
    caption_style: str,
    hour: int,
    age_days: int,
    published_at: datetime,
) -> dict[str, object]:
    """One publication's row as ``fct_clip_performance`` holds it, with views drawn from the hidden model."""
    daypart = "night" if hour < 6 else "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"
    log_views = (
        PLATFORMS[platform]
        + truth.views_per_point * (truth.score(candidate.scores, candidate.duration_s) - 0.5)
        + CAPTION_STYLES[caption_style]
        + HOUR_EFFECT[daypart]
        + truth.age_effect * math.log1p(age_days)
        + rng.normal(0.0, truth.noise_sigma)
    )
    views = int(math.exp(log_views))
    likes = int(rng.binomial(views, 0.06))
    comments = int(rng.binomial(views, 0.004))
    shares = int(rng.binomial(views, 0.008))
    saves = None if platform in {"x", "youtube"} else int(rng.binomial(views, 0.01))  # not reported: NULL
    interactions = likes + comments + shares + (saves or 0)
    publication_id = f"pub-{clip_id}-{platform}"
    return {
        "publication_id": publication_id,
        "workspace_id": WORKSPACE,
        "account_id": f"acct-{platform}",
        "platform": platform,
        "post_id": publication_id,
        "published_at": published_at,
        "clip_id": clip_id,
        "duration_s": candidate.duration_s,
        "caption_style": caption_style,
        "hook_text": candidate.title,
        "score": candidate.score,
        **{f"score_{name}": candidate.scores[name] for name in SUB_SCORES},
        "posting_hour_local": hour,
        "views": views,
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "saves": saves,
        "engagement_rate": interactions / views if views > 0 else None,
        "days_since_post": age_days,
    }


def publish_round(
    rng: np.random.Generator,
    truth: HiddenTruth,
    ranking: RankingWeights,
    round_index: int,
    talks: int,
    clips_per_talk: int,
) -> list[dict[str, object]]:
    """Pick the top clips of fresh talks with ``ranking``, post each to one or two platforms, measure them."""
    rows = []
    published_at = START + timedelta(days=30 * round_index)
    for talk in range(talks):
        style = list(CAPTION_STYLES)[int(rng.integers(len(CAPTION_STYLES)))]
        chosen = candidates_of_talk(rng, None if ranking.version == 0 else ranking)[:clips_per_talk]
        for candidate in chosen:
            clip_id = f"r{round_index}-t{talk}-{candidate.candidate_id}"
            for platform in rng.choice(list(PLATFORMS), size=int(rng.integers(1, 3)), replace=False):
                hour = int(rng.integers(24))
                age = int(rng.integers(3, 30))
                rows.append(measure(rng, truth, clip_id, candidate, str(platform), style, hour, age, published_at))
    return rows


def evaluation_pool(rng: np.random.Generator, truth: HiddenTruth, talks: int) -> list[PostOutcome]:
    """Fresh candidates (all the default selector keeps per talk), each with views drawn once on one platform at
    one age, style and hour: what ranks them is the clip alone."""
    rows = []
    for talk in range(talks):
        for candidate in candidates_of_talk(rng, None):
            clip_id = f"eval-t{talk}-{candidate.candidate_id}"
            rows.append(measure(rng, truth, clip_id, candidate, "tiktok", "karaoke", 12, 14, START))
    return outcomes_from_rows(rows)


def distance(weights: dict[str, float], truth: HiddenTruth) -> float:
    """L1 distance between sub-score weights and the hidden ones (0 = identical, at most 2)."""
    return float(sum(abs(weights[name] - truth.weights[name]) for name in SUB_SCORES))


def simulate(
    *,
    rounds: int = 6,
    talks_per_round: int = 8,
    clips_per_talk: int = 5,
    eval_talks: int = 40,
    seed: int = 7,
    truth: HiddenTruth | None = None,
    settings: FitSettings | None = None,
) -> list[RoundReport]:
    """Run the loop from the default weights; one report before any data (round 0) and one per round."""
    truth = truth or HiddenTruth()
    rng = np.random.default_rng(seed)
    pool = evaluation_pool(rng, truth, eval_talks)
    current = default_weights(WORKSPACE)
    rows: list[dict[str, object]] = []
    reports = [_report(0, 0, current, False, "built-in default weights", pool, truth)]
    for round_index in range(1, rounds + 1):
        rows += publish_round(rng, truth, current, round_index, talks_per_round, clips_per_talk)
        now = START + timedelta(days=30 * round_index + 29)
        step = learn_step(outcomes_from_rows(rows), current, now=now, settings=settings)
        if step.accepted:
            current = step.fit.model_copy(update={"version": current.version + 1})
        reports.append(_report(round_index, len(rows), current, step.accepted, step.reason, pool, truth))
    return reports


def _report(
    round_index: int,
    n_posts: int,
    weights: RankingWeights,
    accepted: bool,
    reason: str,
    pool: Sequence[PostOutcome],
    truth: HiddenTruth,
) -> RoundReport:
    result = evaluate(weights, pool)
    return RoundReport(
        round=round_index,
        n_posts=n_posts,
        version=weights.version,
        accepted=accepted,
        reason=reason,
        spearman=result.spearman,
        ndcg=result.ndcg,
        distance=distance(weights.weights, truth),
        weights=dict(weights.weights),
    )
