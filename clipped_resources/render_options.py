"""How clips are encoded; a resource so the CPU and GPU deployments tune it without code changes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field

from clipped.cores import available_cores
from clipped.progress import ProgressCallback
from clipped.render.encoder import choose_encoder
from clipped.render.render_clip import RenderReport, RenderSpec, render_clip


class RenderOptions(ConfigurableResource):
    # superfast at CRF 21: 39 % less CPU than veryfast for the same picture (SSIM Y against a slow CRF 14 encode
    # 0.9871 vs 0.9855), at ~1.6x the bits (5.6 vs 3.4 Mbit/s for 1080x1920): bench/render_bench.py, 20 s clip.
    x264_preset: str = Field(default="superfast", description="libx264 preset: speed/size trade-off")
    encoder: Literal["auto", "x264", "nvenc"] = Field(
        default="auto", description="H.264 encoder: auto = NVENC only when a real test encode succeeds, else x264"
    )
    parallel_clips: int = Field(default=0, description="Clips encoded at once; 0 = one per core")
    threads_per_clip: int = Field(default=1, description="Encoder threads per clip")
    sample_fps: float = Field(default=3.0, description="Frames per second sampled for face tracking")

    def video_encoder(self) -> str:
        """The ffmpeg encoder to use (``libx264`` or ``h264_nvenc``); NVENC is probed once per process."""
        return choose_encoder(self.encoder)

    def encode(
        self,
        spec: RenderSpec,
        out_video: Path,
        out_thumbnail: Path,
        out_ass: Path,
        on_progress: ProgressCallback | None = None,
    ) -> RenderReport:
        """Render ``spec`` with these options (the pipeline and the review API's re-renders encode alike)."""
        return render_clip(
            spec,
            out_video,
            out_thumbnail,
            out_ass,
            threads=self.threads_per_clip,
            preset=self.x264_preset,
            encoder=self.video_encoder(),
            on_progress=on_progress,
        )

    def clip_workers(self) -> int:
        """Clips encoded at once: ``parallel_clips``, or as many as fit the cores this process may use (a
        container's CPU set, not the host's count) at ``threads_per_clip`` each, so encodes never oversubscribe."""
        if self.parallel_clips > 0:
            return self.parallel_clips
        return max(1, available_cores() // max(1, self.threads_per_clip))
