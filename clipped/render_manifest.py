"""The `rendered_clips` manifest: written last, it is what makes a set of clip files complete."""

from __future__ import annotations

from pydantic import BaseModel

from clipped.types import RenderedClip


class RenderedClipsManifest(BaseModel):
    partition: str
    duration_s: float
    language: str
    clips: list[RenderedClip]
