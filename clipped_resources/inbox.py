"""Settings of the upload inbox the sensor watches: which workspaces, when a file counts as complete, limits."""

from __future__ import annotations

import os

from dagster import ConfigurableResource
from pydantic import Field

from clipped.inbox.intake import InboxSettings
from clipped.ingest.probe import MediaLimits
from clipped.types import ClipSettings

DEFAULT_EXTENSIONS = [".mp4", ".mov", ".m4v", ".webm", ".mkv"]


def inbox_workspaces_from_env() -> list[str]:
    """``CLIPPED_INBOX_WORKSPACES`` (comma-separated), default ``local``."""
    configured = os.environ.get("CLIPPED_INBOX_WORKSPACES", "local")
    return [name.strip() for name in configured.split(",") if name.strip()]


def inbox_from_env() -> UploadInbox:
    """The inbox of a profile: ``CLIPPED_INBOX_WORKSPACES``, and ``CLIPPED_INBOX_MAX_CLIPS`` clips per video."""
    max_clips = os.environ.get("CLIPPED_INBOX_MAX_CLIPS", "").strip()
    if not max_clips:
        return UploadInbox(workspaces=inbox_workspaces_from_env())
    if not max_clips.isdigit():
        raise ValueError(f"CLIPPED_INBOX_MAX_CLIPS must be a whole number of clips, not {max_clips!r}")
    return UploadInbox(workspaces=inbox_workspaces_from_env(), max_clips=int(max_clips))


class UploadInbox(ConfigurableResource):
    """Files dropped under ``{workspace}/inbox/`` of the storage become sources (see docs/storage-and-sensor.md)."""

    workspaces: list[str] = Field(default_factory=lambda: ["local"], description="Workspaces whose inbox is watched")
    min_stable_s: float = Field(default=10.0, description="A file unchanged this long across two ticks is complete")
    max_upload_bytes: int = Field(default=8 * 1024**3, description="Larger files are quarantined unread")
    allowed_extensions: list[str] = Field(default_factory=lambda: list(DEFAULT_EXTENSIONS))
    max_files_per_tick: int = Field(default=5, description="Bounds one tick's work; the rest wait for the next")
    max_clips: int = Field(default=5, ge=1, le=50, description="Clips per inbox video")

    def settings(self, media_limits: MediaLimits) -> InboxSettings:
        return InboxSettings(
            workspace_ids=list(self.workspaces),
            allowed_extensions=list(self.allowed_extensions),
            max_upload_bytes=self.max_upload_bytes,
            min_stable_s=self.min_stable_s,
            max_files_per_pass=self.max_files_per_tick,
            clip_settings=ClipSettings(max_clips=self.max_clips),
            media_limits=media_limits,
        )
