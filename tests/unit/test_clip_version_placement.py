"""Where a re-render runs in production: its own CPU step pod, like rendered_clips, never on a GPU node."""

from __future__ import annotations

from clipped_assets.placement import GPU_RESOURCE, GPU_STEPS
from tests.unit.test_k8s_job_spec import RUN_IMAGE, step_job


def cpu_request(step: str) -> int:
    (container,) = step_job(step)["spec"]["template"]["spec"]["containers"]
    return int(container["resources"]["requests"]["cpu"])


def test_clip_version_step_pod_asks_for_cpu_and_no_gpu() -> None:
    assert "clip_version" not in GPU_STEPS
    pod = step_job("clip_version")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    requests, limits = container["resources"]["requests"], container["resources"]["limits"]
    # One encode and its inspection: more than a light step's single core, less than a whole clip set.
    assert cpu_request("candidates") < cpu_request("clip_version") < cpu_request("rendered_clips")
    assert requests["memory"] and limits["memory"]
    assert GPU_RESOURCE not in limits and GPU_RESOURCE not in requests
    assert not pod.get("node_selector") and not pod.get("tolerations")
    assert container["image"] == RUN_IMAGE
