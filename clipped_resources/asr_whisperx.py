"""Speech recognition through WhisperX: batched faster-whisper decoding, then wav2vec2 forced alignment of every
word, for caption timing tighter than Whisper's own cross-attention estimates.

WhisperX (and the CUDA torch it pulls) is only in the ``gpu`` extra, so it is imported when a transcription
starts, never at import time; without it the backend fails with one line that says what to install.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from clipped.progress import ProgressCallback, no_progress
from clipped.types import Segment, Transcript
from clipped_resources.asr import WhisperAsrSettings, available_cores, clean_words, whisper_model_ref
from clipped_resources.asr_audio import WHISPER_SAMPLE_RATE, chunk_bounds, load_audio_for_asr
from clipped_resources.asr_device import resolve_batch_size, resolve_compute_type, resolve_device
from clipped_resources.baked_models import ALIGNMENT_DIR
from clipped_resources.model_store import ModelNotAvailableError

_PIPELINES: dict[tuple[str, ...], Any] = {}
_ALIGNERS: dict[tuple[str, ...], tuple[Any, Any]] = {}
_LOAD_LOCK = threading.Lock()
# Share of a chunk's progress spent decoding; the rest is alignment.
_DECODE_SHARE = 0.7


class AsrBackendUnavailableError(ModelNotAvailableError):
    """The chosen ASR backend's package is not installed here."""


def import_whisperx() -> Any:
    """The ``whisperx`` module, or :class:`AsrBackendUnavailableError` naming what to install instead."""
    try:
        import whisperx
    except ImportError as exc:
        raise AsrBackendUnavailableError(
            f"the WhisperX ASR backend needs the package 'whisperx' ({exc}); it comes with the 'gpu' extra "
            "(pip install 'clipped[gpu]', installed in deploy/Dockerfile.gpu), or set "
            "CLIPPED_ASR_BACKEND=faster-whisper"
        ) from exc
    return whisperx


class WhisperXAsr(WhisperAsrSettings):
    """WhisperX: VAD-cut 30 s windows decoded in batches, then each word aligned with a wav2vec2 model."""

    model: str = Field(
        default="large-v2",
        description="faster-whisper model: a name (baked into the model cache or fetched), or a local folder",
    )
    batch_size: int | None = Field(default=None, ge=0, description="windows per decoder call; None = 16 on CUDA")
    beam_size: int = Field(default=5, ge=1)
    align_model: str | None = Field(
        default=None,
        description="wav2vec2 alignment model (torchaudio bundle or Hugging Face id); None = WhisperX's default "
        "for the language",
    )
    vad_method: str = Field(default="pyannote", description="WhisperX voice activity detector: pyannote or silero")
    allow_download: bool = Field(default=False, description="let WhisperX fetch models missing from the cache")

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Transcribe and align; words keep the source's timeline, as in the faster-whisper backend."""
        whisperx = import_whisperx()
        report = on_progress or no_progress
        device = resolve_device(self.device)
        batch_size = max(1, resolve_batch_size(self.batch_size, device))
        pipeline = self._pipeline(whisperx, device)
        audio = load_audio_for_asr(audio_path)
        duration_s = len(audio) / WHISPER_SAMPLE_RATE
        segments: list[Segment] = []
        previous_end = 0.0
        detected = language
        report(0.0)
        # Chunked like the faster-whisper backend: bounded memory for hour-long sources, cuts at quiet moments.
        for first, last in chunk_bounds(audio, WHISPER_SAMPLE_RATE, self.chunk_s):
            chunk = audio[first:last]
            offset_s = first / WHISPER_SAMPLE_RATE
            decoded = pipeline.transcribe(chunk, batch_size=batch_size, language=detected)
            detected = detected or decoded.get("language") or "en"
            if duration_s > 0:
                report((offset_s + _DECODE_SHARE * len(chunk) / WHISPER_SAMPLE_RATE) / duration_s)
            if decoded["segments"]:
                aligner, metadata = self._aligner(whisperx, detected, device)
                aligned = whisperx.align(
                    decoded["segments"], aligner, metadata, chunk, device, return_char_alignments=False
                )
                chunk_segments, previous_end = segments_from_whisperx(
                    aligned["segments"], offset_s=offset_s, previous_end=previous_end, duration_s=duration_s
                )
                segments.extend(chunk_segments)
            if duration_s > 0:
                report(last / WHISPER_SAMPLE_RATE / duration_s)
        report(1.0)
        return Transcript(
            language=detected or "en", duration_s=duration_s, model=f"whisperx:{self.model}", segments=segments
        )

    def _pipeline(self, whisperx: Any, device: str) -> Any:
        compute_type = resolve_compute_type(self.compute_type, device)
        threads = self.cpu_threads or available_cores()
        model_ref = whisper_model_ref(self.model, self.model_cache_dir)
        key = (model_ref, device, compute_type, str(threads), self.vad_method, str(self.beam_size))
        with _LOAD_LOCK:
            if key not in _PIPELINES:
                try:
                    _PIPELINES[key] = whisperx.load_model(
                        model_ref,
                        device,
                        compute_type=compute_type,
                        asr_options={"beam_size": self.beam_size},
                        vad_method=self.vad_method,
                        threads=threads,
                        local_files_only=not self.allow_download,
                    )
                except Exception as exc:
                    if Path(model_ref).is_dir():
                        raise
                    raise ModelNotAvailableError(
                        f"WhisperX could not load Whisper '{self.model}' ({type(exc).__name__}: {exc}); bake it into "
                        "the model cache (scripts/bake_models.py --whisper NAME), give a local folder, or set "
                        "allow_download=True"
                    ) from exc
            return _PIPELINES[key]

    def _aligner(self, whisperx: Any, language: str, device: str) -> tuple[Any, Any]:
        model_dir = str(Path(self.model_cache_dir).expanduser() / ALIGNMENT_DIR) if self.model_cache_dir else None
        key = (language, device, self.align_model or "", model_dir or "")
        with _LOAD_LOCK:
            if key not in _ALIGNERS:
                try:
                    _ALIGNERS[key] = whisperx.load_align_model(
                        language_code=language, device=device, model_name=self.align_model, model_dir=model_dir
                    )
                except ValueError as exc:  # WhisperX's error for a language without a default alignment model
                    raise ModelNotAvailableError(
                        f"no WhisperX alignment model for language '{language}' ({exc}); set align_model to a "
                        "wav2vec2 CTC model for it"
                    ) from exc
            return _ALIGNERS[key]


@dataclass(frozen=True)
class _TimedWord:
    word: str
    start: float
    end: float
    probability: float


def segments_from_whisperx(
    raw_segments: Sequence[Mapping[str, Any]], *, offset_s: float, previous_end: float, duration_s: float
) -> tuple[list[Segment], float]:
    """Map WhisperX's aligned segments (times relative to a chunk starting at ``offset_s``) to our schema.

    WhisperX leaves words whose characters the alignment model does not know (numerals, symbols) without
    ``start``/``end``/``score``, and a segment it could not align with no words at all. Such words are placed
    between the nearest aligned times around them (or the segment's own VAD bounds), shared out by length, with
    probability 0; words with no time around them at all are dropped rather than given made-up times. Times then
    go through the same clamping as the faster-whisper backend: never backwards, never past the audio's end.
    Returns the segments and the end time of the last word, to pass on to the next chunk.
    """
    segments: list[Segment] = []
    for raw in raw_segments:
        placed = _place_words(raw)
        words, previous_end = clean_words(placed, previous_end, duration_s, offset_s)
        if words:
            text = str(raw.get("text") or " ".join(word.word for word in words)).strip()
            segments.append(Segment(start_s=words[0].start_s, end_s=words[-1].end_s, text=text, words=words))
    return segments, previous_end


def _place_words(raw_segment: Mapping[str, Any]) -> list[_TimedWord]:
    raw_words = list(raw_segment.get("words") or [])
    if not raw_words:  # an unaligned segment: its words are only in the text
        raw_words = [{"word": token} for token in str(raw_segment.get("text") or "").split()]
    entries = [
        (text, _seconds(item.get("start")), _seconds(item.get("end")), _seconds(item.get("score")))
        for item in raw_words
        if (text := str(item.get("word") or "").strip())
    ]
    segment_start, segment_end = _seconds(raw_segment.get("start")), _seconds(raw_segment.get("end"))
    placed: list[_TimedWord] = []
    index = 0
    while index < len(entries):
        text, start, end, score = entries[index]
        if start is not None and end is not None:
            placed.append(_TimedWord(text, start, max(start, end), score if score is not None else 0.0))
            index += 1
            continue
        # A run of words without times: between the last placed end and the next aligned start.
        run_end = index
        while run_end < len(entries) and (entries[run_end][1] is None or entries[run_end][2] is None):
            run_end += 1
        left = placed[-1].end if placed else (start if start is not None else segment_start)
        right = entries[run_end][1] if run_end < len(entries) else (end if end is not None else segment_end)
        if left is not None and right is not None:
            placed.extend(_spread([entry[0] for entry in entries[index:run_end]], left, max(left, right)))
        index = run_end
    return placed


def _spread(texts: list[str], start: float, end: float) -> list[_TimedWord]:
    """Share ``start..end`` among ``texts`` in proportion to their length."""
    total = sum(len(text) for text in texts)
    words: list[_TimedWord] = []
    cursor = start
    for text in texts:
        stop = cursor + (end - start) * len(text) / total
        words.append(_TimedWord(text, cursor, stop, 0.0))
        cursor = stop
    return words


def _seconds(value: Any) -> float | None:
    """A finite float, or None for missing, None or NaN (WhisperX uses all three for 'no time')."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
