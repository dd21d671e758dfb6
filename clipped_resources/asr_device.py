"""Where speech recognition runs: device, numeric precision and batch size, decided at call time.

CUDA is detected through CTranslate2 (which faster-whisper and WhisperX both run on), so no torch import is needed
to decide; a GPU that CTranslate2 cannot see is a GPU neither backend could use.
"""

from __future__ import annotations

from collections.abc import Callable

DEVICES = ("auto", "cpu", "cuda")
# Batches of 30 s windows per decoder call on a GPU; 16 fits large-v2/v3 in float16 within 10 GB.
DEFAULT_CUDA_BATCH_SIZE = 16


class AsrDeviceError(RuntimeError):
    """The requested ASR device cannot be used here; the message says what was found and what to set instead."""


def cuda_device_count() -> int:
    """CUDA devices CTranslate2 can use (0 without a GPU, a driver, or a CUDA build of CTranslate2)."""
    import ctranslate2

    try:
        return int(ctranslate2.get_cuda_device_count())
    except RuntimeError:  # a CUDA build of CTranslate2 without a usable driver
        return 0


def resolve_device(requested: str, count_cuda: Callable[[], int] = cuda_device_count) -> str:
    """``cpu`` or ``cuda`` for ``requested`` (``auto``, ``cpu`` or ``cuda``).

    ``auto`` picks CUDA when a device is visible. An explicit ``cuda`` without one raises :class:`AsrDeviceError`
    rather than silently running a GPU-sized model on the CPU for hours.
    """
    if requested not in DEVICES:
        raise ValueError(f"unknown ASR device {requested!r}; expected one of {', '.join(DEVICES)}")
    if requested == "cpu":
        return "cpu"
    available = count_cuda()
    if requested == "cuda" and available == 0:
        raise AsrDeviceError(
            "ASR device 'cuda' was requested but CTranslate2 sees no CUDA device (no GPU, no NVIDIA driver in "
            "this container, or a CPU-only build); set CLIPPED_ASR_DEVICE=auto or cpu, or run on a GPU node"
        )
    return "cuda" if available > 0 else "cpu"


def resolve_compute_type(compute_type: str, device: str) -> str:
    """``auto`` becomes float16 on CUDA (tensor cores) and int8 on CPU (4× less memory traffic than float32)."""
    if compute_type != "auto":
        return compute_type
    return "float16" if device == "cuda" else "int8"


def resolve_batch_size(batch_size: int | None, device: str) -> int:
    """``None`` means batched on CUDA and sequential on CPU, where batching buys little on a few cores."""
    if batch_size is not None:
        return batch_size
    return DEFAULT_CUDA_BATCH_SIZE if device == "cuda" else 0
