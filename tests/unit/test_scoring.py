"""Scoring heuristics: hooks, flow, energy, and the titles and reasons built from them."""

from __future__ import annotations

import numpy as np
import pytest

from clipped.select import WEIGHTS, select_candidates
from clipped.select.energy import energy_features, energy_scores
from clipped.select.titles import Signal, make_reason, make_title
from clipped.types import AudioFeatures, ClipSettings, Scenes, Segment, Transcript, Word

BODY = [
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
]
SETTINGS = ClipSettings(min_duration_s=10, max_duration_s=60)


def transcript_of(sentences: list[str]) -> Transcript:
    words, t = [], 0.5
    for sentence in sentences:
        for token in sentence.split():
            words.append(Word(word=token, start_s=round(t, 3), end_s=round(t + 0.3, 3)))
            t += 0.4
        t += 0.5
    segment = Segment(start_s=words[0].start_s, end_s=words[-1].end_s, text="", words=words)
    return Transcript(language="en", duration_s=round(t, 3), model="test", segments=[segment])


def quiet_audio(duration_s: float) -> AudioFeatures:
    hops = int(duration_s / 0.5) + 1
    return AudioFeatures(hop_s=0.5, rms_db=[-20.0] * hops, peaks_s=[], silences=[], mean_db=-20.0, is_silent=False)


def best(sentences: list[str]):
    transcript = transcript_of(sentences)
    audio = quiet_audio(transcript.duration_s)
    scenes = Scenes(cuts_s=[], duration_s=transcript.duration_s)
    return select_candidates(transcript, audio, scenes, SETTINGS, keep=1)[0]


def whole(sentences: list[str]):
    """The one window spanning all ``sentences`` (the bounds leave no other)."""
    transcript = transcript_of(sentences)
    span = transcript.words[-1].end_s - transcript.words[0].start_s
    settings = ClipSettings(min_duration_s=span - 0.2, max_duration_s=span + 1)
    audio = quiet_audio(transcript.duration_s)
    [candidate] = select_candidates(transcript, audio, Scenes(cuts_s=[], duration_s=transcript.duration_s), settings)
    return candidate


def test_weights_sum_to_one() -> None:
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_question_hook_outscores_a_flat_opener() -> None:
    question = whole(["Why do you never see this mistake?", *BODY])
    flat = whole(["The birch canoe slid on the smooth planks.", *BODY])
    # Said at the usual level (flat test audio), a written hook counts half; the question still leads.
    assert question.scores["hook"] > flat.scores["hook"] + 0.3
    assert question.score > flat.score
    assert question.reason.startswith("strong hook (question")
    assert question.title == "Why Do You Never See This Mistake"


def test_opening_on_a_continuation_costs_flow_and_hook() -> None:
    fresh = whole(["Rice is often served in round bowls.", *BODY])
    leaning = whole(["And rice is often served in round bowls.", *BODY])
    assert leaning.scores["flow"] < fresh.scores["flow"]
    assert leaning.scores["hook"] < fresh.scores["hook"]


def test_trigger_words_and_numbers_raise_value() -> None:
    plain = whole(BODY)
    dense = whole(
        ["Here's the key lesson NASA learned in 1969.", "It took 400000 people and 25 billion dollars.", *BODY]
    )
    assert dense.scores["value"] > plain.scores["value"]


def test_the_best_window_starts_at_the_hook_inside_a_long_talk() -> None:
    sentences = BODY * 4 + ["Why do you never see this mistake?"] + BODY * 4
    top = best(sentences)
    assert top.text.startswith("Why do you never see this mistake?")


def test_louder_windows_have_more_energy() -> None:
    levels = [-30.0] * 120 + [-12.0] * 60 + [-30.0] * 120
    audio = AudioFeatures(hop_s=0.5, rms_db=levels, peaks_s=[75.0], silences=[], mean_db=-26.0, is_silent=False)
    features = energy_features(audio, Scenes(cuts_s=[70.0, 80.0], duration_s=150.0))
    parts = energy_scores(features, np.array([0.0, 60.0]), np.array([30.0, 90.0]))
    quiet, loud = parts["energy"]
    assert loud > quiet
    assert parts["cuts"].tolist() == [0.0, 2.0]
    assert all(0.0 <= value <= 1.0 for value in parts["energy"])


def test_energy_without_audio_is_neutral() -> None:
    audio = AudioFeatures(hop_s=0.5, rms_db=[], peaks_s=[], silences=[], mean_db=-100.0, is_silent=True)
    features = energy_features(audio, Scenes(cuts_s=[], duration_s=60.0))
    parts = energy_scores(features, np.array([0.0]), np.array([30.0]))
    assert parts["level"][0] == 0.5


def test_all_scores_stay_in_range() -> None:
    candidate = whole(["Why?", "You!", "Never!", *BODY])
    assert 0.0 <= candidate.score <= 1.0
    assert all(0.0 <= value <= 1.0 for value in candidate.scores.values())


@pytest.mark.parametrize(
    ("sentence", "title"),
    [
        ("So here's the thing about NASA in 1969.", "Here's the Thing About NASA in 1969"),
        ("um and why do you never see this?", "Why Do You Never See This"),
        (
            "The most important lesson I learned, after ten years of building products for other people, is simple.",
            "The Most Important Lesson I Learned",
        ),
    ],
)
def test_titles_are_short_title_case_without_trailing_punctuation(sentence: str, title: str) -> None:
    assert make_title(sentence) == title


def test_long_titles_are_cut_at_a_word_boundary() -> None:
    title = make_title("word " * 40)
    assert len(title) <= 60
    assert not title.endswith(" ")
    assert title.split() == ["Word"] * len(title.split())


def test_reason_lists_the_strongest_signals() -> None:
    signals = [Signal(0.1, "complete thought"), Signal(0.3, "strong hook (question)"), Signal(0.05, "3 scene changes")]
    assert make_reason(signals) == "strong hook (question), complete thought, 3 scene changes"
    assert make_reason([Signal(0.1, "a")] * 5) == "a"
    assert make_reason([], prefix="no speech") == "no speech"
