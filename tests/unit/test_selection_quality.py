"""Moment selection as a person would judge it: lively delivery and audience reactions over lexical hooks,
windows that hold one thought and start without needing earlier context, distinct clips with distinct titles,
and a regression floor on a generated talk with planted moments (real audio through real features)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from clipped.select import select_candidates
from clipped.select.coherence import thought_breaks
from clipped.select.semantics import LexicalEmbedder, semantic_features
from clipped.select.titles import make_title
from clipped.types import (
    AudioFeatures,
    Candidate,
    ClipSettings,
    Reaction,
    Scenes,
    Segment,
    Sentence,
    Transcript,
    Word,
)
from clipped.understand.audio_features import compute_audio_features
from clipped.understand.sentence_embedding import SentenceEmbedder
from tests.support.planted_moments import build_talk

HOP = 0.5
CALM = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "The box was thrown beside the parked truck.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The hogs were fed chopped corn and garbage.",
]
SETTINGS = ClipSettings(max_clips=3, min_duration_s=12, max_duration_s=40)


class Talk:
    """A transcript written sentence by sentence, with per-hop audio features that follow it."""

    def __init__(self) -> None:
        self.words: list[Word] = []
        self.t = 1.0
        self.levels: list[float] = []
        self.pitch: list[float] = []
        self.reactions: list[Reaction] = []

    def say(self, sentence: str, *, level: float = -26.0, pitch: float = 110.0, rate: float = 0.4) -> None:
        for token in sentence.split():
            self.words.append(Word(word=" " + token, start_s=round(self.t, 3), end_s=round(self.t + rate * 0.8, 3)))
            self.t += rate
        self._sound(self.t, level, pitch)
        self.pause(0.5)

    def pause(self, seconds: float) -> None:
        self.t += seconds

    def react(self, kind: str, seconds: float = 3.0) -> None:
        self.reactions.append(
            Reaction(kind=kind, start_s=round(self.t, 2), end_s=round(self.t + seconds, 2), score=0.9)
        )
        self.t += seconds
        self._sound(self.t, -20.0, 0.0)
        self.pause(0.5)

    def _sound(self, until: float, level: float, pitch: float) -> None:
        hops = int(until / HOP) + 1
        while len(self.levels) < hops:
            index = len(self.levels)
            self.levels.append(level if index * HOP >= self.words[0].start_s - 0.5 else -70.0)
            # Lively speech moves its pitch around; calm speech stays near one note.
            swing = 0.25 if pitch > 150 else 0.03
            self.pitch.append(pitch * (1 + swing * np.sin(index * 1.7)) if pitch else 0.0)

    def select(
        self, settings: ClipSettings = SETTINGS, *, cuts: list[float] | None = None, embedder=None
    ) -> list[Candidate]:
        self._sound(self.t, -70.0, 0.0)
        transcript = Transcript(
            language="en",
            duration_s=self.t,
            model="test",
            segments=[Segment(start_s=0.0, end_s=self.t, text="", words=self.words)],
        )
        audio = AudioFeatures(
            hop_s=HOP,
            rms_db=self.levels,
            peaks_s=[],
            silences=[],
            mean_db=float(np.mean(self.levels)),
            is_silent=False,
            pitch_hz=self.pitch,
            reactions=self.reactions,
        )
        scenes = Scenes(cuts_s=cuts or [], duration_s=self.t)
        return select_candidates(transcript, audio, scenes, settings, embedder=embedder)


def calm(talk: Talk, count: int, offset: int = 0) -> None:
    for index in range(count):
        talk.say(CALM[(index + offset) % len(CALM)])


def test_a_lively_told_moment_ending_in_laughter_beats_a_worded_hook_said_flat() -> None:
    talk = Talk()
    calm(talk, 10)
    talk.say("Who wants to take notes today?")
    calm(talk, 6, offset=3)
    decoy_end = talk.t
    calm(talk, 10, offset=5)
    lively_start = talk.t
    for sentence in CALM[2:7]:
        talk.say(sentence, level=-19.0, pitch=180.0, rate=0.3)
    talk.react("laughter")
    calm(talk, 10, offset=1)
    [top, *_] = talk.select()
    assert decoy_end < top.start_s <= lively_start + 0.1  # the whole told moment, not the flat question
    assert "audience laughter" in top.reason
    assert top.end_s == pytest.approx(talk.reactions[0].end_s)  # the clip runs through the laugh


def test_no_window_spans_a_long_silence() -> None:
    talk = Talk()
    calm(talk, 6)
    gap_start = talk.t
    talk.pause(4.0)
    calm(talk, 6, offset=4)
    for candidate in talk.select(ClipSettings(max_clips=5, min_duration_s=5, max_duration_s=40)):
        assert candidate.end_s <= gap_start or candidate.start_s >= gap_start + 4.0


def test_no_window_runs_from_one_speaker_and_subject_into_another() -> None:
    talk = Talk()
    for sentence in LECTURE * 2:
        talk.say(sentence, pitch=105.0)
    boundary = talk.t
    talk.pause(0.8)
    for sentence in CALL * 2:
        talk.say(sentence, pitch=215.0)
    chosen = talk.select(ClipSettings(max_clips=5, min_duration_s=5, max_duration_s=60))
    assert chosen
    for candidate in chosen:
        assert candidate.end_s <= boundary or candidate.start_s >= boundary


LECTURE = [
    "Photosynthesis turns sunlight into chemical energy.",
    "Chlorophyll absorbs red and blue sunlight strongly.",
    "Leaves store the chemical energy as sugar.",
    "Plants release oxygen during photosynthesis.",
]
CALL = [
    "Hello, is this the pizza delivery service?",
    "I would like a large pizza with olives.",
    "Please deliver the pizza to my apartment.",
    "Can the pizza arrive before eight tonight?",
]


GARDEN = [
    "Tomatoes ripen best in full summer sun.",
    "Water the basil early every morning.",
    "Compost feeds hungry vegetable beds.",
    "Prune roses before spring arrives.",
    "Slugs chew through lettuce overnight.",
    "Plant garlic cloves pointy side up.",
]
FLIGHTS = [
    "My flight to Lisbon leaves at noon.",
    "The airline lost a suitcase last week.",
    "Airports get crowded during holidays.",
    "I always pick a window seat on planes.",
    "Boarding passes can live on your phone.",
    "Jet lag hits hardest after flying east.",
]


def breaks_between(
    sentences: list[str], embedder, *, pitch: list[float] | None = None, cuts=(), gap_s: float = 1.2
) -> list[int]:
    """Indices of the boundaries (after sentence i) that break the thought, for 3.6 s sentences ``gap_s`` apart."""
    starts = np.arange(len(sentences)) * (3.6 + gap_s)
    ends = starts + 3.6
    semantics = semantic_features(
        [Sentence(text=t, start_s=0, end_s=0, word_start=0, word_end=0) for t in sentences], embedder
    )
    hops = np.asarray(pitch if pitch is not None else [], dtype=np.float64)
    return np.flatnonzero(
        thought_breaks(starts, ends, semantics, np.asarray(cuts, dtype=np.float64), hops, HOP)
    ).tolist()


@pytest.fixture(scope="module")
def minilm() -> SentenceEmbedder:
    return SentenceEmbedder()


def test_a_change_of_subject_after_a_pause_is_seen_by_meaning_not_shared_words(minilm: SentenceEmbedder) -> None:
    """Same voice, no cut, no word shared even within a subject: only the sentence vectors see the talk move on."""
    sentences = GARDEN + FLIGHTS
    assert breaks_between(sentences, minilm) == [5]
    assert breaks_between(sentences, LexicalEmbedder()) == []


def test_a_new_voice_breaks_at_a_scene_cut_but_not_without_one(minilm: SentenceEmbedder) -> None:
    sentences = GARDEN * 4  # one subject throughout
    hops_per_sentence = round(4.0 / HOP)
    pitch = [105.0] * (8 * hops_per_sentence) + [220.0] * (8 * hops_per_sentence)
    gap = 7 * 4.0 + 3.6 + 0.2
    embedder = minilm
    assert breaks_between(sentences, embedder, pitch=pitch, cuts=[gap], gap_s=0.4) == [7]
    assert breaks_between(sentences, embedder, pitch=pitch, gap_s=0.4) == []
    assert breaks_between(sentences, embedder, cuts=[gap], gap_s=0.4) == []  # a cut alone does not break either


def test_windows_start_where_no_earlier_context_is_needed() -> None:
    talk = Talk()
    openers = ["And so the", "That one was", "It was", "But then the", "They said the"]
    for index, sentence in enumerate(CALM * 2):
        talk.say(f"{openers[index % len(openers)]} {sentence[0].lower()}{sentence[1:]}" if index % 2 else sentence)
    for candidate in talk.select(ClipSettings(max_clips=4, min_duration_s=8, max_duration_s=30)):
        assert candidate.words[0].word.split()[0] not in {"And", "That", "It", "But", "They"}


def test_clips_of_one_source_barely_overlap_and_have_distinct_titles() -> None:
    talk = Talk()
    things = ["canoe", "sheet", "truck", "bowl", "lemon", "stocking", "corn", "lantern"]
    places = ["harbour", "garden", "station", "market", "orchard"]
    for thing, place in itertools.product(things, places):
        talk.say(f"The {thing} was left near the {place} again.")
    chosen = talk.select(ClipSettings(max_clips=6, min_duration_s=10, max_duration_s=30))
    assert len(chosen) >= 4
    for a, b in itertools.combinations(chosen, 2):
        overlap = max(0.0, min(a.end_s, b.end_s) - max(a.start_s, b.start_s))
        assert overlap <= 0.2 * min(a.duration_s, b.duration_s) + 1e-6
    assert len({candidate.title.lower() for candidate in chosen}) == len(chosen)


def test_near_duplicate_windows_are_dropped() -> None:
    talk = Talk()
    story = CALM[:5]
    for sentence in story:
        talk.say(sentence)
    talk.pause(0.6)
    for sentence in story:  # told again, word for word
        talk.say(sentence)
    chosen = talk.select(ClipSettings(max_clips=3, min_duration_s=10, max_duration_s=20))
    vectors = LexicalEmbedder().embed([candidate.text for candidate in chosen])
    assert all(float(a @ b) < 0.9 for a, b in itertools.combinations(vectors, 2))


@pytest.mark.parametrize(
    ("sentence", "title"),
    [
        ("You're the marketing expert, okay?", "You're the Marketing Expert"),
        ("The answer that comes back is, well, nobody knows.", "The Answer That Comes Back"),
        ("Do you guys actually have sort of, um, I", "Do You Guys Actually Have"),
        ("It was, you know, the best day of my life.", "The Best Day of My Life"),
        (
            "The city library clock described three heavy iron keys before the rain.",
            "The City Library Clock Described Three Heavy Iron Keys",
        ),
    ],
)
def test_titles_are_phrases_not_cut_off_sentence_starts(sentence: str, title: str) -> None:
    assert make_title(sentence) == title


def test_planted_moments_are_found_in_a_generated_talk(tmp_path: Path) -> None:
    """The cheap regression floor of bench/selection_eval.py: 4 planted moments and 4 decoys in ~6 minutes."""
    talk = build_talk(4, 4, calm_between_s=40.0, seed=3)
    audio = compute_audio_features(talk.write(tmp_path / "talk.wav"))
    assert [reaction.kind for reaction in audio.reactions] == [stretch.reaction for stretch in talk.planted]
    scenes = Scenes(cuts_s=[], duration_s=talk.transcript.duration_s)
    settings = ClipSettings(max_clips=4, min_duration_s=15, max_duration_s=60)
    chosen = select_candidates(talk.transcript, audio, scenes, settings, keep=4)
    found = {
        index
        for candidate in chosen
        for index, moment in enumerate(talk.planted)
        if min(candidate.end_s, moment.end_s) - max(candidate.start_s, moment.start_s) >= 0.5 * candidate.duration_s
    }
    assert len(found) >= 3  # recall@4 >= 0.75 (the bench measures 1.0)
    decoy_starts = [decoy.start_s for decoy in talk.decoys]
    assert not any(abs(candidate.start_s - start) < 1.0 for candidate in chosen for start in decoy_starts)
