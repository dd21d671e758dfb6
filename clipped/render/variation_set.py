"""Rendering the variations of one clip's moment and recording how unique each is (clipped.render.variations).

Each variant is a version of the clip (its own folder ``{clip_id}-v{n}``, as a re-render's), so the review app
plays, approves and downloads it like any version; the set is stored beside the clip as ``variations.json``, so the
review app can show the variants grouped under their moment. One ``clip_version`` run renders the whole set.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from pydantic import BaseModel

from clipped.brand.bumpers import local_bumpers
from clipped.brand.kit import local_logo, read_brand_kit
from clipped.layout import SOURCE_FILE, VARIATIONS_FILE, VERSION_CLIP_FILE, ClipVersionRef, SourceRef
from clipped.progress import ProgressCallback, no_progress
from clipped.render.clip_set import ClipEncoder, render_and_inspect
from clipped.render.inputs import load_render_inputs
from clipped.render.variations import VariantPlan, least_unique, plan_variations, signature
from clipped.render.versions import ClipVersionRequest, rendered_clip, version_output_keys
from clipped.stage_outputs import read_request
from clipped.storage import Storage
from clipped.types import Candidate, ClipSettings, RenderedClip


class Variant(BaseModel):
    index: int
    version: int | None = None  # the clip version it was rendered as
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


def variation_plans(clip: RenderedClip, caption_style: str, min_duration_s: float, count: int) -> list[VariantPlan]:
    """What each of ``count`` variants of ``clip``'s moment will differ in (the API shows the styles at once)."""
    return plan_variations(
        clip.words, clip.start_s, clip.end_s, count=count, hooks=[clip.writing.hook, clip.title],
        caption_style=caption_style, min_duration_s=min(min_duration_s, clip.end_s - clip.start_s),
    )  # fmt: skip


def render_variations(
    storage: Storage,
    encoder: ClipEncoder,
    source: SourceRef,
    clip: RenderedClip,
    settings: ClipSettings,
    count: int,
    on_progress: ProgressCallback = no_progress,
    variant_ids: Sequence[str] | None = None,
) -> MomentVariations:
    """Render ``count`` variants of ``clip``'s moment (as clips ``variant_ids``, by default ``{clip_id}-x{i}``),
    measure their uniqueness and store the set."""
    ids = list(variant_ids) if variant_ids is not None else [f"{clip.clip_id}-x{i}" for i in range(count)]
    plans = variation_plans(clip, settings.caption_style, settings.min_duration_s, count)
    inputs = load_render_inputs(storage, source)
    brand = read_brand_kit(storage, source.workspace_id)
    rendered: list[RenderedClip] = []
    signatures = []
    with contextlib.ExitStack() as stack:
        video = stack.enter_context(storage.local_path(source.key(SOURCE_FILE)))
        logo = stack.enter_context(local_logo(storage, source.workspace_id, brand))
        bumpers = stack.enter_context(local_bumpers(storage, source.workspace_id, brand))
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
                storage, encoder, source, ids[plan.index], clip.rank, candidate, spec, progress, bumpers
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


def variation_refs(request: ClipVersionRequest, source: SourceRef) -> list[ClipVersionRef]:
    """The versions a variations request renders: variant i is version ``request.version - i``."""
    return [ClipVersionRef(source, request.clip_id, request.version - i) for i in range(request.variations or 1)]


def variation_output_keys(request: ClipVersionRequest, source: SourceRef) -> list[str]:
    """Every key a variations run writes: each variant's version files and the set."""
    keys = [key for ref in variation_refs(request, source) for key in version_output_keys(ref)]
    return [*keys, variations_key(source, request.clip_id)]


def render_variation_versions(
    storage: Storage,
    encoder: ClipEncoder,
    source: SourceRef,
    request: ClipVersionRequest,
    on_progress: ProgressCallback = no_progress,
) -> MomentVariations:
    """Render ``request.variations`` variants of clip ``request.clip_id`` as its versions (:func:`variation_refs`)
    with the request's caption style and finishing, each described by its ``clip.json`` as a re-render is."""
    settings = read_request(storage, source).settings
    settings = settings.model_copy(
        update={"caption_style": request.caption_style, "aspect": request.aspect,
                "effects": request.effects or settings.effects},
    )  # fmt: skip
    refs = variation_refs(request, source)
    clip = rendered_clip(storage, source, request.clip_id)
    result = render_variations(
        storage, encoder, source, clip, settings, len(refs), on_progress, variant_ids=[ref.folder for ref in refs]
    )
    variants = []
    for ref, variant in zip(refs, result.variants, strict=True):
        storage.write_model(ref.key(VERSION_CLIP_FILE), variant.clip)
        variants.append(variant.model_copy(update={"version": ref.version}))
    result = result.model_copy(update={"variants": variants})
    storage.write_model(variations_key(source, request.clip_id), result)
    return result
