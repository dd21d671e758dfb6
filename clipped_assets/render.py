"""`rendered_clips`: the top candidates cut, reframed, captioned and loudness-normalised, checked before use."""

import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)

from clipped.ingest.prepare import PreparedSource
from clipped.ingest.probe import MediaInfo
from clipped.layout import SourceRef
from clipped.progress import ProgressCallback
from clipped.render.inspect_clip import ClipInspection, caption_check, inspect_clip
from clipped.render.render_clip import RenderSpec, output_size
from clipped.render_manifest import RENDERED_CLIPS_FILE, RenderedClipsManifest
from clipped.stage_record import StageRecord, fingerprint, load_complete_record, require_record, save_record
from clipped.types import Candidate, ClipSettings, FaceFrame, FacesResult, RenderedClip, Scenes, Transcript, Word
from clipped_assets.ingest import INFO_FILE, SOURCE_FILE
from clipped_assets.partitions import source_video_partitions
from clipped_assets.select import CANDIDATES_FILE, FACES_FILE, candidates, faces, load_candidates
from clipped_assets.step_context import progress_for, request_of, source_of
from clipped_assets.understand import SCENES_FILE, TRANSCRIPT_FILE
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import StorageResource

CHECKS = {
    "rendered_clips_have_target_resolution": "Every clip has the output size of its aspect (1080×1920 for 9:16)",
    "rendered_clips_within_duration_bounds": "Every clip lasts between the minimum and maximum duration",
    "rendered_clips_have_audio": "Every clip has an audio stream",
    "rendered_clips_free_of_black_or_frozen_stretches": "No black stretch ≥ 1 s and no frozen stretch ≥ 2 s",
    "rendered_clips_have_burned_captions": "Clips with speech show captions in the caption band",
}
DURATION_TOLERANCE_S = 0.25


@asset(
    partitions_def=source_video_partitions,
    deps=[candidates, faces],
    group_name="render",
    code_version="1",
    retry_policy=RetryPolicy(max_retries=1, delay=30),
    kinds={"ffmpeg"},
    check_specs=[
        AssetCheckSpec(name, asset="rendered_clips", description=text, blocking=True) for name, text in CHECKS.items()
    ],
    description="Top N clips: face-following crop, animated word captions, −14 LUFS, H.264 + AAC, thumbnails.",
)
def rendered_clips(
    context: AssetExecutionContext, storage: StorageResource, render: RenderOptions
) -> MaterializeResult:
    source = source_of(context)
    settings = request_of(storage, source).settings
    upstream = [require_record(storage, source, stage).fingerprint for stage in ("candidates", "faces", "scenes")]
    render_config = render.model_dump(exclude={"parallel_clips", "threads_per_clip"})
    expected = fingerprint("rendered_clips", "1", upstream, settings.model_dump(), render_config)
    manifest_key = source.key(RENDERED_CLIPS_FILE)
    if load_complete_record(storage, source, "rendered_clips", expected) is None:
        manifest = render_all(context, storage, render, source, settings, expected)
        storage.write_model(manifest_key, manifest)
        outputs = [manifest_key] + [
            key for c in manifest.clips for key in (c.video_key, c.thumbnail_key, c.captions_key)
        ]
        save_record(storage, source, StageRecord(stage="rendered_clips", fingerprint=expected, outputs=outputs))
    else:
        context.log.info(f"reusing complete rendered_clips for {source.partition_key}")
    manifest = storage.read_model(manifest_key, RenderedClipsManifest)
    return MaterializeResult(
        metadata={
            "clip_count": len(manifest.clips),
            "total_duration_s": MetadataValue.float(round(sum(c.end_s - c.start_s for c in manifest.clips), 2)),
            "clips": MetadataValue.md(clips_markdown(storage, manifest)),
        },
        check_results=clip_check_results(manifest, settings),
    )


@dataclass(frozen=True)
class RenderInputs:
    """What rendering any window of a source needs from its upstream stages."""

    media: MediaInfo
    cuts_s: list[float]
    faces_by_window: dict[str, list[FaceFrame]]

    def spec(
        self,
        video: Path,
        *,
        start_s: float,
        end_s: float,
        words: list[Word],
        candidate_id: str,
        aspect: str,
        caption_style: str,
    ) -> RenderSpec:
        return RenderSpec(
            source_path=video,
            start_s=start_s,
            end_s=end_s,
            words=words,
            face_frames=self.faces_by_window.get(candidate_id, []),
            scene_cuts_s=self.cuts_s,
            source_width=self.media.width,
            source_height=self.media.height,
            aspect=aspect,
            caption_style=caption_style,
        )


def load_render_inputs(storage: StorageResource, source: SourceRef) -> RenderInputs:
    """Media info, scene cuts and face tracks of ``source``, read from the stages' stored outputs."""
    faces_result = storage.read_model(source.key(FACES_FILE), FacesResult)
    return RenderInputs(
        media=storage.read_model(source.key(INFO_FILE), PreparedSource).media,
        cuts_s=storage.read_model(source.key(SCENES_FILE), Scenes).cuts_s,
        faces_by_window={window.candidate_id: window.frames for window in faces_result.windows},
    )


def render_all(
    context: AssetExecutionContext,
    storage: StorageResource,
    render: RenderOptions,
    source: SourceRef,
    settings: ClipSettings,
    version: str,
) -> RenderedClipsManifest:
    """Render the top ``max_clips`` candidates in parallel within the core budget."""
    chosen = load_candidates(storage, source.key(CANDIDATES_FILE))[: settings.max_clips]
    inputs = load_render_inputs(storage, source)
    language = storage.read_model(source.key(TRANSCRIPT_FILE), Transcript).language
    progress = progress_for(context, "rendered_clips")
    fractions = [0.0] * len(chosen)
    lock = threading.Lock()

    def clip_progress(index: int) -> ProgressCallback:
        def report(fraction: float) -> None:
            with lock:
                fractions[index] = fraction
                progress(sum(fractions) / len(fractions))

        return report

    with storage.local_path(source.key(SOURCE_FILE)) as video:

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
            )
            return render_and_inspect(
                storage, source, clip_id, index + 1, candidate, spec, render, clip_progress(index)
            )

        with ThreadPoolExecutor(max_workers=render.clip_workers()) as pool:
            clips = list(pool.map(render_one, range(len(chosen))))
    return RenderedClipsManifest(
        partition=source.partition_key, duration_s=inputs.media.duration_s, language=language, clips=clips
    )


def render_and_inspect(
    storage: StorageResource,
    source: SourceRef,
    clip_id: str,
    rank: int,
    candidate: Candidate,
    spec: RenderSpec,
    render: RenderOptions,
    on_progress: ProgressCallback,
) -> RenderedClip:
    keys = {name: source.clip_key(clip_id, name) for name in ("clip.mp4", "thumbnail.jpg", "captions.ass")}
    with (
        storage.writer(keys["clip.mp4"]) as video_out,
        storage.writer(keys["thumbnail.jpg"]) as thumbnail_out,
        storage.writer(keys["captions.ass"]) as ass_out,
    ):
        render.encode(spec, video_out, thumbnail_out, ass_out, on_progress)
        inspection = inspect_clip(video_out)
        captions = caption_check(video_out, ass_out) if candidate.words else None
    width, height = output_size(spec.aspect)
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
        loudness_lufs=inspection.integrated_lufs,
        inspection={
            **inspection.model_dump(mode="json"),
            "caption_samples": captions.samples if captions else 0,
            "caption_samples_matched": captions.matched if captions else 0,
        },
    )


def clip_check_results(manifest: RenderedClipsManifest, settings: ClipSettings) -> list[AssetCheckResult]:
    """One result per check, each naming the clips that fail it."""

    def failing(predicate) -> list[int]:
        return [
            clip.rank for clip in manifest.clips if not predicate(clip, ClipInspection.model_validate(clip.inspection))
        ]

    failures = {
        "rendered_clips_have_target_resolution": failing(
            lambda clip, seen: (seen.width, seen.height) == (clip.width, clip.height)
        ),
        "rendered_clips_within_duration_bounds": failing(
            lambda clip, seen: (
                settings.min_duration_s - DURATION_TOLERANCE_S
                <= seen.duration_s
                <= settings.max_duration_s + DURATION_TOLERANCE_S
            )
        ),
        "rendered_clips_have_audio": failing(lambda clip, seen: seen.has_audio),
        "rendered_clips_free_of_black_or_frozen_stretches": failing(
            lambda clip, seen: not seen.black_stretches and not seen.frozen_stretches
        ),
        "rendered_clips_have_burned_captions": failing(lambda clip, seen: captions_burned(clip)),
    }
    return [
        AssetCheckResult(
            check_name=name,
            passed=not ranks,
            severity=AssetCheckSeverity.ERROR,
            metadata={"failing_clip_ranks": MetadataValue.json(ranks), "clips_checked": len(manifest.clips)},
        )
        for name, ranks in failures.items()
    ]


def captions_burned(clip: RenderedClip) -> bool:
    """Most sampled caption moments show the caption where libass draws it (a clip without words passes)."""
    samples = int(clip.inspection.get("caption_samples", 0))
    matched = int(clip.inspection.get("caption_samples_matched", 0))
    if not clip.words:
        return True
    return samples > 0 and matched >= 0.8 * samples


def clips_markdown(storage: StorageResource, manifest: RenderedClipsManifest) -> str:
    """A table with inline thumbnails and file links for the Dagster UI."""
    rows = ["| rank | thumbnail | start–end | score | LUFS | title | file |", "|---|---|---|---|---|---|---|"]
    for clip in manifest.clips:
        rows.append(
            f"| {clip.rank} | {_inline_thumbnail(storage, clip.thumbnail_key)} | {clip.start_s:.1f}–{clip.end_s:.1f} "
            f"| {clip.score:.2f} | {clip.loudness_lufs if clip.loudness_lufs is not None else '–'} "
            f"| {clip.title.replace('|', '/')} | [clip.mp4]({storage.uri(clip.video_key)}) |"
        )
    return "\n".join(rows)


def _inline_thumbnail(storage: StorageResource, key: str, width: int = 96) -> str:
    """A small data-URI image, so the UI shows it without serving files."""
    with storage.local_path(key) as path:
        image = cv2.imread(str(path))
    if image is None:
        return "–"
    height = int(image.shape[0] * width / image.shape[1])
    ok, encoded = cv2.imencode(".jpg", cv2.resize(image, (width, height)), [cv2.IMWRITE_JPEG_QUALITY, 70])
    return f"![thumbnail](data:image/jpeg;base64,{base64.b64encode(encoded.tobytes()).decode()})" if ok else "–"
