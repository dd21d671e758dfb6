"""The finishing steps of one clip render, planned from its settings: captions (with the hook, emphasis, emoji and
masked profanity), the audio censor, and the logo overlay. The renderer applies what this returns, in its one pass.

Pure apart from nothing: the same inputs give the same script and filters, so a re-render reproduces its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from clipped.brand.kit import BrandKit, ass_colour
from clipped.effects import ClipEffects
from clipped.render.captions_ass import HOOK_SECONDS, CaptionLook, CaptionOptions, build_ass, hook_band
from clipped.render.crop_path import CropPath
from clipped.render.overlays import face_bands, hook_position, logo_filter
from clipped.render.profanity import (
    ProfaneSpan,
    censor_filter,
    clip_spans,
    find_profanity,
    mask_words,
    normalise,
    profanity_in_opening,
    word_list,
)
from clipped.render.safe_areas import safe_area
from clipped.types import FaceFrame, Word


@dataclass(frozen=True)
class Finishing:
    captions: str  # the ASS script to burn
    censor_filter: str | None  # audio filter muting or bleeping the listed words, clip time
    overlay_filter: str | None  # video filtergraph fragment drawing the logo ([main] in)
    profanity: list[ProfaneSpan]
    profanity_in_opening: bool  # the quality gate: a listed word is heard in the first 3 s
    hook_at: str
    masked_words: list[str]  # the censored words, normalised: subtitle exports mask them as the captions do


def caption_look(brand: BrandKit) -> CaptionLook:
    """The brand kit's font and colours for captions and the hook."""
    return CaptionLook(
        font=brand.caption_font,
        text=ass_colour(brand.caption_colour),
        highlight=ass_colour(brand.highlight_colour),
        emphasis=ass_colour(brand.emphasis_colour),
        hook_text=ass_colour(brand.hook_text_colour),
        hook_box=ass_colour(brand.hook_box_colour, alpha=0x30),
    )


def caption_options(effects: ClipEffects, width: int, height: int) -> CaptionOptions:
    """The caption layout ``effects`` ask for on a ``width`` x ``height`` frame (the hook placed at the top)."""
    return CaptionOptions(
        words_per_line=effects.words_per_line,
        keyword_emphasis=effects.keyword_emphasis,
        keyword_emoji=effects.keyword_emoji,
        safe=safe_area(effects.platform, width, height),
    )


def plan_finishing(
    *,
    words: list[Word],
    start_s: float,
    end_s: float,
    caption_style: str,
    hook: str,
    effects: ClipEffects,
    brand: BrandKit,
    logo_path: Path | None,
    face_frames: list[FaceFrame],
    path: CropPath,
    width: int,
    height: int,
) -> Finishing:
    """Plan captions, audio censor and logo for the clip ``[start_s, end_s]`` of a source (its words in source time)."""
    safe = safe_area(effects.platform, width, height)
    listed = word_list(brand.profanity_words, brand.profanity_allowed)
    clip_words = [word for word in words if word.end_s > start_s and word.start_s < end_s]
    spans = find_profanity(clip_words, listed)
    censor = effects.profanity != "off" and bool(spans)
    shown_words = mask_words(clip_words, spans) if censor else clip_words
    hook_text = hook if effects.hook_overlay else ""
    options = caption_options(effects, width, height)
    hook_at = "top"
    if hook_text:
        faces = face_bands(face_frames, path, start_s, HOOK_SECONDS, width, height)
        hook_at = hook_position(hook_band(hook_text, width, height, options), faces)
        options = replace(options, hook_at=hook_at)
    captions = build_ass(
        shown_words, start_s, end_s, width, height, caption_style, hook_text, options=options, look=caption_look(brand)
    )
    overlay = (
        logo_filter(logo_path, brand.logo_position, brand.logo_width_frac, brand.logo_opacity, width, height, safe)
        if logo_path is not None
        else None
    )
    return Finishing(
        captions=captions,
        censor_filter=censor_filter(clip_spans(spans, start_s, end_s), effects.profanity) if censor else None,
        overlay_filter=overlay,
        profanity=spans,
        profanity_in_opening=profanity_in_opening(spans, start_s),
        hook_at=hook_at,
        masked_words=sorted({normalise(t) for span in spans for t in span.text.split()}) if censor else [],
    )
