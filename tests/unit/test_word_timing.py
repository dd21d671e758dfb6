"""Word-time refinement on generated sound with known onsets: bursts of voice-like sound in room noise."""

from __future__ import annotations

import numpy as np
import pytest

from clipped.types import Segment, Transcript, Word
from clipped.understand.transcription import DecodedChunk, DecodedSegment, DecodedWord, transcribe_in_chunks
from clipped.understand.word_timing import (
    RATE,
    IslandSettings,
    SpeechIsland,
    frame_levels_db,
    refine_transcript,
    refine_word_times,
    speech_islands,
)

# (onset, offset) of each burst, in seconds.
BURSTS = [(0.50, 1.30), (2.10, 2.60), (4.05, 5.20)]
DURATION_S = 6.0
TOLERANCE_S = 0.02


def voice_like(samples: int, rng: np.random.Generator) -> np.ndarray:
    """A buzzing tone (120 Hz harmonics) with breath noise on top: energy across the speech bands."""
    t = np.arange(samples) / RATE
    harmonics = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 30))
    return (0.1 * harmonics + 0.02 * rng.standard_normal(len(t))).astype(np.float32)


def bursts_in_noise(bursts=BURSTS, *, unvoiced=(), noise_rms: float = 10 ** (-60 / 20), seed: int = 3) -> np.ndarray:
    """Voice-like ``bursts`` and loud ``unvoiced`` hiss bursts (a click, a breath) in quiet room noise."""
    rng = np.random.default_rng(seed)
    audio = (noise_rms * rng.standard_normal(int(DURATION_S * RATE))).astype(np.float32)
    for onset, offset in bursts:
        first, last = int(onset * RATE), int(offset * RATE)
        audio[first:last] += voice_like(last - first, rng)
    for onset, offset in unvoiced:
        first, last = int(onset * RATE), int(offset * RATE)
        audio[first:last] += 0.05 * rng.standard_normal(last - first).astype(np.float32)
    return audio


def periodicity_voice(samples: np.ndarray) -> np.ndarray:
    """A voice detector for these signals: a 512-sample window is voice when it repeats at the 120 Hz pitch."""
    windows = samples[: len(samples) // 512 * 512].reshape(-1, 512).astype(np.float64)
    lag = RATE // 120
    head, tail = windows[:, :-lag], windows[:, lag:]
    correlation = np.sum(head * tail, axis=1) / np.sqrt(np.sum(head**2, axis=1) * np.sum(tail**2, axis=1) + 1e-12)
    return (correlation > 0.5).astype(np.float32)


def word(text: str, start: float, end: float) -> Word:
    return Word(word=text, start_s=start, end_s=end, probability=0.9)


def test_levels_follow_a_tone_in_its_band() -> None:
    t = np.arange(RATE) / RATE
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)  # mean square 0.125 = -9 dBFS
    levels = frame_levels_db(tone, [(500.0, 1500.0), (4000.0, 8000.0)])
    assert levels.shape == (98, 2)
    assert np.median(levels[:, 0]) == pytest.approx(-9.0, abs=0.5)
    assert np.median(levels[:, 1]) < -60


def test_islands_start_and_end_where_the_sound_does() -> None:
    islands = speech_islands(bursts_in_noise())
    assert len(islands) == len(BURSTS)
    for island, (onset, offset) in zip(islands, BURSTS, strict=True):
        assert island.start_s == pytest.approx(onset, abs=TOLERANCE_S)
        assert island.end_s == pytest.approx(offset, abs=TOLERANCE_S)


def test_islands_bridge_a_stop_but_not_a_pause() -> None:
    # 80 ms of closure inside a word is one island; 300 ms between words are two.
    islands = speech_islands(bursts_in_noise([(0.5, 1.0), (1.08, 1.6), (1.9, 2.4)]))
    assert [(round(i.start_s, 1), round(i.end_s, 1)) for i in islands] == [(0.5, 1.6), (1.9, 2.4)]


def test_first_and_last_words_snap_to_the_sound_and_inner_words_keep_their_times() -> None:
    words = [
        word("early", 0.20, 0.70),  # starts 300 ms before the sound, in the silence
        word("inside", 0.70, 1.00),
        word("lingers", 1.00, 1.75),  # ends 450 ms into the silence after it
        word("late", 2.30, 2.55),  # starts 200 ms after the sound does
        word("one", 4.00, 4.60),
        word("two", 4.60, 5.00),  # ends 200 ms before the sound does
    ]
    refined = refine_word_times(words, speech_islands(bursts_in_noise()))
    assert [w.word for w in refined] == [w.word for w in words]
    assert [w.probability for w in refined] == [w.probability for w in words]
    assert refined[0].start_s == pytest.approx(0.50, abs=TOLERANCE_S)
    assert (refined[1].start_s, refined[1].end_s) == (0.70, 1.00)
    assert refined[2].end_s == pytest.approx(1.30, abs=TOLERANCE_S)
    assert refined[3].start_s == pytest.approx(2.10, abs=TOLERANCE_S)
    assert refined[3].end_s == pytest.approx(2.60, abs=TOLERANCE_S)
    assert refined[4].start_s == pytest.approx(4.05, abs=TOLERANCE_S)
    assert refined[5].end_s == pytest.approx(5.20, abs=TOLERANCE_S)


def test_a_word_is_moved_inside_speech_by_at_most_the_limit() -> None:
    islands = [SpeechIsland(1.0, 5.0)]
    refined = refine_word_times([word("far", 2.5, 3.0), word("off", 3.0, 3.5)], islands, max_shift_s=0.8)
    # 1.5 s after the onset and before the offset: the sound gives no reason to believe these edges.
    assert (refined[0].start_s, refined[-1].end_s) == (2.5, 3.5)


def test_audio_without_pauses_leaves_times_as_they_were() -> None:
    # Talk over a music bed: one island from start to end, nothing to read word edges from.
    rng = np.random.default_rng(5)
    audio = voice_like(int(DURATION_S * RATE), rng)
    words = [word("over", 1.0, 1.4), word("the", 1.4, 1.6), word("music", 1.6, 2.2)]
    assert refine_word_times(words, speech_islands(audio)) == words


def test_refined_words_never_overlap_nor_go_backwards() -> None:
    # The decoder crams three words into the silence before the first burst; they are pushed into it in order.
    words = [word("a", 0.05, 0.10), word("b", 0.10, 0.15), word("c", 0.15, 0.45), word("d", 2.2, 2.5)]
    refined = refine_word_times(words, speech_islands(bursts_in_noise()))
    previous_end = 0.0
    for item in refined:
        assert previous_end <= item.start_s <= item.end_s
        previous_end = item.end_s
    assert refined[0].start_s == pytest.approx(0.50, abs=TOLERANCE_S)


def test_a_click_without_voice_does_not_take_the_first_word() -> None:
    audio = bursts_in_noise([(2.10, 2.60)], unvoiced=[(1.0, 1.04)])  # a 40 ms click a second before the speech
    words = [word("hello", 1.02, 1.5)]  # the decoder started it at the click
    assert refine_word_times(words, speech_islands(audio))[0].start_s == pytest.approx(1.0, abs=TOLERANCE_S)
    voiced = speech_islands(audio, voice_probabilities=periodicity_voice)
    assert len(voiced) == 1
    assert refine_word_times(words, voiced)[0].start_s == pytest.approx(2.10, abs=TOLERANCE_S)


def test_an_unvoiced_lead_in_joins_the_voice_after_it() -> None:
    # An aspirated "h": breath 150 ms, quiet 200 ms, then voice; the caption starts with the breath.
    audio = bursts_in_noise([(1.35, 2.0)], unvoiced=[(1.0, 1.15)])
    assert len(speech_islands(audio)) == 2
    islands = speech_islands(audio, voice_probabilities=periodicity_voice, settings=IslandSettings(lead_in_gap_s=0.3))
    assert len(islands) == 1
    assert islands[0].start_s == pytest.approx(1.0, abs=TOLERANCE_S)
    assert islands[0].end_s == pytest.approx(2.0, abs=TOLERANCE_S)


def test_long_sounds_are_taken_as_voice_without_asking() -> None:
    audio = bursts_in_noise([], unvoiced=[(1.0, 1.05), (2.0, 3.5)])
    asked: list[int] = []

    def deaf(samples: np.ndarray) -> np.ndarray:
        asked.append(len(samples))
        return np.zeros(len(samples) // 512, dtype=np.float32)

    islands = speech_islands(audio, voice_probabilities=deaf)
    assert [(round(i.start_s, 1), round(i.end_s, 1)) for i in islands] == [(2.0, 3.5)]
    assert len(asked) == 1 and asked[0] < 0.5 * RATE  # only the short click was listened to


def test_transcript_segments_follow_their_refined_words() -> None:
    audio = bursts_in_noise()
    segments = [
        Segment(
            start_s=0.2, end_s=1.75, text="early lingers", words=[word("early", 0.2, 0.7), word("lingers", 0.7, 1.75)]
        ),
        Segment(start_s=3.9, end_s=5.9, text="to the end", words=[word("to", 3.9, 4.5), word("end", 4.5, 5.9)]),
    ]
    transcript = Transcript(language="en", duration_s=DURATION_S, model="fake", segments=segments)
    refined = refine_transcript(transcript, audio)
    assert [s.text for s in refined.segments] == ["early lingers", "to the end"]
    for segment in refined.segments:
        assert (segment.start_s, segment.end_s) == (segment.words[0].start_s, segment.words[-1].end_s)
    assert refined.segments[0].start_s == pytest.approx(0.50, abs=TOLERANCE_S)
    assert refined.segments[1].end_s == pytest.approx(5.20, abs=TOLERANCE_S)
    assert refined.segments[1].start_s == pytest.approx(4.05, abs=TOLERANCE_S)


def test_the_transcription_loop_refines_when_asked() -> None:
    audio = bursts_in_noise()

    def decode(samples: np.ndarray, language: str | None, _progress) -> DecodedChunk:
        words = [DecodedWord(" hi", 0.25, 0.9, 0.9), DecodedWord(" there", 0.9, 1.7, 0.9)]
        return DecodedChunk(language="en", segments=[DecodedSegment(text=" hi there", end_s=1.7, words=words)])

    raw = transcribe_in_chunks(audio, decode, model="fake", chunk_s=0)
    refined = transcribe_in_chunks(audio, decode, model="fake", chunk_s=0, refine_word_times=True)
    assert raw.words[0].start_s == 0.25
    assert refined.words[0].start_s == pytest.approx(0.50, abs=TOLERANCE_S)
    assert refined.words[-1].end_s == pytest.approx(1.30, abs=TOLERANCE_S)
    assert [w.word for w in refined.words] == ["hi", "there"]


def test_silent_or_empty_input_changes_nothing() -> None:
    empty = Transcript(language="en", duration_s=0.0, model="fake", segments=[])
    assert refine_transcript(empty, np.zeros(0, dtype=np.float32)) == empty
    assert speech_islands(np.zeros(RATE, dtype=np.float32)) == []
    words = [word("ghost", 0.2, 0.5)]
    assert refine_word_times(words, []) == words
