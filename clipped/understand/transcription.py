"""Chunked speech recognition: long audio is cut into chunks at quiet moments, each chunk is decoded by whichever
Whisper backend the caller supplies, and the chunks' words are put back on the source's timeline as one transcript.

The backends (``clipped_resources.asr``, ``clipped_resources.asr_whisperx``) only load their models and decode one
chunk; cutting, offsetting, clamping, language choice and progress happen here, once, the same way for both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from clipped.progress import ProgressCallback, no_progress
from clipped.types import Segment, Transcript, Word
from clipped.understand.asr_audio import WHISPER_SAMPLE_RATE, chunk_bounds
from clipped.understand.word_timing import VoiceProbabilities, refine_transcript


@dataclass(frozen=True)
class DecodedWord:
    """A word as a decoder gives it: times in seconds from the start of its chunk, text not yet stripped."""

    word: str
    start_s: float
    end_s: float
    probability: float


@dataclass(frozen=True)
class DecodedSegment:
    """A decoder's segment; ``end_s`` (from the chunk's start) is only used to report progress."""

    text: str
    end_s: float
    words: Sequence[DecodedWord]


@dataclass(frozen=True)
class DecodedChunk:
    """One chunk's decoding: the language the decoder used or detected, and its segments.

    ``segments`` may be lazy (faster-whisper decodes while it is iterated), so progress is reported per segment
    as the loop consumes it.
    """

    language: str | None
    segments: Iterable[DecodedSegment] = field(default_factory=tuple)


class ChunkDecoder(Protocol):
    """What the loop needs from a speech recognition backend: decode one chunk of 16 kHz mono samples.

    ``language`` is an ISO code, or None to let the decoder detect it. ``on_progress`` takes the fraction of this
    chunk done, for decoders with stages the loop cannot see (WhisperX decodes, then aligns).
    """

    def __call__(self, samples: np.ndarray, language: str | None, on_progress: ProgressCallback, /) -> DecodedChunk: ...


# The chunk that settles the language for the rest is decoded before any other, so it is kept to one Whisper window.
LANGUAGE_CHUNK_S = 30.0


def transcribe_in_chunks(
    audio: np.ndarray,
    decode: ChunkDecoder,
    *,
    model: str,
    language: str | None = None,
    chunk_s: float = 600.0,
    on_progress: ProgressCallback | None = None,
    refine_word_times: bool = False,
    voice_probabilities: VoiceProbabilities | None = None,
    parallel_chunks: int = 1,
) -> Transcript:
    """Transcribe 16 kHz mono ``audio`` chunk by chunk with ``decode`` into one transcript named ``model``.

    Chunks of about ``chunk_s`` (0 = one chunk) are cut at quiet moments: decoders build features for all the
    audio they are given at once, which for an hour of audio costs gigabytes. Word times are shifted onto the
    whole audio's timeline and never go backwards, overlap or pass its end. When ``language`` is None, the
    first chunk's detected language is used for every later chunk, so one source gets one language (``en`` if
    none was detected). Progress rises from 0.0 to 1.0 and never goes back.

    ``parallel_chunks`` > 1 decodes that many chunks at once from threads (``decode`` must allow it: a
    CTranslate2 model with as many workers). One decoder on two cores keeps ~1.3 of them busy; two single-thread
    workers keep both. The words are the same: chunks are decoded independently either way.

    With ``refine_word_times``, word times are then moved onto the speech onsets and offsets the audio shows
    (:mod:`clipped.understand.word_timing`; ``voice_probabilities`` tells voice from other sounds), text unchanged.
    """
    duration_s = len(audio) / WHISPER_SAMPLE_RATE
    report = _ForwardOnlyProgress(on_progress or no_progress, duration_s)
    report.fraction(0.0)
    bounds = chunk_layout(audio, chunk_s, settle_language=language is None)
    if parallel_chunks > 1 and len(bounds) > 1:
        decoded_chunks = _decode_in_parallel(audio, decode, language, bounds, parallel_chunks, report)
    else:
        decoded_chunks = _decode_in_order(audio, decode, language, bounds, report)
    segments: list[Segment] = []
    previous_end = 0.0
    for offset_s, decoded in decoded_chunks:
        if language is None:
            language = decoded.language
        for decoded_segment in decoded.segments:
            segment, previous_end = segment_on_timeline(
                decoded_segment, offset_s=offset_s, previous_end=previous_end, duration_s=duration_s
            )
            if segment is not None:
                segments.append(segment)
    transcript = Transcript(language=language or "en", duration_s=duration_s, model=model, segments=segments)
    if refine_word_times:
        transcript = refine_transcript(transcript, audio, voice_probabilities=voice_probabilities)
    report.fraction(1.0)
    return transcript


def chunk_layout(audio: np.ndarray, chunk_s: float, *, settle_language: bool) -> list[tuple[int, int]]:
    """Sample ranges of about ``chunk_s`` cut at quiet moments; when the first chunk must settle the language, it
    is cut again to about :data:`LANGUAGE_CHUNK_S`, since every other chunk waits for it. The layout does not
    depend on how many chunks are decoded at once, so neither do the words."""
    bounds = chunk_bounds(audio, WHISPER_SAMPLE_RATE, chunk_s)
    if not settle_language or chunk_s <= 0:
        return bounds
    first, last = bounds[0]
    head = chunk_bounds(audio[first:last], WHISPER_SAMPLE_RATE, min(chunk_s, LANGUAGE_CHUNK_S))
    return [(first + start, first + end) for start, end in head] + bounds[1:]


def _decode_in_order(
    audio: np.ndarray,
    decode: ChunkDecoder,
    language: str | None,
    bounds: list[tuple[int, int]],
    report: _ForwardOnlyProgress,
) -> Iterable[tuple[float, DecodedChunk]]:
    """(chunk offset, decoded chunk) one chunk after another; a chunk's segments are decoded as they are read, so
    progress follows each segment's end."""
    for first, last in bounds:
        offset_s, chunk_end_s = first / WHISPER_SAMPLE_RATE, last / WHISPER_SAMPLE_RATE
        decoded = decode(audio[first:last], language, report.within(offset_s, chunk_end_s))
        language = language or decoded.language
        yield offset_s, DecodedChunk(decoded.language, _reporting(decoded.segments, offset_s, chunk_end_s, report))
        report.at_time(chunk_end_s)


def _reporting(
    segments: Iterable[DecodedSegment], offset_s: float, chunk_end_s: float, report: _ForwardOnlyProgress
) -> Iterable[DecodedSegment]:
    for segment in segments:
        yield segment
        report.at_time(min(offset_s + segment.end_s, chunk_end_s))


def _decode_in_parallel(
    audio: np.ndarray,
    decode: ChunkDecoder,
    language: str | None,
    bounds: list[tuple[int, int]],
    workers: int,
    report: _ForwardOnlyProgress,
) -> list[tuple[float, DecodedChunk]]:
    """(chunk offset, decoded chunk) for every chunk, in order, decoded ``workers`` at a time. Without a
    language, the first chunk is decoded alone to settle it; progress counts the audio of finished chunks."""
    done = _SecondsDone(report)
    decoded: list[tuple[float, DecodedChunk]] = []
    if language is None:
        decoded.append(_decode_fully(audio, decode, language, bounds[0], done))
        language = decoded[0][1].language
        bounds = bounds[1:]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="asr-chunk") as pool:
        decoded += pool.map(lambda bound: _decode_fully(audio, decode, language, bound, done), bounds)
    return decoded


def _decode_fully(
    audio: np.ndarray, decode: ChunkDecoder, language: str | None, bound: tuple[int, int], done: _SecondsDone
) -> tuple[float, DecodedChunk]:
    first, last = bound
    decoded = decode(audio[first:last], language, no_progress)
    segments = tuple(decoded.segments)  # lazy decoders do their work here, in this worker's thread
    done.add((last - first) / WHISPER_SAMPLE_RATE)
    return first / WHISPER_SAMPLE_RATE, DecodedChunk(decoded.language, segments)


class _SecondsDone:
    """Seconds of audio decoded so far by any worker, reported as progress."""

    def __init__(self, report: _ForwardOnlyProgress) -> None:
        self._report = report
        self._seconds = 0.0
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            self._seconds += seconds
            self._report.at_time(self._seconds)


def segment_on_timeline(
    decoded: DecodedSegment, *, offset_s: float, previous_end: float, duration_s: float
) -> tuple[Segment | None, float]:
    """``decoded`` (from a chunk starting at ``offset_s``) as a transcript segment, or None when it has no words
    left after cleaning; returns the end of its last word too, for the next segment."""
    words, previous_end = clean_words(decoded.words, previous_end, duration_s, offset_s)
    if not words:
        return None, previous_end
    segment = Segment(start_s=words[0].start_s, end_s=words[-1].end_s, text=decoded.text.strip(), words=words)
    return segment, previous_end


def clean_words(
    raw_words: Sequence[DecodedWord], previous_end: float, duration_s: float, offset_s: float = 0.0
) -> tuple[list[Word], float]:
    """Strip and drop empty words; shift chunk times by ``offset_s``; clamp times so they never go backwards,
    overlap, or pass the audio's end."""
    words: list[Word] = []
    limit = duration_s if duration_s > 0 else float("inf")
    for raw in raw_words:
        text = raw.word.strip()
        if not text:
            continue
        start = min(max(float(raw.start_s) + offset_s, previous_end), limit)
        end = min(max(float(raw.end_s) + offset_s, start), limit)
        words.append(Word(word=text, start_s=start, end_s=end, probability=float(raw.probability)))
        previous_end = end
    return words, previous_end


class _ForwardOnlyProgress:
    """Reports the fraction done, never less than already reported: a decoder's own progress (WhisperX's
    decoding share) can run ahead of the segment times that follow it."""

    def __init__(self, report: ProgressCallback, duration_s: float) -> None:
        self._report = report
        self._duration_s = duration_s
        self._done = 0.0

    def fraction(self, done: float) -> None:
        self._done = max(self._done, done)
        self._report(self._done)

    def within(self, start_s: float, end_s: float) -> ProgressCallback:
        """A callback taking the fraction done of the stretch ``start_s..end_s``."""
        return lambda done: self.at_time(start_s + min(max(done, 0.0), 1.0) * (end_s - start_s))

    def at_time(self, time_s: float) -> None:
        # Silent audio has no timeline to measure by; only the first and last reports are made.
        if self._duration_s > 0:
            self.fraction(min(1.0, time_s / self._duration_s))
