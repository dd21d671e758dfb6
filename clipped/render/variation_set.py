"""Rendering the variations of one clip's moment and recording how unique each is (clipped.render.variations).

Each variant is a clip of its own under the source's clips folder (``{clip_id}-vN``); the set is stored beside the
clip as ``variations.json``, so the review app can show the variants grouped under their moment.
"""

from __future__ import annotations

import contextlib

from pydantic import BaseModel

from clipped.brand.kit import local_logo, read_brand_kit
from clipped.layout import SOURCE_FILE, SourceRef
from clipped.progress import ProgressCallback, no_progress
from clipped.render.clip_set import ClipEncoder, render_and_inspect
from clipped.render.inputs import load_render_inputs
from clipped.render.variations import least_unique, plan_variations, signature
from clipped.storage import Storage
from clipped.types import Candidate, ClipSettings, RenderedClip

VARIATIONS_FILE = "variations.json"


class Variant(BaseModel):
    index: int
    hook: str
    caption_style: str
    layout: str
    clip: RenderedClip
    # Against the most similar other variant: frames (dHash), audio (fingerprint), overall; 0 = identical.
    uniqueness: dict[str, float]


class MomentVariations(BaseModel):
    clip_id: str  # the clip whose moment was varied
    variants: list[Variant]


def variations_key(source: SourceRef, clip_id: str) -> str:
    return source.clip_key(clip_id, VARIATIONS_FILE)


def render_variations(
    storage: Storage,
    encoder: ClipEncoder,
    source: SourceRef,
    clip: RenderedClip,
    settings: ClipSettings,
    count: int,
    on_progress: ProgressCallback = no_progress,
) -> MomentVariations:
    """Render ``count`` variants of ``clip``'s moment, measure their uniqueness and store the set."""
    plans = plan_variations(
        clip.words, clip.start_s, clip.end_s, count=count, hooks=[clip.writing.hook, clip.title],
        caption_style=settings.caption_style, min_duration_s=min(settings.min_duration_s, clip.end_s - clip.start_s),
    )  # fmt: skip
    inputs = load_render_inputs(storage, source)
    brand = read_brand_kit(storage, source.workspace_id)
    rendered: list[RenderedClip] = []
    signatures = []
    with contextlib.ExitStack() as stack:
        video = stack.enter_context(storage.local_path(source.key(SOURCE_FILE)))
        logo = stack.enter_context(local_logo(storage, source.workspace_id, brand))
        for done, plan in enumerate(plans):
            spec = inputs.spec(
                video, start_s=plan.start_s, end_s=plan.end_s, words=clip.words, candidate_id=clip.candidate_id,
                aspect=settings.aspect, caption_style=plan.caption_style, hook=plan.hook,
                effects=settings.effects.model_copy(update={"layout": plan.layout}), brand=brand, logo_path=logo,
                min_duration_s=min(settings.min_duration_s, plan.end_s - plan.start_s), title=clip.title,
            )  # fmt: skip
            candidate = Candidate(
                candidate_id=clip.candidate_id, start_s=plan.start_s, end_s=plan.end_s, score=clip.score,
                scores=clip.scores, reason=clip.reason, title=clip.title, text=" ".join(w.word for w in clip.words),
                words=clip.words, writing=clip.writing.model_copy(update={"hook": plan.hook}),
            )  # fmt: skip

            def progress(fraction: float, done: int = done) -> None:
                on_progress((done + fraction) / len(plans))

            variant = render_and_inspect(
                storage, encoder, source, f"{clip.clip_id}-v{plan.index}", clip.rank, candidate, spec, progress
            )
            rendered.append(variant)
            with storage.local_path(variant.video_key) as local:
                signatures.append(signature(local))
    measured = least_unique(signatures)
    result = MomentVariations(
        clip_id=clip.clip_id,
        variants=[
            Variant(index=p.index, hook=p.hook, caption_style=p.caption_style, layout=p.layout, clip=c, uniqueness=u)
            for p, c, u in zip(plans, rendered, measured, strict=True)
        ],
    )
    storage.write_model(variations_key(source, clip.clip_id), result)
    on_progress(1.0)
    return result
