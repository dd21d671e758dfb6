"""Where ASR runs: device auto-detection, precision and batch defaults, and the backend chosen from the env."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipped_resources.asr import FasterWhisperAsr
from clipped_resources.asr_backends import asr_from_env
from clipped_resources.asr_device import (
    DEFAULT_CUDA_BATCH_SIZE,
    AsrDeviceError,
    cuda_device_count,
    resolve_batch_size,
    resolve_compute_type,
    resolve_device,
)
from clipped_resources.asr_whisperx import WhisperXAsr

SPEECH = Path(__file__).resolve().parents[1] / "data" / "librivox_austen_5utt.wav"


@pytest.mark.skipif(cuda_device_count() > 0, reason="a CUDA device is visible")
def test_auto_resolves_to_cpu_without_a_gpu() -> None:
    assert resolve_device("auto") == "cpu"


@pytest.mark.skipif(cuda_device_count() > 0, reason="a CUDA device is visible")
def test_cuda_requested_without_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(AsrDeviceError, match=r"'cuda' was requested but CTranslate2 sees no CUDA device.*auto or cpu"):
        resolve_device("cuda")


@pytest.mark.skipif(cuda_device_count() > 0, reason="a CUDA device is visible")
def test_transcribing_on_a_missing_gpu_fails_before_loading_anything() -> None:
    with pytest.raises(AsrDeviceError, match="CLIPPED_ASR_DEVICE"):
        FasterWhisperAsr(model="tiny.en", device="cuda").transcribe(SPEECH)


def test_auto_picks_cuda_when_a_device_is_visible() -> None:
    assert resolve_device("auto", count_cuda=lambda: 2) == "cuda"
    assert resolve_device("cuda", count_cuda=lambda: 1) == "cuda"
    assert resolve_device("cpu", count_cuda=lambda: 4) == "cpu"


def test_unknown_device_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown ASR device 'gpu'.*auto, cpu, cuda"):
        resolve_device("gpu", count_cuda=lambda: 1)


def test_precision_and_batching_follow_the_device() -> None:
    assert resolve_compute_type("auto", "cuda") == "float16"
    assert resolve_compute_type("auto", "cpu") == "int8"
    assert resolve_compute_type("int8_float16", "cuda") == "int8_float16"
    assert resolve_batch_size(None, "cuda") == DEFAULT_CUDA_BATCH_SIZE
    assert resolve_batch_size(None, "cpu") == 0
    assert resolve_batch_size(4, "cpu") == 4
    assert resolve_batch_size(0, "cuda") == 0


def test_env_defaults_to_faster_whisper_tiny_on_auto() -> None:
    asr = asr_from_env({})
    assert isinstance(asr, FasterWhisperAsr)
    assert (asr.model, asr.device, asr.batch_size, asr.model_cache_dir) == ("tiny.en", "auto", None, None)


def test_env_selects_whisperx_with_its_own_default_model() -> None:
    asr = asr_from_env(
        {
            "CLIPPED_ASR_BACKEND": "whisperx",
            "CLIPPED_ASR_DEVICE": "cuda",
            "CLIPPED_ASR_BATCH_SIZE": "24",
            "CLIPPED_MODEL_CACHE": "/models",
        }
    )
    assert isinstance(asr, WhisperXAsr)
    assert (asr.model, asr.device, asr.batch_size, asr.model_cache_dir) == ("large-v2", "cuda", 24, "/models")


def test_env_model_overrides_the_backend_default() -> None:
    asr = asr_from_env({"CLIPPED_ASR_BACKEND": "faster-whisper", "CLIPPED_ASR_MODEL": "base"})
    assert isinstance(asr, FasterWhisperAsr) and asr.model == "base"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CLIPPED_ASR_BACKEND": "openai"}, r"CLIPPED_ASR_BACKEND='openai'.*faster-whisper, whisperx"),
        ({"CLIPPED_ASR_DEVICE": "tpu"}, r"CLIPPED_ASR_DEVICE='tpu'.*auto, cpu, cuda"),
        ({"CLIPPED_ASR_BATCH_SIZE": "-3"}, r"CLIPPED_ASR_BATCH_SIZE='-3' must be a whole number"),
    ],
)
def test_bad_env_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        asr_from_env(env)


@pytest.mark.parametrize(
    ("settings", "device", "layout"),
    [
        ({"cpu_threads": 2}, "cpu", (2, 1)),  # two single-thread decoders keep both cores busy
        ({"cpu_threads": 16}, "cpu", (4, 4)),
        ({"cpu_threads": 2, "parallel_chunks": 1}, "cpu", (1, 2)),
        ({"cpu_threads": 3, "parallel_chunks": 8}, "cpu", (3, 1)),  # never more decoders than threads
        ({"cpu_threads": 8}, "cuda", (1, 8)),
    ],
)
def test_cpu_cores_are_split_between_chunks_never_oversubscribed(settings, device, layout) -> None:
    assert FasterWhisperAsr(**settings).cpu_layout(device) == layout


def test_chunks_are_short_on_the_cpu_and_long_enough_for_a_full_gpu_batch() -> None:
    assert FasterWhisperAsr().chunk_length_s("cpu") == 120.0
    assert FasterWhisperAsr().chunk_length_s("cuda") == 600.0
    assert FasterWhisperAsr(chunk_s=0).chunk_length_s("cpu") == 0
