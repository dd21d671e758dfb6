"""`source_video`: fetch, probe, validate and prepare the source once; everything downstream reads its outputs."""

import tempfile
from pathlib import Path

from dagster import AssetExecutionContext, Backoff, MaterializeResult, MetadataValue, RetryPolicy, asset

from clipped.ingest.fetch import download_url, resolve_local_source
from clipped.ingest.prepare import PreparedSource, prepare_source
from clipped.layout import SourceRef
from clipped.stage_record import StageRecord, fingerprint, load_complete_record, save_record
from clipped_assets.partitions import source_video_partitions
from clipped_assets.step_context import failing_clearly, progress_for, request_of, source_of
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.storage import StorageResource, check_key

STAGE = "source_video"
CODE_VERSION = "1"
SOURCE_FILE = "source.mp4"
AUDIO_FILE = "audio.wav"
INFO_FILE = "source.json"


@asset(
    partitions_def=source_video_partitions,
    group_name="ingest",
    code_version=CODE_VERSION,
    retry_policy=RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL),
    kinds={"ffmpeg", "video"},
    description="The source as the pipeline reads it: probed, validated, normalised if needed, audio at 16 kHz.",
)
def source_video(context: AssetExecutionContext, storage: StorageResource, ingest: IngestPolicy) -> MaterializeResult:
    with failing_clearly():
        return _materialize_source_video(context, storage, ingest)


def _materialize_source_video(
    context: AssetExecutionContext, storage: StorageResource, ingest: IngestPolicy
) -> MaterializeResult:
    source = source_of(context)
    request = request_of(storage, source)
    expected = fingerprint(STAGE, CODE_VERSION, request.kind, request.location, ingest.media_limits().model_dump())
    record = load_complete_record(storage, source, STAGE, expected)
    if record is None:
        progress = progress_for(context, STAGE)
        with tempfile.TemporaryDirectory(prefix="clipped-ingest-") as scratch:
            original = fetch_original(request.kind, request.location, Path(scratch), storage, ingest, source)
            progress(0.3)
            video_key, audio_key, info_key = source.key(SOURCE_FILE), source.key(AUDIO_FILE), source.key(INFO_FILE)
            with storage.writer(video_key) as video_out, storage.writer(audio_key) as audio_out:
                prepared = prepare_source(original, video_out, audio_out, ingest.media_limits())
            storage.write_model(info_key, prepared)
            progress(1.0)
        record = StageRecord(stage=STAGE, fingerprint=expected, outputs=[video_key, audio_key, info_key])
        save_record(storage, source, record)
    else:
        context.log.info(f"reusing complete {STAGE} for {source.partition_key}")
    prepared = storage.read_model(source.key(INFO_FILE), PreparedSource)
    media = prepared.media
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
            "video": MetadataValue.url(storage.uri(source.key(SOURCE_FILE))),
        },
    )


def fetch_original(
    kind: str, location: str, scratch: Path, storage: StorageResource, ingest: IngestPolicy, source: SourceRef
) -> Path:
    """A local path with the original bytes; refuses anything outside policy before reading it."""
    if kind == "file":
        return resolve_local_source(location, ingest.allowed_roots)
    if kind == "url":
        return download_url(
            location, scratch, max_filesize_bytes=ingest.max_download_bytes, allowed_domains=ingest.allowed_domains
        )
    check_key(location, source.workspace_id)
    local = scratch / ("upload" + Path(location).suffix)
    storage.download(location, local)
    return local
