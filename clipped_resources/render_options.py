"""How clips are encoded; a resource so the CPU and GPU deployments tune it without code changes."""

from __future__ import annotations

import os
from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field

from clipped.render.encoder import choose_encoder


class RenderOptions(ConfigurableResource):
    x264_preset: str = Field(default="veryfast", description="libx264 preset: speed/size trade-off")
    encoder: Literal["auto", "x264", "nvenc"] = Field(
        default="auto", description="H.264 encoder: auto = NVENC only when a real test encode succeeds, else x264"
    )
    parallel_clips: int = Field(default=0, description="Clips encoded at once; 0 = one per core")
    threads_per_clip: int = Field(default=1, description="Encoder threads per clip")
    sample_fps: float = Field(default=3.0, description="Frames per second sampled for face tracking")

    def video_encoder(self) -> str:
        """The ffmpeg encoder to use (``libx264`` or ``h264_nvenc``); NVENC is probed once per process."""
        return choose_encoder(self.encoder)

    def clip_workers(self) -> int:
        if self.parallel_clips > 0:
            return self.parallel_clips
        return max(1, (os.cpu_count() or 1) // max(1, self.threads_per_clip))
