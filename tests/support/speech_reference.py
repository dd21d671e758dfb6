"""A conversation whose every utterance onset is known to the sample, built from the shipped public-domain speech.

The LibriVox reading (a human voice) and the Harvard sentences (piper and espeak voices) are cut at their pauses
into single utterances, each trimmed to where its sound begins and ends, and re-joined as turns between the voices
with known gaps of room noise (0.3–3 s). Nothing of an utterance exists before its onset in the result, so a
caption's onset error is measured against the truth, not against another estimate.

Used by ``bench/caption_timing.py`` and the caption-timing regression test.
"""

from __future__ import annotations

import functools
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from clipped.types import Word
from clipped.understand.asr_audio import WHISPER_SAMPLE_RATE

DATA = Path(__file__).resolve().parents[1] / "data"
RATE = WHISPER_SAMPLE_RATE
_FRAME = RATE // 100  # 10 ms
# An utterance is what is within this many dB of its recording's loudest 10 ms; quieter is the room.
_TRIM_DB = 35.0
_FADE_S = 0.003  # no click at a cut
MATCH_LIMIT_S = 1.5  # an utterance whose first word is further off than this is missed


@dataclass(frozen=True)
class Utterance:
    voice: str
    text: str
    samples: np.ndarray


@dataclass(frozen=True)
class PlacedUtterance:
    voice: str
    text: str
    onset_s: float
    offset_s: float


@dataclass(frozen=True)
class Conversation:
    audio: np.ndarray
    utterances: list[PlacedUtterance]

    @property
    def text(self) -> str:
        return " ".join(utterance.text for utterance in self.utterances)

    def write(self, path: Path) -> Path:
        soundfile.write(path, self.audio, RATE, subtype="PCM_16")
        return path


@functools.cache
def shipped_utterances() -> dict[str, list[Utterance]]:
    """The three shipped recordings cut into their utterances, per voice."""
    librivox_text = [t.strip() for t in re.split(r"\s{2,}", (DATA / "librivox_austen_5utt.txt").read_text()) if t]
    harvard_text = [s.strip() + "." for s in (DATA / "harvard1.txt").read_text().strip().rstrip(".").split(". ")]
    return {
        "librivox": _cut(DATA / "librivox_austen_5utt.wav", librivox_text, "librivox"),
        "piper": _cut(DATA / "piper_harvard1.wav", harvard_text, "piper"),
        "espeak": _cut(DATA / "espeak_enus_harvard1.wav", harvard_text, "espeak"),
    }


def conversation(
    *, max_utterances: int | None = None, max_seconds: float | None = None, noise_dbfs: float = -55.0, seed: int = 7
) -> Conversation:
    """Turns between the human voice and the synthetic ones: each turn is 1–2 utterances (0.3–0.8 s apart),
    turns are 0.5–3 s apart, with a steady room noise at ``noise_dbfs`` (RMS) under everything."""
    rng = np.random.default_rng(seed)
    voices = shipped_utterances()
    order = ["librivox", "piper", "librivox", "espeak"]
    queues = {voice: list(items) for voice, items in voices.items()}  # copies: the cut is cached
    pieces: list[np.ndarray] = [np.zeros(int(0.8 * RATE), dtype=np.float32)]
    placed: list[PlacedUtterance] = []
    cursor = len(pieces[0])
    turn = 0
    while any(queues.values()):
        voice = order[turn % len(order)]
        turn += 1
        if not queues[voice]:
            continue
        for index in range(min(int(rng.integers(1, 3)), len(queues[voice]))):
            utterance = queues[voice].pop(0)
            if placed:
                gap_s = rng.uniform(0.3, 0.8) if index else rng.uniform(0.5, 3.0)
                pieces.append(np.zeros(int(gap_s * RATE), dtype=np.float32))
                cursor += len(pieces[-1])
            end = cursor + len(utterance.samples)
            if (max_utterances is not None and len(placed) >= max_utterances) or (
                max_seconds is not None and end / RATE > max_seconds
            ):
                queues = {}
                break
            placed.append(PlacedUtterance(voice, utterance.text, cursor / RATE, end / RATE))
            pieces.append(utterance.samples)
            cursor = end
        if not queues:
            break
    pieces.append(np.zeros(int(0.8 * RATE), dtype=np.float32))
    audio = np.concatenate(pieces)
    if noise_dbfs > -120:
        audio = audio + _room_noise(len(audio), noise_dbfs, rng)
    return Conversation(audio=audio.astype(np.float32), utterances=placed)


def _cut(path: Path, texts: list[str], voice: str) -> list[Utterance]:
    """``path`` cut at one pause near each place its text says a sentence ends (by share of characters), each
    piece trimmed to its own sound. Pauses inside a sentence can be as long as those between (piper's are)."""
    audio, rate = soundfile.read(path, dtype="float32")
    assert rate == RATE, f"{path} is not {RATE} Hz"
    audio = _high_pass(audio)
    level = _frame_db(audio)
    loud = np.flatnonzero(level >= level.max() - _TRIM_DB)
    pauses = [
        (first, last)
        for first, last in _runs(level < level.max() - _TRIM_DB)
        if first > loud[0] and last <= loud[-1] and last - first >= 8
    ]
    shares = np.cumsum([len(text) for text in texts])[:-1] / sum(len(text) for text in texts)
    cuts: list[int] = []
    for target in loud[0] + shares * (loud[-1] - loud[0]):
        later = [(first + last) // 2 for first, last in pauses if not cuts or first > cuts[-1]]
        lengths = {(first + last) // 2: last - first for first, last in pauses}
        # Near the expected place, and long: a pause between sentences is rarely shorter than one inside.
        cuts.append(min(later, key=lambda middle: abs(middle - target) - lengths[middle]))
    cuts = [frame * _FRAME for frame in cuts]
    bounds = zip([0, *cuts], [*cuts, len(audio)], strict=True)
    pieces = []
    for (first, last), text in zip(bounds, texts, strict=True):
        piece = audio[first:last]
        loud = np.flatnonzero(_frame_db(piece) >= level.max() - _TRIM_DB)
        trimmed = piece[loud[0] * _FRAME : (loud[-1] + 1) * _FRAME].copy()
        fade = int(_FADE_S * RATE)
        trimmed[:fade] *= np.linspace(0, 1, fade, dtype=np.float32)
        trimmed[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        pieces.append(Utterance(voice, text, trimmed))
    return pieces


def _high_pass(audio: np.ndarray, cutoff_hz: float = 80.0) -> np.ndarray:
    # The LibriVox recording has sub-audible rumble and pops in its pauses; below any voice, so not speech.
    spectrum = np.fft.rfft(audio)
    spectrum[np.fft.rfftfreq(len(audio), 1 / RATE) < cutoff_hz] = 0
    return np.fft.irfft(spectrum, len(audio)).astype(np.float32)


def _frame_db(audio: np.ndarray) -> np.ndarray:
    frames = audio[: len(audio) // _FRAME * _FRAME].reshape(-1, _FRAME)
    return 10 * np.log10(np.mean(np.square(frames, dtype=np.float64), axis=1) + 1e-12)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _room_noise(length: int, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    # Brownish noise: a room's rumble rather than hiss.
    white = rng.standard_normal(length)
    spectrum = np.fft.rfft(white)
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(length, 1 / RATE), 50.0))
    noise = np.fft.irfft(spectrum, length)
    return (noise / np.sqrt(np.mean(noise**2)) * 10 ** (dbfs / 20)).astype(np.float32)


# --- measuring a transcript against the reference -------------------------------------------------------------


@dataclass(frozen=True)
class TimingReport:
    onset_errors_s: list[float]  # signed: word start − true onset, one per matched utterance
    end_errors_s: list[float]  # signed: last word end − true offset
    missed: int
    utterances: int

    @property
    def onset_p50_ms(self) -> float:
        return _percentile_ms(self.onset_errors_s, 50)

    @property
    def onset_p95_ms(self) -> float:
        return _percentile_ms(self.onset_errors_s, 95)

    @property
    def end_p50_ms(self) -> float:
        return _percentile_ms(self.end_errors_s, 50)

    @property
    def end_p95_ms(self) -> float:
        return _percentile_ms(self.end_errors_s, 95)

    @property
    def mean_onset_bias_ms(self) -> float:
        return 1000 * statistics.fmean(self.onset_errors_s) if self.onset_errors_s else float("nan")


def measure_timing(words: Sequence[Word], utterances: Sequence[PlacedUtterance]) -> TimingReport:
    """Each utterance owns the words whose middle lies between the middles of the gaps around it; its onset error
    is its first word's start minus the true onset (missed when it has no word or is off by over 1.5 s), its end
    error its last word's end minus the true offset."""
    onsets, ends, missed = [], [], 0
    for index, utterance in enumerate(utterances):
        low = (utterances[index - 1].offset_s + utterance.onset_s) / 2 if index else float("-inf")
        high = (utterance.offset_s + utterances[index + 1].onset_s) / 2 if index + 1 < len(utterances) else float("inf")
        owned = [w for w in words if low <= (w.start_s + w.end_s) / 2 < high]
        if not owned or abs(owned[0].start_s - utterance.onset_s) > MATCH_LIMIT_S:
            missed += 1
            continue
        onsets.append(owned[0].start_s - utterance.onset_s)
        ends.append(owned[-1].end_s - utterance.offset_s)
    return TimingReport(onsets, ends, missed, len(utterances))


def _percentile_ms(errors: list[float], q: float) -> float:
    return float(np.percentile(np.abs(errors), q)) * 1000 if errors else float("nan")


# Spoken forms the references use for what Whisper writes as abbreviations.
_SPOKEN = {"mr": "mister", "mrs": "missus", "dr": "doctor"}


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation; hyphenated words split, abbreviations spelled as spoken."""
    words = re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()
    return [_SPOKEN.get(word, word) for word in words]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by word-level edit distance."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i]
        for j, hyp_word in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1] / max(len(ref), 1)
