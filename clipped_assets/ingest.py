"""`source_video`: fetch, probe, validate and prepare the source once; everything downstream reads its outputs."""

import tempfile
from pathlib import Path

from dagster import AssetExecutionContext, Backoff, MaterializeResult, MetadataValue, RetryPolicy

from clipped.ingest.fetch import fetch_original
from clipped.ingest.identity import (
    check_same_content,
    identity_summary,
    locate_source,
    remember_identity,
    remembered_identity,
)
from clipped.ingest.prepare import PreparedSource, prepare_source
from clipped.ingest.probe import check_fits_a_clip
from clipped.layout import AUDIO_FILE, INFO_FILE, SOURCE_FILE
from clipped.review_links import source_page
from clipped.stage_record import StageOutputs
from clipped.stages import SOURCE_VIDEO
from clipped.types import ClipSettings
from clipped_assets.step_context import materialize_stage, progress_for, source_of, stage_asset
from clipped_assets.video_settings_config import VideoSettingsConfig, request_with_run_settings
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.storage import StorageResource


@stage_asset(
    SOURCE_VIDEO,
    group_name="ingest",
    retry_policy=RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL),
    kinds={"ffmpeg", "video"},
    description="The source as the pipeline reads it: probed, validated, normalised if needed, audio at 16 kHz.",
)
def source_video(
    context: AssetExecutionContext, config: VideoSettingsConfig, storage: StorageResource, ingest: IngestPolicy
) -> MaterializeResult:
    source = source_of(context)
    request = request_with_run_settings(storage, source, config)  # the launchpad's settings win when given
    limits = ingest.media_limits()
    min_clip_s = request.settings.min_duration_s
    access = {
        "allowed_roots": ingest.allowed_roots,
        "allowed_domains": ingest.allowed_domains,
        "max_download_bytes": ingest.max_download_bytes,
    }
    with tempfile.TemporaryDirectory(prefix="clipped-ingest-") as scratch:
        # The content's hash is part of the fingerprint: new bytes at the same path or key never reuse old outputs.
        known = remembered_identity(storage, source)
        located = locate_source(request, Path(scratch), storage, source.workspace_id, known=known, **access)

        def compute() -> StageOutputs:
            progress = progress_for(context, SOURCE_VIDEO.name)
            keys = [source.key(SOURCE_FILE), source.key(AUDIO_FILE), source.key(INFO_FILE)]
            original = located.path or fetch_original(request, Path(scratch), storage, source.workspace_id, **access)
            progress(0.3)
            with storage.writer(keys[0]) as video_out, storage.writer(keys[1]) as audio_out:
                prepared = prepare_source(
                    original,
                    video_out,
                    audio_out,
                    limits,
                    min_clip_s=min_clip_s,
                    private_original=request.kind != "file",
                )
                check_same_content(located.identity, prepared.content_sha256)
            storage.write_model(keys[2], prepared)
            progress(1.0)
            return StageOutputs(keys, summary=identity_summary(located.identity))

        inputs = [request.kind, request.location, located.identity.content_sha256, limits.model_dump()]
        record = materialize_stage(context, storage, SOURCE_VIDEO, inputs, compute)
        remember_identity(storage, source, record, located.identity)
    prepared = storage.read_model(source.key(INFO_FILE), PreparedSource)
    media = prepared.media
    check_fits_a_clip(media, min_clip_s)  # prepared earlier, for a request with a shorter minimum
    return MaterializeResult(
        metadata={
            "duration_s": MetadataValue.float(media.duration_s),
            "resolution": f"{media.width}x{media.height}",
            "fps": MetadataValue.float(media.fps),
            "video_codec": media.video_codec,
            "audio_codec": media.audio_codec or "none",
            "size_mb": MetadataValue.float(round(media.size_bytes / 1e6, 2)),
            "content_sha256": prepared.content_sha256,
            "normalised": prepared.normalised,
            "source": request.location,
            # What this partition was asked for, so the partition page says how its clips were chosen.
            "settings": MetadataValue.json(partition_settings(request.settings)),
            "review": MetadataValue.url(source_page(storage.review_app_url, source.partition_key)),
        },
    )


def partition_settings(settings: ClipSettings) -> dict[str, object]:
    """The per-video settings shown on the partition: max clips, duration bounds, aspect, caption style, language."""
    return {
        "max_clips": settings.max_clips,
        "min_duration_s": settings.min_duration_s,
        "max_duration_s": settings.max_duration_s,
        "aspect": settings.aspect,
        "caption_style": settings.caption_style,
        "language": settings.language or "detect",
    }
