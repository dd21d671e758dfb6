"""Speech recognition through WhisperX: batched faster-whisper decoding, then wav2vec2 forced alignment of every
word, for caption timing tighter than Whisper's own cross-attention estimates.

WhisperX (and the CUDA torch it pulls) is only in the ``gpu`` extra, so it is imported when a transcription
starts, never at import time; without it the backend fails with one line that says what to install.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from clipped.progress import ProgressCallback
from clipped.types import Transcript
from clipped.understand.asr_audio import load_audio_for_asr
from clipped.understand.transcription import DecodedChunk, transcribe_in_chunks
from clipped.understand.whisperx_segments import segments_from_whisperx
from clipped_resources.asr import WhisperAsrSettings, available_cores, whisper_model_ref
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
        device = resolve_device(self.device)
        batch_size = max(1, resolve_batch_size(self.batch_size, device))
        pipeline = self._pipeline(whisperx, device)

        def decode_and_align(
            samples: np.ndarray, known_language: str | None, report_chunk: ProgressCallback
        ) -> DecodedChunk:
            decoded = pipeline.transcribe(samples, batch_size=batch_size, language=known_language)
            # The aligner is per language: a chunk whose language is neither known nor detected aligns as English.
            chunk_language = known_language or decoded.get("language") or "en"
            report_chunk(_DECODE_SHARE)
            if not decoded["segments"]:
                return DecodedChunk(language=chunk_language)
            aligner, metadata = self._aligner(whisperx, chunk_language, device)
            aligned = whisperx.align(
                decoded["segments"], aligner, metadata, samples, device, return_char_alignments=False
            )
            return DecodedChunk(language=chunk_language, segments=segments_from_whisperx(aligned["segments"]))

        return transcribe_in_chunks(
            load_audio_for_asr(audio_path),
            decode_and_align,
            model=f"whisperx:{self.model}",
            language=language,
            chunk_s=self.chunk_length_s(device),
            on_progress=on_progress,
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
