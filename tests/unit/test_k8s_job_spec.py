"""The Kubernetes Job a step of clip_job gets in production, built with dagster-k8s's own spec builder.

The step config is layered the way ``k8s_job_executor`` layers it: the executor's ``step_k8s_config``, then the
op's ``dagster-k8s/config`` tag, then the executor's ``per_step_k8s_config`` (deep merges).
"""

from __future__ import annotations

from typing import Any

import pytest
from dagster import AssetKey
from dagster_k8s import DagsterK8sJobConfig, construct_dagster_k8s_job
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import UserDefinedDagsterK8sConfig, get_user_defined_k8s_config

from clipped_assets.placement import GPU_IMAGE_ENV, GPU_NODE_SELECTOR, GPU_POOL, GPU_RESOURCE, step_executor
from definitions import build_definitions

RUN_IMAGE = "registry.example.com/clipped:1.0.0"
GPU_IMAGE = "registry.example.com/clipped-gpu:1.0.0"
ALL_STEPS = ("source_video", "transcript", "scenes", "audio_features", "candidates", "faces", "rendered_clips")
GPU_STEPS = {"transcript", "faces"}


def prod_executor_config() -> dict[str, Any]:
    """The prod executor's config, resolved through k8s_job_executor's own schema (so it is also validated)."""
    resolved = step_executor("prod").config_schema.resolve_config({})
    assert resolved.success, resolved.errors
    return resolved.value["config"]


def step_job(step: str) -> dict[str, Any]:
    """The Kubernetes Job (as a dict) for ``step`` of clip_job with the prod executor."""
    executor = prod_executor_config()
    op_tags = build_definitions("local").resolve_asset_graph().get(AssetKey(step)).assets_def.op.tags
    context = (
        K8sContainerContext(run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(executor["step_k8s_config"]))
        .merge(K8sContainerContext(run_k8s_config=get_user_defined_k8s_config(op_tags)))
        .merge(
            K8sContainerContext(
                run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(executor["per_step_k8s_config"].get(step, {}))
            )
        )
    )
    job = construct_dagster_k8s_job(
        job_config=DagsterK8sJobConfig(
            job_image=RUN_IMAGE, dagster_home="/opt/dagster/dagster_home", instance_config_map="dagster-instance"
        ),
        args=["dagster", "api", "execute_step"],
        job_name=f"dagster-step-{step.replace('_', '-')}",
        user_defined_k8s_config=context.run_k8s_config,
    )
    return job.to_dict()


@pytest.mark.parametrize("step", ALL_STEPS)
def test_gpu_steps_get_a_gpu_on_gpu_nodes_and_cpu_steps_do_not(step: str) -> None:
    pod = step_job(step)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    resources = container["resources"]
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    tolerations = pod.get("tolerations") or []
    if step in GPU_STEPS:
        assert limits[GPU_RESOURCE] == "1"
        assert pod["node_selector"] == GPU_NODE_SELECTOR
        assert {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"} in [
            {key: value for key, value in toleration.items() if value is not None} for toleration in tolerations
        ]
    else:
        assert GPU_RESOURCE not in limits and GPU_RESOURCE not in requests
        assert not pod.get("node_selector")
        assert not tolerations
    # Every step asks for CPU and memory, so the scheduler can pack pods; the GPU layer did not wipe the defaults.
    assert requests["cpu"] and requests["memory"] and limits["memory"]
    assert container["image"] == RUN_IMAGE


def test_render_step_gets_more_cpu_than_the_light_steps() -> None:
    def cpu(step: str) -> int:
        (container,) = step_job(step)["spec"]["template"]["spec"]["containers"]
        return int(container["resources"]["requests"]["cpu"])

    assert cpu("rendered_clips") > cpu("candidates")


def test_gpu_steps_run_the_gpu_image_when_one_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GPU_IMAGE_ENV, GPU_IMAGE)
    images = {step: step_job(step)["spec"]["template"]["spec"]["containers"][0]["image"] for step in ALL_STEPS}
    assert {step for step, image in images.items() if image == GPU_IMAGE} == GPU_STEPS
    assert {step for step, image in images.items() if image == RUN_IMAGE} == set(ALL_STEPS) - GPU_STEPS


def test_local_profile_runs_each_job_in_one_process() -> None:
    assert step_executor("local").name == "in_process"
    for name in ("clip_job", "clip_version_job", "live_clip_job"):
        assert build_definitions("local").resolve_job_def(name).executor_def.name == "in_process"


@pytest.mark.parametrize("step", ALL_STEPS)
def test_only_gpu_steps_are_in_the_gpu_pool(step: str) -> None:
    op = build_definitions("local").resolve_asset_graph().get(AssetKey(step)).assets_def.op
    assert op.pool == (GPU_POOL if step in GPU_STEPS else None)
