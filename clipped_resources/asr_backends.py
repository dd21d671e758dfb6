"""Choosing the ASR implementation from the environment, for the profiles in ``profiles.py``.

=========================  =======================================================================
``CLIPPED_ASR_BACKEND``    ``faster-whisper`` (default) or ``whisperx`` (``gpu`` extra only)
``CLIPPED_ASR_DEVICE``     ``auto`` (default: CUDA when CTranslate2 sees a GPU), ``cpu`` or ``cuda``
``CLIPPED_ASR_MODEL``      Whisper model; default ``tiny.en`` for faster-whisper, ``large-v2`` for WhisperX
``CLIPPED_ASR_BATCH_SIZE`` windows per decoder call; unset = 16 on CUDA, sequential on CPU
``CLIPPED_MODEL_CACHE``    the model cache (packaged models assembled there, baked ones read from it)
=========================  =======================================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from clipped_resources.asr import AsrResource, FasterWhisperAsr
from clipped_resources.asr_device import DEVICES
from clipped_resources.asr_whisperx import WhisperXAsr

ASR_BACKENDS = ("faster-whisper", "whisperx")
# tiny.en is the CPU default: ~0.03-0.05 real-time factor on 2 cores (base is ~0.06-0.12).
_DEFAULT_MODELS = {"faster-whisper": "tiny.en", "whisperx": "large-v2"}


def asr_from_env(env: Mapping[str, str] | None = None) -> AsrResource:
    """The ASR resource the ``CLIPPED_ASR_*`` variables describe; raises ValueError naming a bad value."""
    env = os.environ if env is None else env
    backend = env.get("CLIPPED_ASR_BACKEND", "faster-whisper").strip().lower() or "faster-whisper"
    if backend not in ASR_BACKENDS:
        raise ValueError(f"CLIPPED_ASR_BACKEND={backend!r} is not a backend; expected one of {', '.join(ASR_BACKENDS)}")
    device = env.get("CLIPPED_ASR_DEVICE", "auto").strip().lower() or "auto"
    if device not in DEVICES:
        raise ValueError(f"CLIPPED_ASR_DEVICE={device!r} is not a device; expected one of {', '.join(DEVICES)}")
    settings: dict[str, object] = {
        "model": env.get("CLIPPED_ASR_MODEL") or _DEFAULT_MODELS[backend],
        "device": device,
        "model_cache_dir": env.get("CLIPPED_MODEL_CACHE") or None,
    }
    batch = env.get("CLIPPED_ASR_BATCH_SIZE", "").strip()
    if batch:
        if not batch.isdigit():
            raise ValueError(f"CLIPPED_ASR_BATCH_SIZE={batch!r} must be a whole number (0 = sequential)")
        settings["batch_size"] = int(batch)
    if backend == "whisperx":
        return WhisperXAsr(**settings)
    return FasterWhisperAsr(**settings)
