"""What a user picks for a clip's finishing: caption look, platform safe area, hook overlay and profanity handling.

Plain settings, no behaviour: part of a job's :class:`clipped.types.ClipSettings` and of a re-render request, and
carried into the render spec, so the same choices always produce the same render.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Platform = Literal["generic", "tiktok", "shorts", "reels"]
PLATFORMS: tuple[str, ...] = ("generic", "tiktok", "shorts", "reels")
ProfanityMode = Literal["off", "mute", "bleep"]
PROFANITY_MODES: tuple[str, ...] = ("off", "mute", "bleep")
Layout = Literal["auto", "single", "split", "speaker"]
LAYOUTS: tuple[str, ...] = ("auto", "single", "split", "speaker")


DEFAULT_FILLERS: tuple[str, ...] = ("um", "uh", "erm", "hmm", "like", "you know", "i mean")


class CleanupCuts(BaseModel):
    """Clean-up cuts: fillers and long pauses taken out at word boundaries (clipped.render.cleanup_cuts)."""

    model_config = ConfigDict(extra="forbid")

    remove_fillers: bool = False
    fillers: list[str] = Field(default_factory=lambda: list(DEFAULT_FILLERS))  # "like" etc. only when set off
    remove_pauses: bool = False
    max_pause_s: float = Field(default=0.7, ge=0.2, le=5.0)  # longer silences between words are shortened


class ClipEffects(BaseModel):
    """Finishing options of a clip render (the caption style itself is ``ClipSettings.caption_style``)."""

    model_config = ConfigDict(extra="forbid")

    platform: Platform = "generic"  # whose UI the captions and hook keep clear of (generic: all of them)
    words_per_line: int = Field(default=3, ge=1, le=3)
    keyword_emphasis: bool = True  # colour and scale on the word that carries each line's point
    keyword_emoji: bool = True  # a symbol after keywords that have one (love ❤, warning ⚠ ...)
    hook_overlay: bool = True  # the clip's hook text over the opening seconds, placed clear of the face
    profanity: ProfanityMode = "mute"  # what happens to a listed word in the audio; captions are masked unless off
    layout: Layout = "auto"  # auto: a split screen when two people share the shot (9:16), else one crop
    cleanup: CleanupCuts = CleanupCuts()  # fillers and long pauses cut out (off unless asked for)
