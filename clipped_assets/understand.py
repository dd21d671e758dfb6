"""Understanding the source: `transcript`, `scenes`, `audio_features`. Thin wrappers over clipped.understand."""

import itertools
import time

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    Backoff,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
    asset_check,
)

from clipped.ingest.prepare import PreparedSource
from clipped.stage_record import StageRecord, fingerprint, load_complete_record, require_record, save_record
from clipped.types import AudioFeatures, Scenes, Transcript
from clipped.understand.audio_features import compute_audio_features
from clipped.understand.scenes import detect_scenes
from clipped_assets.ingest import AUDIO_FILE, INFO_FILE, SOURCE_FILE, source_video
from clipped_assets.partitions import source_video_partitions
from clipped_assets.placement import GPU_OP_TAGS, GPU_POOL
from clipped_assets.step_context import failing_clearly, progress_for, request_of, source_of
from clipped_resources.asr import AsrResource
from clipped_resources.storage import StorageResource

TRANSCRIPT_FILE = "transcript.json"
# Resource fields that change how fast or where, not what: left out of fingerprints so they don't force recomputes.
RUNTIME_ONLY_FIELDS = {"cpu_threads", "model_cache_dir", "allow_download", "intra_op_threads", "batch_size"}
SCENES_FILE = "scenes.json"
AUDIO_FEATURES_FILE = "audio_features.json"


@asset(
    partitions_def=source_video_partitions,
    deps=[source_video],
    group_name="understand",
    code_version="1",
    retry_policy=RetryPolicy(max_retries=1, delay=60),
    op_tags=GPU_OP_TAGS,
    pool=GPU_POOL,
    kinds={"whisper"},
    description="Words with timestamps from faster-whisper (VAD on), language detected or given.",
)
def transcript(context: AssetExecutionContext, storage: StorageResource, asr: AsrResource) -> MaterializeResult:
    source = source_of(context)
    settings = request_of(storage, source).settings
    upstream = require_record(storage, source, "source_video")
    expected = fingerprint(
        "transcript", "1", upstream.fingerprint, asr.model_dump(exclude=RUNTIME_ONLY_FIELDS), settings.language
    )
    record = load_complete_record(storage, source, "transcript", expected)
    key = source.key(TRANSCRIPT_FILE)
    if record is None:
        started = time.monotonic()
        with storage.local_path(source.key(AUDIO_FILE)) as wav:
            result = asr.transcribe(wav, language=settings.language, on_progress=progress_for(context, "transcript"))
        elapsed = time.monotonic() - started
        storage.write_model(key, result)
        rtf = elapsed / result.duration_s if result.duration_s else 0.0
        record = StageRecord(
            stage="transcript", fingerprint=expected, outputs=[key], summary={"elapsed_s": elapsed, "rtf": rtf}
        )
        save_record(storage, source, record)
    result = storage.read_model(key, Transcript)
    words = result.words
    return MaterializeResult(
        metadata={
            "language": result.language,
            "model": result.model,
            "word_count": len(words),
            "segment_count": len(result.segments),
            "audio_duration_s": MetadataValue.float(result.duration_s),
            "real_time_factor": MetadataValue.float(round(float(record.summary.get("rtf", 0.0)), 4)),
            "transcribe_s": MetadataValue.float(round(float(record.summary.get("elapsed_s", 0.0)), 2)),
            "preview": MetadataValue.text(" ".join(word.word for word in words[:80])),
        }
    )


@asset_check(asset=transcript, blocking=True, description="Every word lies inside the audio and times only go forward")
def transcript_times_within_audio(context, storage: StorageResource) -> AssetCheckResult:
    source = source_of(context)
    result = storage.read_model(source.key(TRANSCRIPT_FILE), Transcript)
    words = result.words
    outside = [w for w in words if w.start_s < 0 or w.end_s > result.duration_s + 0.5 or w.end_s < w.start_s]
    backwards = sum(1 for a, b in itertools.pairwise(words) if b.start_s < a.start_s)
    return AssetCheckResult(
        passed=not outside and backwards == 0,
        metadata={"words_outside_audio": len(outside), "words_going_backwards": backwards},
    )


@asset(
    partitions_def=source_video_partitions,
    deps=[source_video],
    group_name="understand",
    code_version="1",
    retry_policy=RetryPolicy(max_retries=1, delay=30),
    kinds={"scenedetect"},
    description="Shot cuts from PySceneDetect on a downscaled decode.",
)
def scenes(context: AssetExecutionContext, storage: StorageResource) -> MaterializeResult:
    source = source_of(context)
    upstream = require_record(storage, source, "source_video")
    expected = fingerprint("scenes", "1", upstream.fingerprint)
    key = source.key(SCENES_FILE)
    if load_complete_record(storage, source, "scenes", expected) is None:
        with storage.local_path(source.key(SOURCE_FILE)) as video:
            result = detect_scenes(video, on_progress=progress_for(context, "scenes"))
        storage.write_model(key, result)
        save_record(storage, source, StageRecord(stage="scenes", fingerprint=expected, outputs=[key]))
    result = storage.read_model(key, Scenes)
    cuts_per_minute = len(result.cuts_s) / (result.duration_s / 60) if result.duration_s else 0.0
    return MaterializeResult(
        metadata={
            "cut_count": len(result.cuts_s),
            "cuts_per_minute": MetadataValue.float(round(cuts_per_minute, 2)),
            "first_cuts_s": MetadataValue.json([round(cut, 2) for cut in result.cuts_s[:20]]),
        }
    )


@asset(
    partitions_def=source_video_partitions,
    deps=[source_video],
    group_name="understand",
    code_version="1",
    retry_policy=RetryPolicy(max_retries=1, delay=30, backoff=Backoff.LINEAR),
    kinds={"numpy"},
    description="RMS energy curve (0.5 s hops), loudness peaks and silences.",
)
def audio_features(context: AssetExecutionContext, storage: StorageResource) -> MaterializeResult:
    with failing_clearly():
        source = source_of(context)
        upstream = require_record(storage, source, "source_video")
        expected = fingerprint("audio_features", "1", upstream.fingerprint)
        key = source.key(AUDIO_FEATURES_FILE)
        if load_complete_record(storage, source, "audio_features", expected) is None:
            with storage.local_path(source.key(AUDIO_FILE)) as wav:
                result = compute_audio_features(wav)
            storage.write_model(key, result)
            save_record(storage, source, StageRecord(stage="audio_features", fingerprint=expected, outputs=[key]))
        result = storage.read_model(key, AudioFeatures)
        silent_s = sum(end - start for start, end in result.silences)
        media = storage.read_model(source.key(INFO_FILE), PreparedSource).media
        return MaterializeResult(
            metadata={
                "mean_db": MetadataValue.float(round(result.mean_db, 2)),
                "peak_count": len(result.peaks_s),
                "silence_count": len(result.silences),
                "silent_share": MetadataValue.float(round(silent_s / media.duration_s, 3) if media.duration_s else 0.0),
            }
        )
