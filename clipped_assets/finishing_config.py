"""Run config for the finishing options of ``rendered_clips`` and ``clip_version``: each field left out keeps the
job's setting (``ClipSettings.effects``), one given overrides it for that run, e.g. in the launchpad::

    ops: {rendered_clips: {config: {profanity: bleep, platform: tiktok, remove_fillers: true, layout: split}}}
"""

from __future__ import annotations

from dagster import Config
from pydantic import Field

from clipped.effects import ClipEffects


class FinishingConfig(Config):
    platform: str | None = Field(default=None, description="generic, tiktok, shorts or reels")
    words_per_line: int | None = Field(default=None, description="1 to 3")
    keyword_emphasis: bool | None = None
    keyword_emoji: bool | None = None
    hook_overlay: bool | None = None
    profanity: str | None = Field(default=None, description="mute, bleep or off")
    layout: str | None = Field(default=None, description="auto, single, split (two people stacked) or speaker")
    remove_fillers: bool | None = Field(default=None, description="cut um/uh (and set-off like, you know)")
    remove_pauses: bool | None = Field(default=None, description="cut silences longer than max_pause_s")
    max_pause_s: float | None = Field(default=None, description="0.2 to 5 s")

    def applied_to(self, effects: ClipEffects) -> ClipEffects:
        """``effects`` with the fields this run sets; validated like a job's settings (a ValueError if not)."""
        given = {name: value for name, value in self.model_dump().items() if value is not None}
        current = effects.model_dump()
        cleanup = {name: given.pop(name) for name in _CLEANUP_FIELDS if name in given}
        return ClipEffects.model_validate({**current, **given, "cleanup": {**current["cleanup"], **cleanup}})


_CLEANUP_FIELDS = ("remove_fillers", "remove_pauses", "max_pause_s")  # ClipEffects.cleanup's, flat in run config
