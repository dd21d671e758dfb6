"""The chunked transcription loop with a fake decoder: no model, only the loop's own bookkeeping."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest

from clipped.progress import ProgressCallback
from clipped.understand.asr_audio import WHISPER_SAMPLE_RATE, chunk_bounds
from clipped.understand.transcription import (
    LANGUAGE_CHUNK_S,
    DecodedChunk,
    DecodedSegment,
    DecodedWord,
    chunk_layout,
    transcribe_in_chunks,
)

RATE = WHISPER_SAMPLE_RATE
CHUNK_S = 20.0
QUIET_S = (18.0, 37.0)  # where the cuts should fall


def speech_with_pauses(duration_s: float = 50.0) -> np.ndarray:
    audio = np.full(int(duration_s * RATE), 0.5, dtype=np.float32)
    for second in QUIET_S:
        audio[int(second * RATE) : int((second + 0.2) * RATE)] = 0.0
    return audio


@dataclass
class FakeDecoder:
    """Says the same words in every chunk, at the same chunk-relative times, and records what it was asked."""

    detected_language: str | None = "de"
    own_progress: float | None = None  # a decoder stage the loop cannot see, like WhisperX's decoding share
    calls: list[tuple[int, str | None]] = field(default_factory=list)
    progress_seen: list[float] = field(default_factory=list)
    reported: list[float] | None = None  # the loop's listener, to see progress while segments are consumed

    def __call__(self, samples: np.ndarray, language: str | None, on_progress: ProgressCallback) -> DecodedChunk:
        self.calls.append((len(samples), language))
        if self.own_progress is not None:
            on_progress(self.own_progress)
        return DecodedChunk(language=self.detected_language, segments=self._segments(len(samples) / RATE))

    def _segments(self, chunk_s: float) -> Iterator[DecodedSegment]:
        # A generator, as faster-whisper's segments are: the loop must report progress while consuming it.
        if self.reported is not None:
            self.progress_seen.append(self.reported[-1])
        yield DecodedSegment(
            text="  hello there ",
            end_s=2.0,
            words=[
                DecodedWord(" hello", 1.0, 1.4, 0.9),
                DecodedWord(" ", 1.4, 1.5, 0.1),  # whitespace-only: dropped
                DecodedWord(" there", 1.5, 2.0, 0.8),
            ],
        )
        if self.reported is not None:
            self.progress_seen.append(self.reported[-1])
        yield DecodedSegment(text=" ", end_s=3.0, words=[])  # nothing said: no segment
        # Runs 1.2 s past its chunk, over the next chunk's first word; the segment's own end further still.
        yield DecodedSegment(
            text="last", end_s=chunk_s + 5.0, words=[DecodedWord("last", chunk_s - 0.5, chunk_s + 1.2, 1)]
        )


def test_words_are_offset_by_their_chunk_start_and_cleaned() -> None:
    audio = speech_with_pauses()
    bounds = chunk_bounds(audio, RATE, CHUNK_S)
    assert len(bounds) == 3
    transcript = transcribe_in_chunks(audio, FakeDecoder(), model="fake", chunk_s=CHUNK_S)

    assert transcript.model == "fake" and transcript.duration_s == pytest.approx(50.0)
    assert [segment.text for segment in transcript.segments] == ["hello there", "last"] * 3
    for index, (first, last) in enumerate(bounds):
        offset_s, end_s = first / RATE, last / RATE
        hello, last_segment = transcript.segments[2 * index], transcript.segments[2 * index + 1]
        # After the first chunk, "hello" starts where the previous chunk's overrunning last word ended.
        hello_start_s = offset_s + (1.0 if index == 0 else 1.2)
        assert [(w.word, w.start_s, w.end_s, w.probability) for w in hello.words] == [
            ("hello", pytest.approx(hello_start_s), pytest.approx(offset_s + 1.4), 0.9),
            ("there", pytest.approx(offset_s + 1.5), pytest.approx(offset_s + 2.0), 0.8),
        ]
        assert (hello.start_s, hello.end_s) == (hello.words[0].start_s, hello.words[-1].end_s)
        (last_word,) = last_segment.words
        assert last_word.start_s == pytest.approx(end_s - 0.5)
        assert last_word.end_s == pytest.approx(min(end_s + 1.2, 50.0))  # past its chunk, never past the audio
    starts = [w.start_s for w in transcript.words]
    ends = [w.end_s for w in transcript.words]
    assert starts == sorted(starts)
    assert all(end <= next_start for end, next_start in zip(ends, starts[1:], strict=False))


def test_each_chunk_gets_its_own_samples() -> None:
    audio = speech_with_pauses()
    decoder = FakeDecoder()
    transcribe_in_chunks(audio, decoder, model="fake", chunk_s=CHUNK_S)
    assert [length for length, _ in decoder.calls] == [last - first for first, last in chunk_bounds(audio, RATE, 20)]
    whole = FakeDecoder()
    transcribe_in_chunks(audio, whole, model="fake", chunk_s=0)
    assert [length for length, _ in whole.calls] == [len(audio)]


@pytest.mark.parametrize("own_progress", [None, 0.7], ids=["segments-only", "decoder-reports-too"])
def test_progress_rises_from_zero_to_one_and_never_goes_back(own_progress: float | None) -> None:
    progress: list[float] = []
    decoder = FakeDecoder(own_progress=own_progress, reported=progress)
    transcribe_in_chunks(speech_with_pauses(), decoder, model="fake", chunk_s=CHUNK_S, on_progress=progress.append)
    assert progress[0] == 0.0 and progress[-1] == 1.0
    assert progress == sorted(progress)
    assert all(0.0 <= fraction <= 1.0 for fraction in progress)
    assert len(set(progress)) > 6  # several steps per chunk, not only the ends


def test_progress_is_reported_while_lazy_segments_are_consumed() -> None:
    progress: list[float] = []
    decoder = FakeDecoder(reported=progress)
    transcribe_in_chunks(speech_with_pauses(), decoder, model="fake", chunk_s=CHUNK_S, on_progress=progress.append)
    # Between the first and the second segment of the first chunk: the first one's end, 2 s of 50.
    assert decoder.progress_seen[:2] == [0.0, pytest.approx(2.0 / 50.0)]


def test_silent_input_reports_only_start_and_end() -> None:
    progress: list[float] = []
    transcript = transcribe_in_chunks(
        np.zeros(0, dtype=np.float32), FakeDecoder(), model="fake", on_progress=progress.append
    )
    assert progress == [0.0, 1.0]
    assert transcript.duration_s == 0.0


def test_the_first_chunks_language_is_kept_for_the_rest() -> None:
    decoder = FakeDecoder(detected_language="de")
    transcript = transcribe_in_chunks(speech_with_pauses(), decoder, model="fake", chunk_s=CHUNK_S)
    assert [language for _, language in decoder.calls] == [None, "de", "de"]
    assert transcript.language == "de"


def test_a_requested_language_is_used_throughout() -> None:
    decoder = FakeDecoder(detected_language="de")
    transcript = transcribe_in_chunks(speech_with_pauses(), decoder, model="fake", language="fr", chunk_s=CHUNK_S)
    assert [language for _, language in decoder.calls] == ["fr", "fr", "fr"]
    assert transcript.language == "fr"


def test_no_detected_language_means_english() -> None:
    decoder = FakeDecoder(detected_language=None)
    transcript = transcribe_in_chunks(speech_with_pauses(), decoder, model="fake", chunk_s=CHUNK_S)
    assert [language for _, language in decoder.calls] == [None, None, None]
    assert transcript.language == "en"


@dataclass
class ConcurrentDecoder(FakeDecoder):
    """A FakeDecoder whose second and third chunks only finish when both are being decoded at once."""

    barrier: threading.Barrier = field(default_factory=lambda: threading.Barrier(2, timeout=10))
    threads: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, samples: np.ndarray, language: str | None, on_progress: ProgressCallback) -> DecodedChunk:
        with self.lock:
            decoded = super().__call__(samples, language, on_progress)
            index = len(self.calls) - 1
        return DecodedChunk(decoded.language, self._meeting(index, decoded.segments))

    def _meeting(self, index: int, segments: Iterator[DecodedSegment]) -> Iterator[DecodedSegment]:
        if index in (1, 2):
            self.threads.add(threading.current_thread().name)
            self.barrier.wait()  # times out (BrokenBarrierError) if the chunks were decoded one at a time
        yield from segments


def test_parallel_chunks_decode_at_once_and_give_the_same_transcript() -> None:
    audio = np.full(int(200 * RATE), 0.5, dtype=np.float32)
    sequential = transcribe_in_chunks(audio, FakeDecoder(), model="fake", chunk_s=CHUNK_S)
    decoder = ConcurrentDecoder()
    reported: list[float] = []
    parallel = transcribe_in_chunks(
        audio, decoder, model="fake", chunk_s=CHUNK_S, parallel_chunks=2, on_progress=reported.append
    )

    assert parallel == sequential and len(parallel.segments) == 2 * len(chunk_bounds(audio, RATE, CHUNK_S))
    assert len(decoder.threads) == 2
    # The first chunk settled the language before any other chunk started; the rest were asked for it.
    assert decoder.calls[0][1] is None and {language for _, language in decoder.calls[1:]} == {"de"}
    assert reported == sorted(reported) and reported[-1] == 1.0 and len(set(reported)) > 3


def test_a_short_first_chunk_settles_the_language() -> None:
    audio = np.full(int(2000 * RATE), 0.5, dtype=np.float32)
    settling = chunk_layout(audio, 600.0, settle_language=True)
    given = chunk_layout(audio, 600.0, settle_language=False)

    assert given == chunk_bounds(audio, RATE, 600.0)
    # Cut at the quietest moment of the 20 s before the nominal end, as every chunk is.
    assert settling[0][0] == 0 and LANGUAGE_CHUNK_S - 20 <= settling[0][1] / RATE <= LANGUAGE_CHUNK_S
    assert settling[-1] == given[-1]
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(settling))
