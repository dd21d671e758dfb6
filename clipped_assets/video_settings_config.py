"""Run config for a video's clip settings on ``source_video``: each field left out keeps what the source was
registered with (``ClipSettings``), one given overrides it, e.g. in the launchpad for a partition of clip_job::

    ops: {source_video: {config: {max_clips: 3, min_duration_s: 20, aspect: "1:1", caption_style: karaoke}}}

The settings given become the source's own (its stored request), so every later step of the run, and later
re-renders and backfills, read them: the same way the CLI and the API's settings reach the pipeline.
"""

from __future__ import annotations

from dagster import Config, Failure
from pydantic import Field, ValidationError

from clipped.layout import REQUEST_FILE, SourceRef
from clipped.sources import SourceRequest
from clipped.stage_outputs import read_request
from clipped.storage import Storage
from clipped.types import ClipSettings

DETECT_LANGUAGE = "detect"


class VideoSettingsConfig(Config):
    max_clips: int | None = Field(default=None, description="clips to render, 1 to 50")
    min_duration_s: float | None = Field(default=None, description="shortest clip, seconds")
    max_duration_s: float | None = Field(default=None, description="longest clip, seconds")
    aspect: str | None = Field(default=None, description="9:16, 1:1 or 16:9")
    caption_style: str | None = Field(default=None, description="e.g. highlight_word, karaoke, pop_in")
    language: str | None = Field(default=None, description=f"ISO code of the speech, or '{DETECT_LANGUAGE}'")

    def applied_to(self, settings: ClipSettings) -> ClipSettings:
        """``settings`` with the fields this run sets; a ValueError (pydantic's) names a bad one."""
        given = {name: value for name, value in self.model_dump().items() if value is not None}
        if given.get("language") == DETECT_LANGUAGE:
            given["language"] = None
        updated = ClipSettings.model_validate({**settings.model_dump(), **given})
        if updated.min_duration_s > updated.max_duration_s:
            raise ValueError(
                f"min_duration_s ({updated.min_duration_s:g}) is longer than max_duration_s "
                f"({updated.max_duration_s:g})"
            )
        return updated


def request_with_run_settings(storage: Storage, source: SourceRef, config: VideoSettingsConfig) -> SourceRequest:
    """The source's request with ``config`` applied, stored back when it changed anything.

    A bad value fails the run at once with its reason (no retries: the same config fails the same way) and leaves
    the stored request as it was.
    """
    request = read_request(storage, source)
    try:
        settings = config.applied_to(request.settings)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors())
        raise Failure(description=f"run config of source_video: {reasons}", allow_retries=False) from exc
    except ValueError as exc:
        raise Failure(description=f"run config of source_video: {exc}", allow_retries=False) from exc
    if settings == request.settings:
        return request
    request = request.model_copy(update={"settings": settings})
    storage.write_model(source.key(REQUEST_FILE), request)
    return request
