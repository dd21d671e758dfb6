"""How clips are encoded; a resource so the CPU and GPU deployments tune it without code changes."""

from __future__ import annotations

import os

from dagster import ConfigurableResource
from pydantic import Field


class RenderOptions(ConfigurableResource):
    x264_preset: str = Field(default="veryfast", description="libx264 preset: speed/size trade-off")
    parallel_clips: int = Field(default=0, description="Clips encoded at once; 0 = one per core")
    threads_per_clip: int = Field(default=1, description="Encoder threads per clip")
    sample_fps: float = Field(default=3.0, description="Frames per second sampled for face tracking")

    def clip_workers(self) -> int:
        if self.parallel_clips > 0:
            return self.parallel_clips
        return max(1, (os.cpu_count() or 1) // max(1, self.threads_per_clip))
