"""Speech recognition: one interface (:class:`AsrResource`) and its faster-whisper implementation.

Assets type-hint :class:`AsrResource`; the profile decides which implementation and which model is used. The
chunk loop both Whisper backends share is :func:`clipped.understand.transcription.transcribe_in_chunks`; a backend
here only loads its model and decodes one chunk.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from dagster import ConfigurableResource
from pydantic import Field

from clipped.cores import available_cores
from clipped.progress import ProgressCallback
from clipped.types import Transcript
from clipped.understand.asr_audio import WHISPER_SAMPLE_RATE, load_audio_for_asr
from clipped.understand.transcription import (
    DecodedChunk,
    DecodedSegment,
    DecodedWord,
    chunk_layout,
    transcribe_in_chunks,
)
from clipped_resources.asr_device import resolve_batch_size, resolve_compute_type, resolve_device
from clipped_resources.baked_models import baked_whisper_dir
from clipped_resources.model_store import ModelNotAvailableError, packaged_whisper_dir, packaged_whisper_models

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import Segment as FasterWhisperSegment

_MODEL_CACHE: dict[tuple[str, str, str, int], WhisperModel] = {}
CPU_CHUNK_S = 120.0
GPU_CHUNK_S = 600.0
# More concurrent chunks than this buys little and holds that many chunks' features in memory.
MAX_AUTO_PARALLEL_CHUNKS = 4
# Whisper's window: the batched pipeline decodes audio in pieces of at most this length.
_WINDOW_S = 30
_MODEL_CACHE_LOCK = threading.Lock()


class AsrResource(ConfigurableResource):
    """Turns an audio (or video) file into a word-timed transcript."""

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Transcribe ``audio_path``; ``language`` is an ISO code, or None to detect it."""
        raise NotImplementedError


class WhisperAsrSettings(AsrResource):
    """Settings every Whisper backend shares: where it runs and how long audio is split."""

    device: str = Field(default="auto", description="cpu, cuda, or auto (cuda only when CTranslate2 sees a GPU)")
    compute_type: str = Field(default="auto", description="auto = int8 on CPU, float16 on CUDA")
    cpu_threads: int = Field(default=0, ge=0, description="0 = all cores")
    model_cache_dir: str | None = Field(default=None, description="model cache (packaged models assembled, baked)")
    chunk_s: float | None = Field(
        default=None,
        description="audio is transcribed in chunks of about this length, cut at quiet moments (0 = whole); "
        "None = 120 s on the CPU (a few minutes of audio already keep parallel_chunks decoders busy), 600 s on "
        "CUDA (room for a full batch of 30 s windows)",
    )
    parallel_chunks: int = Field(
        default=0,
        ge=0,
        description="chunks decoded at once on the CPU, each on its share of cpu_threads; 0 = one per core, "
        "at most 4 (one decoder keeps only ~1.3 of 2 cores busy); on CUDA always 1",
    )

    def cpu_layout(self, device: str) -> tuple[int, int]:
        """(chunks decoded at once, threads each) on ``device``: the cores are split, never oversubscribed."""
        threads = self.cpu_threads or available_cores()
        if device != "cpu":
            return 1, threads
        workers = max(1, min(self.parallel_chunks or min(threads, MAX_AUTO_PARALLEL_CHUNKS), threads))
        return workers, max(1, threads // workers)

    def chunk_length_s(self, device: str) -> float:
        if self.chunk_s is not None:
            return self.chunk_s
        return CPU_CHUNK_S if device == "cpu" else GPU_CHUNK_S


class FasterWhisperAsr(WhisperAsrSettings):
    """Whisper through faster-whisper (CTranslate2); CPU int8 by default, CUDA float16 when a GPU is present."""

    model: str = Field(
        default="tiny.en",
        description="'tiny.en' or 'base' (packaged, offline), a local CTranslate2 folder, or a faster-whisper name",
    )
    beam_size: int = Field(default=1, ge=1)
    vad_filter: bool = True
    batch_size: int | None = Field(
        default=None,
        ge=0,
        description="windows decoded at once by faster-whisper's batched pipeline; 0 = sequential; "
        "None = 16 on CUDA, sequential on CPU",
    )
    allow_download: bool = Field(
        default=False, description="let faster-whisper fetch unknown model names from the Hugging Face Hub"
    )
    refine_word_times: bool = Field(
        default=True,
        description="move word starts and ends onto the speech onsets and offsets in the audio "
        "(energy against the noise floor, checked with Silero VAD); text and order unchanged",
    )

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Transcribe with word timestamps; progress follows segment end times over the audio duration."""
        device = resolve_device(self.device)
        batch_size = resolve_batch_size(self.batch_size, device)
        audio = load_audio_for_asr(audio_path)
        chunk_s = self.chunk_length_s(device)
        workers, threads = self.cpu_layout(device)
        # Chunks that may be decoded side by side: all but the one settling the language.
        side_by_side = len(chunk_layout(audio, chunk_s, settle_language=language is None)) - (language is None)
        if batch_size > 0 or side_by_side < 2:
            # The batched pipeline keeps the cores busy with one chunk; so does one decoder with every thread.
            workers, threads = 1, self.cpu_threads or available_cores()
        whisper = self._load_model(device, workers, threads)
        if language is not None and language not in whisper.supported_languages:
            raise ValueError(
                f"Whisper model '{self.model}' cannot transcribe language '{language}'; "
                f"it supports: {', '.join(whisper.supported_languages)}"
            )
        options: dict[str, Any] = {
            "beam_size": self.beam_size,
            "vad_filter": self.vad_filter,
            "word_timestamps": True,
            # Without it a small model that mishears once keeps repeating the mistake in later windows.
            "condition_on_previous_text": False,
        }
        decode = partial(_decode_chunk, whisper, options, batch_size)
        return transcribe_in_chunks(
            audio,
            decode,
            model=self.model,
            language=language,
            chunk_s=chunk_s,
            on_progress=on_progress,
            refine_word_times=self.refine_word_times,
            voice_probabilities=silero_voice_probabilities,
            parallel_chunks=workers,
        )

    def _load_model(self, device: str, workers: int, threads: int) -> WhisperModel:
        compute_type = resolve_compute_type(self.compute_type, device)
        model_ref = self._resolve_model_ref()
        key = (model_ref, device, compute_type, workers, threads)
        with _MODEL_CACHE_LOCK:
            cached = _MODEL_CACHE.get(key)
            if cached is None:
                cached = self._build_model(model_ref, device, compute_type, workers, threads)
                _MODEL_CACHE[key] = cached
        return cached

    def _resolve_model_ref(self) -> str:
        return whisper_model_ref(self.model, self.model_cache_dir)

    def _build_model(self, model_ref: str, device: str, compute_type: str, workers: int, threads: int) -> WhisperModel:
        from faster_whisper import WhisperModel

        try:
            return WhisperModel(
                model_ref,
                device=device,
                compute_type=compute_type,
                cpu_threads=threads,
                num_workers=workers,  # one CTranslate2 worker per chunk decoded at once
                local_files_only=not self.allow_download,
            )
        except Exception as exc:
            if Path(model_ref).is_dir():
                raise
            # faster-whisper raises ValueError for unknown names and huggingface_hub errors when offline.
            raise ModelNotAvailableError(
                f"Whisper model '{self.model}' is not available offline ({type(exc).__name__}). "
                f"Offline options: {', '.join(repr(name) for name in packaged_whisper_models())} "
                "(from installed packages), or a path to a CTranslate2 Whisper folder"
                + ("" if self.allow_download else "; set allow_download=True to fetch it from the Hugging Face Hub")
            ) from exc


def whisper_model_ref(model: str, model_cache_dir: str | None) -> str:
    """What to hand faster-whisper for ``model``: a packaged model's folder, a folder baked into the model cache
    at image build time (scripts/bake_models.py), a local folder, or else the name itself (a hub download)."""
    cache_dir = Path(model_cache_dir) if model_cache_dir else None
    packaged = packaged_whisper_dir(model, cache_dir)
    if packaged is not None:
        return str(packaged)
    baked = baked_whisper_dir(model, cache_dir)
    if baked is not None:
        return str(baked)
    local = Path(model).expanduser()
    if local.is_dir():
        return str(local.resolve())
    return model


def silero_voice_probabilities(samples: np.ndarray) -> np.ndarray:
    """Silero VAD's speech probability per 512 samples of 16 kHz audio (the ONNX model faster-whisper ships)."""
    from faster_whisper.vad import get_vad_model

    return np.asarray(get_vad_model()(samples), dtype=np.float32).reshape(-1)


def _decode_chunk(
    whisper: WhisperModel,
    options: dict[str, Any],
    batch_size: int,
    samples: np.ndarray,
    language: str | None,
    _on_progress: ProgressCallback,
) -> DecodedChunk:
    """One chunk through faster-whisper, sequentially or through its batched pipeline (``batch_size`` > 0).

    The segments stay lazy: faster-whisper decodes while they are iterated, so the chunk loop's per-segment
    progress follows the real work.
    """
    if batch_size <= 0:
        segments, info = whisper.transcribe(samples, language=language, **options)
    else:
        from faster_whisper import BatchedInferencePipeline

        batched_options = dict(options)
        if not options["vad_filter"]:
            # The batched pipeline needs speech regions to cut windows from; without VAD, fixed 30 s windows.
            duration_s = len(samples) / WHISPER_SAMPLE_RATE
            windows = max(1, math.ceil(duration_s / _WINDOW_S))
            batched_options["clip_timestamps"] = [
                {"start": index * _WINDOW_S, "end": min((index + 1) * _WINDOW_S, duration_s)}
                for index in range(windows)
            ]
        # The pipeline only wraps the loaded model, so building one per chunk costs nothing.
        pipeline = BatchedInferencePipeline(model=whisper)
        segments, info = pipeline.transcribe(samples, batch_size=batch_size, language=language, **batched_options)
    return DecodedChunk(language=info.language, segments=_decoded_segments(segments))


def _decoded_segments(segments: Iterable[FasterWhisperSegment]) -> Iterator[DecodedSegment]:
    for segment in segments:
        words = [
            DecodedWord(word.word, float(word.start), float(word.end), float(word.probability))
            for word in segment.words or []
        ]
        yield DecodedSegment(text=segment.text, end_s=float(segment.end), words=words)
