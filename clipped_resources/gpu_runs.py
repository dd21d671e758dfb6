"""Whether a clip_job run will hold a GPU: the one place its ``clipped/gpu`` run tag is decided."""

from __future__ import annotations

from collections.abc import Callable

from clipped_resources.asr import AsrResource
from clipped_resources.asr_device import cuda_device_count


def clip_job_uses_gpu(
    asr: AsrResource, *, profile: str | None, count_cuda: Callable[[], int] = cuda_device_count
) -> bool:
    """Whether a clip_job run will hold a GPU, for its ``clipped/gpu`` run tag (the queue caps those runs).

    ``profile`` is the profile whose executor runs the steps; None when the run executes in this process (the
    CLI, the review API's embedded worker), where the executor is Dagster's in-process one. Under prod the GPU
    steps are pods that ask for a GPU (``clipped_assets.placement.GPU_OP_TAGS``). Otherwise only transcription
    can use a GPU: when the ASR device is ``cuda``, or ``auto`` and CTranslate2 sees a device on this machine
    (the one the run executes on in the local profile). An ASR resource without a ``device`` setting never does.
    """
    if profile == "prod":
        return True
    device = getattr(asr, "device", "cpu")
    return device == "cuda" or (device == "auto" and count_cuda() > 0)
