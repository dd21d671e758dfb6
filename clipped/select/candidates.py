"""The candidate selector: transcript, loudness and cuts in, the best non-overlapping clip windows out."""

from __future__ import annotations

import numpy as np

from clipped.select.coherence import crosses_break, thought_breaks
from clipped.select.energy import EnergyFeatures, delivery_lifts, describe_energy, energy_features, energy_scores
from clipped.select.errors import NoCandidatesError
from clipped.select.no_speech import no_speech_candidates
from clipped.select.scoring import WEIGHTS, Ranking, combine, weights_of
from clipped.select.semantics import (
    LexicalEmbedder,
    SemanticFeatures,
    SentenceEmbedder,
    semantic_features,
    window_novelty,
    window_vector,
)
from clipped.select.sentences import join_words, split_sentences
from clipped.select.story import arc_scores, story_flags
from clipped.select.suppression import suppress_overlaps
from clipped.select.text_scores import TextFeatures, describe_text, text_features, text_scores, title_sentences
from clipped.select.titles import Signal, make_reason, make_title, same_title
from clipped.select.windows import spans_within
from clipped.types import AudioFeatures, Candidate, ClipSettings, Scenes, Transcript

VALUE_MIX = {"lexical": 0.55, "novelty": 0.2, "arc": 0.25}
"""value = 0.55 lexical value (numbers, names, key-point phrasing, word variety) + 0.2 semantic novelty
(meaning not said earlier in the source) + 0.25 story arc (:mod:`clipped.select.story`)."""
REACTION_JOIN_S = 2.0
"""A reaction starting this close to a window's last word belongs to the clip."""
FLAT_HOOK_SHARE = 0.5
LIVELY_HOOK_DB = 6.0
OPENING_HOOK = 0.3
OPENING_S = 4.0
"""The opening judged for delivery: the first sentence, or the first 4 s when that is shorter."""
DUPLICATE_SIMILARITY = 0.9
"""Two kept windows whose meanings are this similar tell the same thing: the lower-scored one is dropped."""


def select_candidates(
    transcript: Transcript,
    audio: AudioFeatures,
    scenes: Scenes,
    settings: ClipSettings,
    *,
    keep: int | None = None,
    ranking: Ranking | None = None,
    embedder: SentenceEmbedder | None = None,
) -> list[Candidate]:
    """The best clip windows of a source, sorted by score (0..1) descending.

    Windows run from a sentence start to a sentence end (exact word times) and last between
    ``settings.min_duration_s`` and ``settings.max_duration_s``; none crosses a break in the thought (a long
    silence, a topic shift with a change of voice, scene or a pause: :mod:`clipped.select.coherence`), and
    none opens on words that lean on what came before ("and so", "that one", "it") while another can. They
    are scored on hook, flow, value and energy (weights in :data:`clipped.select.scoring.WEIGHTS`), thinned so
    no two kept windows overlap by more than a fifth of the shorter one or say the same thing, and titled
    distinctly. ``keep`` defaults to three per requested clip. Without enough speech for one window, windows
    come from scene cuts, silences and audio energy instead.

    ``ranking`` (a workspace's learned :class:`clipped.learn.RankingWeights`) replaces the default weights and
    adds its duration bonus. ``embedder`` gives sentence meaning (novelty, topic shifts, duplicates); without
    one, shared content words stand in.

    Raises :class:`NoCandidatesError` when not even that fits (the source is shorter than the minimum
    duration, or the bounds contradict each other).
    """
    keep = 3 * settings.max_clips if keep is None else keep
    min_s, max_s = settings.min_duration_s, settings.max_duration_s
    if min_s > max_s:
        raise NoCandidatesError(f"minimum clip duration {min_s:g} s exceeds the maximum {max_s:g} s")
    words = transcript.words
    energy = energy_features(audio, scenes, words)
    sentences = split_sentences(words)
    if sentences:
        starts = np.array([sentence.start_s for sentence in sentences], dtype=np.float64)
        ends = np.array([sentence.end_s for sentence in sentences], dtype=np.float64)
        first, last = spans_within(starts, ends, min_s, max_s)
        if len(first):
            text = text_features(words, sentences)
            semantics = semantic_features(sentences, embedder or LexicalEmbedder())
            breaks = thought_breaks(starts, ends, semantics, energy.cuts_s, np.asarray(audio.pitch_hz), energy.hop_s)
            first, last = _coherent(text, breaks, first, last)
            return _speech_candidates(text, energy, semantics, first, last, keep, ranking, max_s)
    duration_s = source_duration(transcript, audio, scenes)
    return no_speech_candidates(words, energy, settings, keep, duration_s, ranking=ranking)


def source_duration(transcript: Transcript, audio: AudioFeatures, scenes: Scenes) -> float:
    """The source's length from the most direct measurement available: video, then ASR, then audio hops."""
    for duration in (scenes.duration_s, transcript.duration_s):
        if duration > 0:
            return duration
    return len(audio.rms_db) * audio.hop_s


def _coherent(
    text: TextFeatures, breaks: np.ndarray, first: np.ndarray, last: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The windows that cross no thought break and open on a fresh start; each rule is dropped only where
    it would leave nothing (a source of short fragments still gets its clips)."""
    whole = ~crosses_break(breaks, first, last)
    if whole.any():
        first, last = first[whole], last[whole]
    fresh = text.start_ok[first] > 0
    if fresh.any():
        first, last = first[fresh], last[fresh]
    return first, last


def _speech_candidates(
    text: TextFeatures,
    energy: EnergyFeatures,
    semantics: SemanticFeatures,
    first: np.ndarray,
    last: np.ndarray,
    keep: int,
    ranking: Ranking | None,
    max_s: float,
) -> list[Candidate]:
    start, end = text.starts_s[first], text.ends_s[last]
    parts = {**text_scores(text, first, last), **energy_scores(energy, start, end)}
    parts["hook"] = _delivered_hook(parts["hook"], energy, start, text.ends_s[first])
    third = (end - start) / 3
    build = delivery_lifts(energy, end - third, end)["level"] - delivery_lifts(energy, start, start + third)["level"]
    parts.update(arc_scores(story_flags(text), first, last, build, parts["reaction"]))
    parts["novelty"] = window_novelty(semantics, first, last)
    parts["lexical_value"] = parts["value"]
    parts["value"] = np.clip(
        VALUE_MIX["lexical"] * parts["value"]
        + VALUE_MIX["novelty"] * parts["novelty"]
        + VALUE_MIX["arc"] * parts["arc"],
        0.0,
        1.0,
    )
    score = combine(parts, ranking, end - start)
    weights = dict(weights_of(ranking))
    chosen: list[Candidate] = []
    kept_vectors: list[np.ndarray] = []
    titles: list[str] = []
    for k in suppress_overlaps(start, end, score, max(keep, 1) * 3):
        vector = window_vector(semantics, int(first[k]), int(last[k]))
        if any(float(vector @ other) >= DUPLICATE_SIMILARITY for other in kept_vectors):
            continue
        candidate = _speech_candidate(
            text,
            energy,
            int(first[k]),
            int(last[k]),
            score[k],
            {n: parts[n][k] for n in parts},
            weights,
            titles,
            max_s,
        )
        kept_vectors.append(vector)
        titles.append(candidate.title)
        chosen.append(candidate)
        if len(chosen) == keep:
            break
    return chosen


def _delivered_hook(written: np.ndarray, energy: EnergyFeatures, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
    """The hook as a viewer meets it: the written hook counts half when the opening line is said at the
    source's usual level and all of it when said 6 dB above, and a lively opening is a hook of its own (up to
    0.3); a line's words promise less than how it was said. Without audio, the written hook as it is."""
    if len(energy.levels) == 0:
        return written
    opening_end = np.maximum(end_s, start_s + OPENING_S)
    lively = np.clip(delivery_lifts(energy, start_s, opening_end)["level"] / LIVELY_HOOK_DB, 0.0, 1.0)
    return np.clip(written * (FLAT_HOOK_SHARE + (1.0 - FLAT_HOOK_SHARE) * lively) + OPENING_HOOK * lively, 0.0, 1.0)


def _speech_candidate(
    text: TextFeatures,
    energy: EnergyFeatures,
    first: int,
    last: int,
    score: float,
    parts: dict[str, float],
    weights: dict[str, float],
    taken_titles: list[str],
    max_s: float,
) -> Candidate:
    start_s, end_s = float(text.starts_s[first]), float(text.ends_s[last])
    end_s = _through_reaction(energy, start_s, end_s, max_s)
    words = list(text.words[int(text.first_word[first]) : int(text.past_word[last])])
    signals = [
        *describe_text(text, first, last, weights),
        *describe_energy(energy, start_s, end_s, weights["energy"]),
        *_describe_value(parts, weights["value"]),
    ]
    titles = [make_title(sentence) for sentence in title_sentences(text, first, last)]
    return Candidate(
        candidate_id=f"c{round(start_s * 1000)}-{round(end_s * 1000)}",
        start_s=start_s,
        end_s=end_s,
        score=round(float(score), 4),
        scores={name: round(float(parts[name]), 4) for name in WEIGHTS},
        reason=make_reason(signals),
        title=next((t for t in titles if not any(same_title(t, taken) for taken in taken_titles)), titles[0]),
        text=join_words(words),
        words=words,
    )


def _through_reaction(energy: EnergyFeatures, start_s: float, end_s: float, max_s: float) -> float:
    """The window's end, moved to the end of an audience reaction that starts as its last words end (the
    laughter is the payoff a viewer should see), as long as the clip stays within the maximum duration."""
    reactions = energy.reactions
    follows = (reactions[:, 0] >= end_s - REACTION_JOIN_S) & (reactions[:, 0] <= end_s + REACTION_JOIN_S)
    fits = reactions[:, 1] - start_s <= max_s
    ends = reactions[follows & fits & (reactions[:, 1] > end_s), 1]
    return float(ends.max()) if len(ends) else end_s


def _describe_value(parts: dict[str, float], weight: float) -> list[Signal]:
    signals = []
    if parts["setup"] and (parts["payoff"] or parts["reaction"] >= 0.5 or parts["build"] >= 0.5):
        signals.append(Signal(weight * VALUE_MIX["arc"] * parts["arc"], "story arc (setup, then payoff)"))
    if parts["novelty"] >= 0.9:
        signals.append(Signal(0.5 * weight * VALUE_MIX["novelty"] * parts["novelty"], "new ground"))
    return signals
