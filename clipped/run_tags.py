"""Tags on every clip_job run: the run queue limits GPU runs and keeps workspaces fair by these keys."""

from __future__ import annotations

from clipped.layout import SourceRef

WORKSPACE_TAG = "clipped/workspace"
# Only runs whose GPU steps (transcript, faces) will hold a GPU carry it: the queue caps how many run at once.
GPU_TAG = "clipped/gpu"
TRIGGER_TAG = "clipped/trigger"


def run_tags_for(source: SourceRef, *, trigger: str, uses_gpu: bool) -> dict[str, str]:
    """Tags for a clip_job run of ``source``; ``trigger`` says who asked (cli, sensor, api, backfill) and
    ``uses_gpu`` whether the run will hold a GPU (see ``clipped_resources.gpu_runs.clip_job_uses_gpu``)."""
    tags = {WORKSPACE_TAG: source.workspace_id, TRIGGER_TAG: trigger}
    if uses_gpu:
        tags[GPU_TAG] = "true"
    return tags
