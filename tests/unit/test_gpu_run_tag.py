"""The clipped/gpu run tag: only on clip_job runs that will hold a GPU, decided from the profile and ASR device."""

from __future__ import annotations

import pytest

from api.services.launcher import GraphQLLauncher
from clipped.layout import SourceRef
from clipped.run_tags import GPU_TAG, TRIGGER_TAG, WORKSPACE_TAG, run_tags_for
from clipped_resources.asr import AsrResource, FasterWhisperAsr
from clipped_resources.gpu_runs import clip_job_uses_gpu

SOURCE = SourceRef.from_partition_key("local.talk-0123456789ab")


def no_gpu() -> int:
    return 0


def one_gpu() -> int:
    return 1


@pytest.mark.parametrize(
    ("device", "count_cuda", "expected"),
    [("cpu", one_gpu, False), ("cuda", no_gpu, True), ("auto", no_gpu, False), ("auto", one_gpu, True)],
)
def test_in_process_and_local_runs_follow_the_asr_device(device, count_cuda, expected) -> None:
    asr = FasterWhisperAsr(device=device)
    assert clip_job_uses_gpu(asr, profile=None, count_cuda=count_cuda) is expected
    assert clip_job_uses_gpu(asr, profile="local", count_cuda=count_cuda) is expected


def test_prod_runs_hold_a_gpu_because_their_gpu_steps_are_gpu_pods() -> None:
    assert clip_job_uses_gpu(FasterWhisperAsr(device="cpu"), profile="prod", count_cuda=no_gpu)


def test_an_asr_without_a_device_setting_runs_on_the_cpu() -> None:
    assert not clip_job_uses_gpu(AsrResource(), profile="local", count_cuda=one_gpu)


def test_tags_carry_the_gpu_key_only_when_a_gpu_is_used() -> None:
    assert run_tags_for(SOURCE, trigger="cli", uses_gpu=False) == {
        WORKSPACE_TAG: SOURCE.workspace_id,
        TRIGGER_TAG: "cli",
    }
    assert run_tags_for(SOURCE, trigger="cli", uses_gpu=True)[GPU_TAG] == "true"


def test_graphql_submission_tags_follow_the_launcher_setting() -> None:
    cpu, gpu = GraphQLLauncher("http://dagster:3000"), GraphQLLauncher("http://dagster:3000", uses_gpu=True)
    assert GPU_TAG not in cpu.submission(SOURCE)["tags"]
    assert gpu.submission(SOURCE)["tags"][GPU_TAG] == "true"
