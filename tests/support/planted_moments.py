"""A long talk with labelled moments, built from public-domain speech, for judging moment selection.

The talk is one voice (piper reading Harvard sentences, tests/data) in calm delivery. Into it go:

- planted moments: a told stretch delivered livelier than its surroundings (louder, faster, higher and more
  varied pitch: each utterance is resampled by +1..+5 semitones, which also speeds it up) that ends in an
  audience reaction (generated laughter, applause or cheering); half of them are told as a story ("I remember
  one time ...", "turns out ...");
- decoys: calm stretches opening on a line with lexical hooks (questions, "you", curiosity words) that a
  person would not clip ("Who wants to take notes today?").

The transcript is the script itself (words spread over each utterance's measured speech span), so the judge
sees real audio features and exact labels, and no ASR error blurs what is being measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from clipped.types import Segment, Transcript, Word
from tests.support.reaction_sounds import RATE, applause, cheering, laughter

DATA = Path(__file__).resolve().parents[1] / "data"
VOICE_FILE = DATA / "piper_harvard1.wav"
VOICE_SENTENCES = 10
LIVELY_GAIN_DB = 7.0
LIVELY_SEMITONES = (2.0, 4.5, 1.0, 5.0, 3.0, 1.5, 4.0)
REACTIONS = {"laughter": laughter, "applause": applause, "cheering": cheering}

DECOY_LINES = (
    "Who wants to take notes today?",
    "Do you guys actually have sort of, um, I",
    "Why do you think the budget review moved again?",
    "What is the biggest mistake you made this quarter?",
    "Here's the secret to the new expense report.",
    "Can you hear me okay in the back?",
    "You should never forget to sign the attendance sheet.",
    "How many of you have finished the safety training?",
    "Okay so who is going to present the numbers first?",
    "Did you know the printer on floor three is fixed?",
)

_SUBJECTS = (
    "the old harbour crane",
    "a quiet village baker",
    "the night train to the coast",
    "our neighbour's garden shed",
    "the small river ferry",
    "a tired mountain guide",
    "the city library clock",
    "an orange delivery van",
    "the school choir",
    "a stubborn vegetable patch",
    "the copper weather vane",
    "a narrow canal boat",
    "the winter market stall",
    "a patient chess teacher",
    "the lighthouse keeper",
    "a borrowed camping stove",
)
_VERBS = ("carried", "painted", "repaired", "followed", "measured", "watched", "collected", "described")
_OBJECTS = (
    "wooden crates of apples",
    "the long blue fence",
    "a map of the northern lakes",
    "seven brass lanterns",
    "the damp stone stairs",
    "a basket of fresh bread",
    "the faded railway posters",
    "three heavy iron keys",
    "the salt marsh at dawn",
    "a box of silver buttons",
    "the crooked chimney pots",
    "a pile of winter coats",
)
_PLACES = (
    "before the rain",
    "along the quay",
    "after lunch",
    "near the old bridge",
    "every other morning",
    "behind the station",
    "during the fair",
    "beside the orchard",
)


@dataclass(frozen=True)
class Stretch:
    """One labelled span of the talk."""

    kind: str  # "planted", "decoy" or "calm"
    start_s: float
    end_s: float
    reaction: str = ""


@dataclass(frozen=True)
class PlantedTalk:
    samples: np.ndarray
    transcript: Transcript
    stretches: list[Stretch]

    @property
    def planted(self) -> list[Stretch]:
        return [stretch for stretch in self.stretches if stretch.kind == "planted"]

    @property
    def decoys(self) -> list[Stretch]:
        return [stretch for stretch in self.stretches if stretch.kind == "decoy"]

    def write(self, path: Path) -> Path:
        sf.write(path, self.samples, RATE, subtype="PCM_16")
        return path


def build_talk(
    planted: int,
    decoys: int,
    *,
    calm_between_s: float = 60.0,
    seed: int = 0,
    lively_gain_db: float = LIVELY_GAIN_DB,
    stories: bool = True,
) -> PlantedTalk:
    """A talk with ``planted`` lively moments and ``decoys`` hook-worded calm lines, about ``calm_between_s``
    of calm talk between consecutive labelled stretches (planted and decoys alternate where both remain).

    ``lively_gain_db`` is how much louder the planted moments are said; with ``stories`` off none of them is
    worded as a story, so only delivery and the reaction set them apart."""
    rng = np.random.default_rng(seed)
    voice = _utterances(VOICE_FILE, VOICE_SENTENCES)
    builder = _Builder(rng, voice, lively_gain_db)
    order = _interleave(planted, decoys)
    builder.calm(calm_between_s / 2)
    for index, kind in enumerate(order):
        if kind == "planted":
            builder.planted(story=stories and index % 2 == 0, reaction=list(REACTIONS)[index % len(REACTIONS)])
        else:
            builder.decoy(DECOY_LINES[(index // 2) % len(DECOY_LINES)])
        builder.calm(calm_between_s * rng.uniform(0.8, 1.2))
    return builder.finish()


class _Builder:
    def __init__(self, rng: np.random.Generator, voice: list[np.ndarray], lively_gain_db: float) -> None:
        self.rng = rng
        self.lively_gain_db = lively_gain_db
        self.voice = voice
        self.parts: list[np.ndarray] = []
        self.words: list[Word] = []
        self.stretches: list[Stretch] = []
        self.t = 0.0

    def _say(self, text: str, *, semitones: float = 0.0, gain_db: float = 0.0) -> None:
        audio = self.voice[int(self.rng.integers(len(self.voice)))]
        if semitones:
            ratio = 2.0 ** (semitones / 12.0)  # resampling: higher and faster together
            positions = np.arange(0, len(audio) - 1, ratio)
            audio = np.interp(positions, np.arange(len(audio)), audio)
        audio = audio * 10.0 ** (gain_db / 20.0)
        self._place_words(text, audio)
        self.parts.append(audio)
        self.t += len(audio) / RATE
        self._pause(self.rng.uniform(0.35, 0.8))

    def _pause(self, seconds: float) -> None:
        self.parts.append(np.zeros(round(seconds * RATE)))
        self.t += seconds

    def _place_words(self, text: str, audio: np.ndarray) -> None:
        start, end = _speech_span(audio)
        tokens = text.split()
        weights = np.array([len(token) + 2 for token in tokens], dtype=np.float64)
        edges = start + (end - start) * np.concatenate(([0.0], np.cumsum(weights) / weights.sum()))
        for token, a, b in zip(tokens, edges[:-1], edges[1:], strict=True):
            self.words.append(
                Word(word=" " + token, start_s=round(self.t + a, 3), end_s=round(self.t + a + 0.85 * (b - a), 3))
            )

    def calm(self, seconds: float) -> None:
        start = self.t
        while self.t - start < seconds:
            self._say(self._sentence())
        self.stretches.append(Stretch("calm", start, self.t))

    def decoy(self, line: str) -> None:
        start = self.t
        self._say(line)
        for _ in range(int(self.rng.integers(5, 8))):
            self._say(self._sentence())
        self.stretches.append(Stretch("decoy", start, self.t))

    def planted(self, *, story: bool, reaction: str) -> None:
        start = self.t
        count = int(self.rng.integers(8, 12))
        for index in range(count):
            text = self._sentence()
            if story and index == 0:
                text = "I remember one time " + text[0].lower() + text[1:]
            elif story and index == count - 1:
                text = "Turns out " + text[0].lower() + text[1:]
            self._say(text, semitones=LIVELY_SEMITONES[index % len(LIVELY_SEMITONES)], gain_db=self.lively_gain_db)
        sound = REACTIONS[reaction](float(self.rng.uniform(3.0, 4.5)), seed=int(self.rng.integers(1000)))
        self.parts.append(sound * 0.5)
        self.t += len(sound) / RATE
        self.stretches.append(Stretch("planted", start, self.t, reaction))
        self._pause(0.6)

    def _sentence(self) -> str:
        pick = self.rng.choice
        # Six to nine words: about the rate the voice's own sentences are read at.
        place = f" {pick(_PLACES)}" if self.rng.random() < 0.3 else ""
        return f"{str(pick(_SUBJECTS)).capitalize()} {pick(_VERBS)} {pick(_OBJECTS)}{place}."

    def finish(self) -> PlantedTalk:
        samples = np.concatenate(self.parts).astype(np.float32)
        samples += (self.rng.standard_normal(len(samples)) * 10 ** (-62 / 20)).astype(np.float32)  # room tone
        segment = Segment(start_s=self.words[0].start_s, end_s=self.words[-1].end_s, text="", words=self.words)
        transcript = Transcript(language="en", duration_s=round(self.t, 3), model="script", segments=[segment])
        return PlantedTalk(samples=np.clip(samples, -1.0, 1.0), transcript=transcript, stretches=self.stretches)


def _interleave(planted: int, decoys: int) -> list[str]:
    order: list[str] = []
    while planted or decoys:
        if planted:
            order.append("planted")
            planted -= 1
        if decoys:
            order.append("decoy")
            decoys -= 1
    return order


def _utterances(path: Path, count: int) -> list[np.ndarray]:
    """The file cut into ``count`` utterances at its ``count - 1`` longest quiet gaps (20 ms frames)."""
    samples, rate = sf.read(path, dtype="float32")
    assert rate == RATE
    frame = RATE // 50
    power = np.add.reduceat(samples.astype(np.float64) ** 2, np.arange(0, len(samples), frame)) / frame
    db = 10 * np.log10(power + 1e-12)
    quiet = np.concatenate(([0], (db < np.percentile(db, 95) - 20).astype(np.int8), [0]))
    edges = np.diff(quiet)
    runs = sorted(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True), key=lambda r: r[0] - r[1])
    cuts = sorted((start + end) // 2 * frame for start, end in runs[: count - 1])
    pieces = np.split(samples, cuts)
    return [_trim(piece) for piece in pieces]


def _trim(audio: np.ndarray) -> np.ndarray:
    start, end = _speech_span(audio)
    return audio[max(0, round((start - 0.05) * RATE)) : round((end + 0.05) * RATE)]


def _speech_span(audio: np.ndarray) -> tuple[float, float]:
    frame = RATE // 100
    usable = len(audio) // frame * frame
    db = 10 * np.log10(np.mean(audio[:usable].reshape(-1, frame).astype(np.float64) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(db > db.max() - 35)
    return float(loud[0] * frame / RATE), float((loud[-1] + 1) * frame / RATE)
