"""Rendering the top candidates of a source as one set of clips, in parallel within the core budget."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from clipped.brand.bumpers import local_bumpers
from clipped.brand.kit import local_logo, read_brand_kit
from clipped.cores import available_cores
from clipped.layout import CLIP_FILES, SOURCE_FILE, TRANSCRIPT_FILE, SourceRef
from clipped.progress import ProgressCallback, no_progress
from clipped.render.bumpers import NO_BUMPERS, Bumpers, add_bumpers, media_facts
from clipped.render.inputs import load_render_inputs
from clipped.render.inspect_clip import caption_check, inspect_clip
from clipped.render.render_clip import RenderReport, RenderSpec, output_size
from clipped.render_manifest import RenderedClipsManifest
from clipped.stage_outputs import read_candidates
from clipped.storage import Storage
from clipped.types import Candidate, ClipSettings, RenderedClip, Transcript


class ClipEncoder(Protocol):
    """Encodes one clip spec (the render resource satisfies it; its options decide encoder and threads)."""

    def encode(
        self,
        spec: RenderSpec,
        out_video: Path,
        out_thumbnail: Path,
        out_ass: Path,
        on_progress: ProgressCallback | None = None,
    ) -> RenderReport: ...

    def clip_workers(self) -> int: ...


def render_clip_set(
    storage: Storage,
    encoder: ClipEncoder,
    source: SourceRef,
    settings: ClipSettings,
    version: str,
    on_progress: ProgressCallback = no_progress,
) -> RenderedClipsManifest:
    """Render the top ``settings.max_clips`` candidates; clip ids carry ``version`` so a new set never
    overwrites the files of an old one."""
    chosen = read_candidates(storage, source)[: settings.max_clips]
    inputs = load_render_inputs(storage, source)
    language = storage.read_model(source.key(TRANSCRIPT_FILE), Transcript).language
    fractions = [0.0] * len(chosen)
    lock = threading.Lock()

    def clip_progress(index: int) -> ProgressCallback:
        def report(fraction: float) -> None:
            with lock:
                fractions[index] = fraction
                on_progress(sum(fractions) / len(fractions))

        return report

    brand = read_brand_kit(storage, source.workspace_id)
    workers = encoder.clip_workers()
    # Clips render side by side, each on its share of the cores; a clip's checks decode it within that share too,
    # so one clip's inspection never crowds out another's encode.
    check_threads = max(1, available_cores() // workers)
    with contextlib.ExitStack() as stack:
        video = stack.enter_context(storage.local_path(source.key(SOURCE_FILE)))
        logo = stack.enter_context(local_logo(storage, source.workspace_id, brand))
        bumpers = stack.enter_context(local_bumpers(storage, source.workspace_id, brand))

        def render_one(index: int) -> RenderedClip:
            candidate = chosen[index]
            clip_id = f"{source.video_id}-{index + 1:02d}-{version[:8]}"
            spec = inputs.spec(
                video,
                start_s=candidate.start_s,
                end_s=candidate.end_s,
                words=candidate.words,
                candidate_id=candidate.candidate_id,
                aspect=settings.aspect,
                caption_style=settings.caption_style,
                hook=candidate.writing.hook,
                effects=settings.effects,
                brand=brand,
                logo_path=logo,
                min_duration_s=settings.min_duration_s,
                title=candidate.title,
            )
            return render_and_inspect(
                storage, encoder, source, clip_id, index + 1, candidate, spec, clip_progress(index), bumpers,
                check_threads=check_threads,
            )  # fmt: skip

        with ThreadPoolExecutor(max_workers=workers) as pool:
            clips = list(pool.map(render_one, range(len(chosen))))
    return RenderedClipsManifest(
        partition=source.partition_key, duration_s=inputs.media.duration_s, language=language, clips=clips
    )


def render_and_inspect(
    storage: Storage,
    encoder: ClipEncoder,
    source: SourceRef,
    clip_id: str,
    rank: int,
    candidate: Candidate,
    spec: RenderSpec,
    on_progress: ProgressCallback,
    bumpers: Bumpers = NO_BUMPERS,
    *,
    check_threads: int | None = None,
) -> RenderedClip:
    """Encode one clip into its own folder and record what inspecting the result found (the checks' ffmpeg
    runs use ``check_threads`` threads; None: every core, for a clip rendered alone).

    The brand's intro and outro (``bumpers``) are joined on after the clip is inspected: captions, checks and
    times describe the clip itself, which starts ``intro_s`` into the delivered file."""
    keys = {name: source.clip_key(clip_id, name) for name in CLIP_FILES}
    width, height = output_size(spec.aspect)
    bumped = {"intro_s": 0.0, "outro_s": 0.0}
    with (
        storage.writer(keys["clip.mp4"]) as video_out,
        storage.writer(keys["thumbnail.jpg"]) as thumbnail_out,
        storage.writer(keys["captions.ass"]) as ass_out,
    ):
        report = encoder.encode(spec, video_out, thumbnail_out, ass_out, on_progress)
        inspection = inspect_clip(video_out, threads=check_threads)
        captions = caption_check(video_out, ass_out, threads=check_threads) if candidate.words else None
        if bumpers:
            joined = video_out.with_name(f"bumped-{video_out.name}")
            intro_s = add_bumpers(video_out, bumpers, joined, width, height, threads=check_threads)
            bumped["intro_s"] = round(intro_s, 3)
            bumped["outro_s"] = round(media_facts(bumpers.outro).duration_s, 3) if bumpers.outro else 0.0
            joined.replace(video_out)
    return RenderedClip(
        rank=rank,
        clip_id=clip_id,
        candidate_id=candidate.candidate_id,
        video_key=keys["clip.mp4"],
        thumbnail_key=keys["thumbnail.jpg"],
        captions_key=keys["captions.ass"],
        start_s=candidate.start_s,
        end_s=candidate.end_s,
        width=width,
        height=height,
        score=candidate.score,
        scores=candidate.scores,
        reason=candidate.reason,
        title=candidate.title,
        words=candidate.words,
        writing=candidate.writing,
        loudness_lufs=inspection.integrated_lufs,
        inspection={
            **inspection.model_dump(mode="json"),
            "caption_samples": captions.samples if captions else 0,
            "caption_samples_matched": captions.matched if captions else 0,
            "censored_words": report.censored_words,
            "profanity_in_opening": report.profanity_in_opening,
            "masked_words": report.masked_words,
            "thumbnail_at_s": report.thumbnail_at_s,
            "thumbnail_has_face": report.thumbnail_has_face,
            "layout": report.layout,
            "speaker_switches_per_minute": report.speaker_switches_per_minute,
            **bumped,  # the brand intro and outro around the clip in the delivered file
        },
        ffmpeg=report.ffmpeg,
        kept_spans_s=report.kept_spans_s,
    )


def clip_output_keys(manifest: RenderedClipsManifest) -> list[str]:
    """Every file a manifest points at (what must exist for the set to count as complete)."""
    return [key for clip in manifest.clips for key in (clip.video_key, clip.thumbnail_key, clip.captions_key)]
