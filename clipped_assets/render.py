"""`rendered_clips`: the top candidates cut, reframed, captioned and loudness-normalised, checked before use."""

import base64

import cv2
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
)

from clipped.brand.kit import brand_fingerprint
from clipped.layout import RENDERED_CLIPS_FILE
from clipped.media.ffmpeg import ffmpeg_identity
from clipped.render.clip_checks import CLIP_CHECKS, failing_clip_ranks
from clipped.render.clip_set import clip_output_keys, render_clip_set
from clipped.render_manifest import RenderedClipsManifest
from clipped.review_links import clip_page
from clipped.stage_outputs import read_request
from clipped.stage_record import StageOutputs, upstream_fingerprint
from clipped.stages import CANDIDATES, FACES, RENDERED_CLIPS, SCENES
from clipped.storage import Storage
from clipped_assets.finishing_config import FinishingConfig
from clipped_assets.select import candidates, faces
from clipped_assets.step_context import materialize_stage, progress_for, source_of, stage_asset
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import StorageResource


@stage_asset(
    RENDERED_CLIPS,
    deps=[candidates, faces],
    group_name="render",
    retry_policy=RetryPolicy(max_retries=1, delay=30),
    kinds={"ffmpeg"},
    check_specs=[
        AssetCheckSpec(name, asset=RENDERED_CLIPS.name, description=text, blocking=True)
        for name, text in CLIP_CHECKS.items()
    ],
    description="Top N clips: face-following crop, animated word captions, −14 LUFS, H.264 + AAC, thumbnails.",
)
def rendered_clips(
    context: AssetExecutionContext, config: FinishingConfig, storage: StorageResource, render: RenderOptions
) -> MaterializeResult:
    source = source_of(context)
    settings = read_request(storage, source).settings
    settings = settings.model_copy(update={"effects": config.applied_to(settings.effects)})
    manifest_key = source.key(RENDERED_CLIPS_FILE)
    upstream = [upstream_fingerprint(storage, source, stage) for stage in (CANDIDATES, FACES, SCENES)]
    # x264's bytes depend on its thread count and on the ffmpeg build, so both are inputs; clips in parallel are not.
    render_config = render.model_dump(exclude={"parallel_clips"})
    brand = brand_fingerprint(storage, source.workspace_id)
    inputs = [upstream, settings.model_dump(), render_config, ffmpeg_identity().model_dump(), brand]
    version = RENDERED_CLIPS.fingerprint(*inputs)

    def compute() -> StageOutputs:
        progress = progress_for(context, RENDERED_CLIPS.name)
        manifest = render_clip_set(storage, render, source, settings, version, progress)
        storage.write_model(manifest_key, manifest)
        return StageOutputs([manifest_key, *clip_output_keys(manifest)])

    materialize_stage(context, storage, RENDERED_CLIPS, inputs, compute)
    manifest = storage.read_model(manifest_key, RenderedClipsManifest)
    return MaterializeResult(
        metadata={
            "clip_count": len(manifest.clips),
            "total_duration_s": MetadataValue.float(round(sum(c.end_s - c.start_s for c in manifest.clips), 2)),
            "clips": MetadataValue.md(clips_markdown(storage, manifest, source.partition_key)),
        },
        check_results=[
            AssetCheckResult(
                check_name=name,
                passed=not ranks,
                severity=AssetCheckSeverity.ERROR,
                metadata={"failing_clip_ranks": MetadataValue.json(ranks), "clips_checked": len(manifest.clips)},
            )
            for name, ranks in failing_clip_ranks(manifest, settings).items()
        ],
    )


def clips_markdown(storage: StorageResource, manifest: RenderedClipsManifest, partition: str) -> str:
    """A table with inline thumbnails and links to each clip's page in the review app, for the Dagster UI."""
    rows = [
        "| rank | thumbnail | start–end | score | LUFS | title | overlay | hashtags | clip |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for clip in manifest.clips:
        rows.append(
            f"| {clip.rank} | {_inline_thumbnail(storage, clip.thumbnail_key)} | {clip.start_s:.1f}–{clip.end_s:.1f} "
            f"| {clip.score:.2f} | {clip.loudness_lufs if clip.loudness_lufs is not None else '–'} "
            f"| {clip.title.replace('|', '/')} | {clip.writing.hook.replace('|', '/')} "
            f"| {' '.join(clip.writing.hashtags)} "
            f"| [open]({clip_page(storage.review_app_url, partition, clip.clip_id)}) |"
        )
    return "\n".join(rows)


def _inline_thumbnail(storage: Storage, key: str, width: int = 96) -> str:
    """A small data-URI image, so the UI shows it without serving files."""
    with storage.local_path(key) as path:
        image = cv2.imread(str(path))
    if image is None:
        return "–"
    height = int(image.shape[0] * width / image.shape[1])
    ok, encoded = cv2.imencode(".jpg", cv2.resize(image, (width, height)), [cv2.IMWRITE_JPEG_QUALITY, 70])
    return f"![thumbnail](data:image/jpeg;base64,{base64.b64encode(encoded.tobytes()).decode()})" if ok else "–"
