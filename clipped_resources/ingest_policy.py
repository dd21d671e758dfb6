"""Limits and allowlists that ingest enforces, as a resource so each deployment sets its own."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from clipped.ingest.probe import MediaLimits
from clipped.ingest.url_policy import ALLOWED_VIDEO_DOMAINS


class IngestPolicy(ConfigurableResource):
    """Where local sources may come from and what a source may be."""

    allowed_roots: list[str] = Field(default_factory=list, description="Folders local source files may be read from")
    allowed_domains: list[str] = Field(default_factory=lambda: list(ALLOWED_VIDEO_DOMAINS))
    max_duration_s: float = 4 * 3600
    max_width: int = 3840
    max_height: int = 2160
    max_download_bytes: int = 8 * 1024**3

    def media_limits(self) -> MediaLimits:
        return MediaLimits(max_duration_s=self.max_duration_s, max_width=self.max_width, max_height=self.max_height)
