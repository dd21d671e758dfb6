"""The candidate selector: transcript, loudness and cuts in, the best non-overlapping clip windows out."""

from __future__ import annotations

import numpy as np

from clipped.select.energy import EnergyFeatures, describe_energy, energy_features, energy_scores
from clipped.select.errors import NoCandidatesError
from clipped.select.no_speech import no_speech_candidates
from clipped.select.scoring import WEIGHTS, Ranking, combine, weights_of
from clipped.select.sentences import join_words, split_sentences
from clipped.select.suppression import suppress_overlaps
from clipped.select.text_scores import TextFeatures, describe_text, text_features, text_scores, title_sentence
from clipped.select.titles import make_reason, make_title
from clipped.select.windows import spans_within
from clipped.types import AudioFeatures, Candidate, ClipSettings, Scenes, Transcript


def select_candidates(
    transcript: Transcript,
    audio: AudioFeatures,
    scenes: Scenes,
    settings: ClipSettings,
    *,
    keep: int | None = None,
    ranking: Ranking | None = None,
) -> list[Candidate]:
    """The best clip windows of a source, sorted by score (0..1) descending.

    Windows run from a sentence start to a sentence end (exact word times) and last between
    ``settings.min_duration_s`` and ``settings.max_duration_s``; they are scored on hook, flow, value and
    energy (weights in :data:`clipped.select.scoring.WEIGHTS`) and thinned so no two kept windows overlap by
    more than half the shorter one. ``keep`` defaults to three per requested clip. Without enough speech for
    one window, windows come from scene cuts, silences and audio energy instead.

    ``ranking`` (a workspace's learned :class:`clipped.learn.RankingWeights`) replaces the default weights and
    adds its duration bonus; without it the result is exactly the default selector's.

    Raises :class:`NoCandidatesError` when not even that fits (the source is shorter than the minimum
    duration, or the bounds contradict each other).
    """
    keep = 3 * settings.max_clips if keep is None else keep
    min_s, max_s = settings.min_duration_s, settings.max_duration_s
    if min_s > max_s:
        raise NoCandidatesError(f"minimum clip duration {min_s:g} s exceeds the maximum {max_s:g} s")
    energy = energy_features(audio, scenes)
    words = transcript.words
    sentences = split_sentences(words)
    if sentences:
        starts = np.array([sentence.start_s for sentence in sentences], dtype=np.float64)
        ends = np.array([sentence.end_s for sentence in sentences], dtype=np.float64)
        first, last = spans_within(starts, ends, min_s, max_s)
        if len(first):
            return _speech_candidates(text_features(words, sentences), energy, first, last, keep, ranking)
    duration_s = source_duration(transcript, audio, scenes)
    return no_speech_candidates(words, energy, settings, keep, duration_s, ranking=ranking)


def source_duration(transcript: Transcript, audio: AudioFeatures, scenes: Scenes) -> float:
    """The source's length from the most direct measurement available: video, then ASR, then audio hops."""
    for duration in (scenes.duration_s, transcript.duration_s):
        if duration > 0:
            return duration
    return len(audio.rms_db) * audio.hop_s


def _speech_candidates(
    text: TextFeatures,
    energy: EnergyFeatures,
    first: np.ndarray,
    last: np.ndarray,
    keep: int,
    ranking: Ranking | None,
) -> list[Candidate]:
    start, end = text.starts_s[first], text.ends_s[last]
    parts = {**text_scores(text, first, last), **energy_scores(energy, start, end)}
    score = combine(parts, ranking, end - start)
    weights = dict(weights_of(ranking))
    return [
        _speech_candidate(
            text, energy, int(first[k]), int(last[k]), score[k], {n: parts[n][k] for n in WEIGHTS}, weights
        )
        for k in suppress_overlaps(start, end, score, keep)
    ]


def _speech_candidate(
    text: TextFeatures,
    energy: EnergyFeatures,
    first: int,
    last: int,
    score: float,
    parts: dict[str, float],
    weights: dict[str, float],
) -> Candidate:
    start_s, end_s = float(text.starts_s[first]), float(text.ends_s[last])
    words = list(text.words[int(text.first_word[first]) : int(text.past_word[last])])
    signals = [
        *describe_text(text, first, last, weights),
        *describe_energy(energy, start_s, end_s, weights["energy"]),
    ]
    return Candidate(
        candidate_id=f"c{round(start_s * 1000)}-{round(end_s * 1000)}",
        start_s=start_s,
        end_s=end_s,
        score=round(float(score), 4),
        scores={name: round(float(value), 4) for name, value in parts.items()},
        reason=make_reason(signals),
        title=make_title(title_sentence(text, first, last)),
        text=join_words(words),
        words=words,
    )
