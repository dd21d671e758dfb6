"""A source request: what to process and how, stored beside the source so any re-run reproduces it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from clipped.layout import SourceRef, check_workspace_id, video_id_for
from clipped.types import ClipSettings


class SourceRequest(BaseModel):
    kind: Literal["file", "upload", "url"]
    location: str  # absolute path, storage key, or URL
    display_name: str
    settings: ClipSettings = Field(default_factory=ClipSettings)
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())


def request_for(location: str, settings: ClipSettings) -> SourceRequest:
    """Classify what the user passed: a URL, or a local file path."""
    if "://" in location:
        name = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1] or urlsplit(location).hostname or "video"
        return SourceRequest(kind="url", location=location.strip(), display_name=name, settings=settings)
    path = Path(location).expanduser().resolve()
    return SourceRequest(kind="file", location=str(path), display_name=path.stem, settings=settings)


def source_ref_for(request: SourceRequest, workspace_id: str) -> SourceRef:
    """The same location in the same workspace always maps to the same partition."""
    check_workspace_id(workspace_id)
    return SourceRef(workspace_id, video_id_for(request.display_name, f"{request.kind}:{request.location}"))
