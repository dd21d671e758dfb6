"""Speech recognition: one interface (:class:`AsrResource`) and its faster-whisper implementation.

Assets type-hint :class:`AsrResource`; the profile decides which implementation and which model is used.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster import ConfigurableResource
from pydantic import Field

from clipped.progress import ProgressCallback, no_progress
from clipped.types import Segment, Transcript, Word
from clipped_resources.asr_audio import WHISPER_SAMPLE_RATE, chunk_bounds, load_audio_for_asr
from clipped_resources.model_store import ModelNotAvailableError, packaged_whisper_dir, packaged_whisper_models

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

_MODEL_CACHE: dict[tuple[str, str, str, int], WhisperModel] = {}
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


class FasterWhisperAsr(AsrResource):
    """Whisper through faster-whisper (CTranslate2); CPU int8 by default, CUDA float16 when a GPU is present."""

    model: str = Field(
        default="tiny.en",
        description="'tiny.en' or 'base' (packaged, offline), a local CTranslate2 folder, or a faster-whisper name",
    )
    device: str = Field(default="auto", description="cpu, cuda, or auto (cuda only when CTranslate2 sees a GPU)")
    compute_type: str = Field(default="auto", description="auto = int8 on CPU, float16 on CUDA")
    beam_size: int = Field(default=1, ge=1)
    vad_filter: bool = True
    cpu_threads: int = Field(default=0, ge=0, description="0 = all cores")
    batch_size: int = Field(default=0, ge=0, description=">0 uses faster-whisper's batched pipeline (for GPUs)")
    model_cache_dir: str | None = Field(default=None, description="where packaged models are assembled")
    chunk_s: float = Field(default=600.0, description="audio is transcribed in chunks of about this length (0 = whole)")
    allow_download: bool = Field(
        default=False, description="let faster-whisper fetch unknown model names from the Hugging Face Hub"
    )

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Transcribe with word timestamps; progress follows segment end times over the audio duration."""
        report = on_progress or no_progress
        whisper = self._load_model()
        if language is not None and language not in whisper.supported_languages:
            raise ValueError(
                f"Whisper model '{self.model}' cannot transcribe language '{language}'; "
                f"it supports: {', '.join(whisper.supported_languages)}"
            )
        options: dict[str, Any] = {
            "language": language,
            "beam_size": self.beam_size,
            "vad_filter": self.vad_filter,
            "word_timestamps": True,
            # Without it a small model that mishears once keeps repeating the mistake in later windows.
            "condition_on_previous_text": False,
        }
        audio = load_audio_for_asr(audio_path)
        duration_s = len(audio) / WHISPER_SAMPLE_RATE
        segments: list[Segment] = []
        previous_end = 0.0
        detected_language = language
        report(0.0)
        # Long audio goes in chunks cut at quiet moments: faster-whisper builds features for all the audio it
        # is given at once, which for an hour of audio costs gigabytes.
        for first, last in chunk_bounds(audio, WHISPER_SAMPLE_RATE, self.chunk_s):
            offset_s = first / WHISPER_SAMPLE_RATE
            segments_iter, info = self._transcribe_chunk(whisper, audio[first:last], options)
            if detected_language is None:
                detected_language = info.language
                options["language"] = detected_language  # later chunks keep the first chunk's language
            # faster-whisper decodes lazily: iterating the generator is where the work (and progress) happens.
            for raw in segments_iter:
                words, previous_end = _clean_words(raw.words or [], previous_end, duration_s, offset_s)
                if words:
                    segments.append(
                        Segment(start_s=words[0].start_s, end_s=words[-1].end_s, text=raw.text.strip(), words=words)
                    )
                if duration_s > 0:
                    report(min(1.0, (offset_s + float(raw.end)) / duration_s))
            if duration_s > 0:
                report(last / WHISPER_SAMPLE_RATE / duration_s)
        report(1.0)
        return Transcript(
            language=detected_language or "en", duration_s=duration_s, model=self.model, segments=segments
        )

    def _transcribe_chunk(self, whisper: WhisperModel, audio: Any, options: dict[str, Any]) -> tuple[Any, Any]:
        if self.batch_size > 0:
            from faster_whisper import BatchedInferencePipeline

            return BatchedInferencePipeline(model=whisper).transcribe(audio, batch_size=self.batch_size, **options)
        return whisper.transcribe(audio, **options)

    def _load_model(self) -> WhisperModel:
        device = _resolve_device(self.device)
        compute_type = _resolve_compute_type(self.compute_type, device)
        threads = self.cpu_threads or _available_cores()
        model_ref = self._resolve_model_ref()
        key = (model_ref, device, compute_type, threads)
        with _MODEL_CACHE_LOCK:
            cached = _MODEL_CACHE.get(key)
            if cached is None:
                cached = self._build_model(model_ref, device, compute_type, threads)
                _MODEL_CACHE[key] = cached
        return cached

    def _resolve_model_ref(self) -> str:
        cache_dir = Path(self.model_cache_dir) if self.model_cache_dir else None
        packaged = packaged_whisper_dir(self.model, cache_dir)
        if packaged is not None:
            return str(packaged)
        local = Path(self.model).expanduser()
        if local.is_dir():
            return str(local.resolve())
        return self.model

    def _build_model(self, model_ref: str, device: str, compute_type: str, threads: int) -> WhisperModel:
        from faster_whisper import WhisperModel

        try:
            return WhisperModel(
                model_ref,
                device=device,
                compute_type=compute_type,
                cpu_threads=threads,
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


def _available_cores() -> int:
    # The cores this process may run on (a container's CPU set), not the host's count.
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def _resolve_compute_type(compute_type: str, device: str) -> str:
    if compute_type != "auto":
        return compute_type
    return "float16" if device == "cuda" else "int8"


def _clean_words(
    raw_words: list[Any], previous_end: float, duration_s: float, offset_s: float = 0.0
) -> tuple[list[Word], float]:
    """Strip and drop empty words; shift chunk times by ``offset_s``; clamp times so they never go backwards,
    overlap, or pass the audio's end."""
    words: list[Word] = []
    limit = duration_s if duration_s > 0 else float("inf")
    for raw in raw_words:
        text = raw.word.strip()
        if not text:
            continue
        start = min(max(float(raw.start) + offset_s, previous_end), limit)
        end = min(max(float(raw.end) + offset_s, start), limit)
        words.append(Word(word=text, start_s=start, end_s=end, probability=float(raw.probability)))
        previous_end = end
    return words, previous_end
