"""Where steps run: GPU op tags for the step pods of GPU assets, and the executor each profile uses.

In production every step of clip_job is its own Kubernetes Job (``k8s_job_executor``). Step pods take their
Kubernetes config from their op's ``dagster-k8s/config`` tag (job-level tags do not reach them), deep-merged over
the executor's ``step_k8s_config``; so CPU steps get the defaults below and GPU steps add a GPU on top.
"""

from __future__ import annotations

import os
from typing import Any

from dagster import ExecutorDefinition, in_process_executor
from dagster_k8s import k8s_job_executor

K8S_CONFIG_TAG = "dagster-k8s/config"
GPU_RESOURCE = "nvidia.com/gpu"
# Label the GPU node pool with this (GKE/EKS add their own accelerator labels; one of ours keeps the chart portable).
GPU_NODE_SELECTOR = {"clipped.dev/accelerator": "nvidia"}
# GPU node pools are tainted so CPU pods stay off them; GPU steps tolerate the taint the NVIDIA operator uses.
GPU_TOLERATIONS = [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
GPU_STEPS = ("transcript", "faces")
# Concurrency pool of the GPU steps: caps GPU steps across all runs however they were launched (job, asset
# backfill, UI), which run tags cannot do for backfills. The limit is set on the instance (deploy/dagster.yaml).
GPU_POOL = "gpu"

GPU_OP_TAGS: dict[str, Any] = {
    K8S_CONFIG_TAG: {
        "container_config": {
            "resources": {
                # Decoding audio/frames for the GPU still needs CPU and memory of its own.
                "requests": {"cpu": "2", "memory": "6Gi"},
                "limits": {GPU_RESOURCE: "1", "memory": "16Gi"},
            }
        },
        "pod_spec_config": {"node_selector": GPU_NODE_SELECTOR, "tolerations": GPU_TOLERATIONS},
    },
    "clipped/resource": "gpu",
}

# Every step pod not overridden below: ingest, scenes, audio_features, candidates are light single-core work.
CPU_STEP_K8S_CONFIG: dict[str, Any] = {
    "container_config": {"resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "6Gi"}}}
}
# Rendering encodes several clips in parallel with x264: the one CPU-heavy step.
RENDER_STEP_K8S_CONFIG: dict[str, Any] = {
    "container_config": {"resources": {"requests": {"cpu": "4", "memory": "4Gi"}, "limits": {"memory": "12Gi"}}}
}
# Re-rendering one clip version (clip_version_job): one x264 encode and its inspection.
CLIP_VERSION_STEP_K8S_CONFIG: dict[str, Any] = {
    "container_config": {"resources": {"requests": {"cpu": "2", "memory": "2Gi"}, "limits": {"memory": "6Gi"}}}
}
GPU_IMAGE_ENV = "CLIPPED_GPU_IMAGE"


def step_executor(profile: str) -> ExecutorDefinition:
    """The executor for clip_job, clip_version_job and live_clip_job under ``profile``.

    Locally a run executes in its own process, step after step, as `clipped run` and the review API already do:
    Dagster's default multiprocess executor starts a process per step that loads the code location again, which
    made runs launched by the daemon (inbox, UI, backfills) ~4x slower on a small machine (bench/load_batch.py),
    and its steps would fight for the cores that each step already uses in full.
    """
    if profile != "prod":
        return in_process_executor
    per_step: dict[str, Any] = {
        "rendered_clips": RENDER_STEP_K8S_CONFIG,
        "clip_version": CLIP_VERSION_STEP_K8S_CONFIG,
    }
    gpu_image = os.environ.get(GPU_IMAGE_ENV)
    if gpu_image:
        # GPU steps run the CUDA image (deploy/Dockerfile.gpu); every other step the run's CPU image.
        per_step |= {step: {"container_config": {"image": gpu_image}} for step in GPU_STEPS}
    return k8s_job_executor.configured(
        {"step_k8s_config": CPU_STEP_K8S_CONFIG, "per_step_k8s_config": per_step, "max_concurrent": 4},
        name="clipped_k8s_job_executor",
    )
