"""Tags on every clip_job run: the run queue limits GPU runs and keeps workspaces fair by these keys."""

from __future__ import annotations

from clipped.layout import SourceRef

WORKSPACE_TAG = "clipped/workspace"
# clip_job runs contain GPU steps (transcript, faces): the queue caps how many run at once.
GPU_TAG = "clipped/gpu"
TRIGGER_TAG = "clipped/trigger"


def run_tags_for(source: SourceRef, *, trigger: str) -> dict[str, str]:
    """Tags for a clip_job run of ``source``; ``trigger`` says who asked (cli, sensor, api, backfill)."""
    return {WORKSPACE_TAG: source.workspace_id, GPU_TAG: "true", TRIGGER_TAG: trigger}
