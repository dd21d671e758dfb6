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
    asset_check,
)

from clipped.ingest.prepare import PreparedSource
from clipped.layout import AUDIO_FEATURES_FILE, AUDIO_FILE, INFO_FILE, SCENES_FILE, SOURCE_FILE, TRANSCRIPT_FILE
from clipped.stage_outputs import read_request
from clipped.stage_record import StageOutputs, upstream_fingerprint
from clipped.stages import AUDIO_FEATURES, SCENES, SOURCE_VIDEO, TRANSCRIPT
from clipped.types import AudioFeatures, Scenes, Transcript
from clipped.understand.audio_features import compute_audio_features
from clipped.understand.scenes import detect_scenes
from clipped_assets.ingest import source_video
from clipped_assets.placement import GPU_OP_TAGS, GPU_POOL
from clipped_assets.step_context import materialize_stage, progress_for, source_of, stage_asset
from clipped_resources.asr import AsrResource
from clipped_resources.storage import StorageResource

# Resource fields that change how fast or where, not what: left out of fingerprints so they don't force recomputes.
RUNTIME_ONLY_FIELDS = {
    "cpu_threads",
    "parallel_chunks",
    "model_cache_dir",
    "allow_download",
    "intra_op_threads",
    "batch_size",
}


@stage_asset(
    TRANSCRIPT,
    deps=[source_video],
    group_name="understand",
    retry_policy=RetryPolicy(max_retries=1, delay=60),
    op_tags=GPU_OP_TAGS,
    pool=GPU_POOL,
    kinds={"whisper"},
    description="Words with timestamps from faster-whisper (VAD on), language detected or given.",
)
def transcript(context: AssetExecutionContext, storage: StorageResource, asr: AsrResource) -> MaterializeResult:
    source = source_of(context)
    settings = read_request(storage, source).settings
    key = source.key(TRANSCRIPT_FILE)

    def compute() -> StageOutputs:
        started = time.monotonic()
        with storage.local_path(source.key(AUDIO_FILE)) as wav:
            result = asr.transcribe(wav, language=settings.language, on_progress=progress_for(context, TRANSCRIPT.name))
        elapsed = time.monotonic() - started
        storage.write_model(key, result)
        rtf = elapsed / result.duration_s if result.duration_s else 0.0
        return StageOutputs([key], summary={"elapsed_s": elapsed, "rtf": rtf})

    inputs = [
        upstream_fingerprint(storage, source, SOURCE_VIDEO),
        asr.model_dump(exclude=RUNTIME_ONLY_FIELDS),
        settings.language,
    ]
    record = materialize_stage(context, storage, TRANSCRIPT, inputs, compute)
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


@stage_asset(
    SCENES,
    deps=[source_video],
    group_name="understand",
    retry_policy=RetryPolicy(max_retries=1, delay=30),
    kinds={"scenedetect"},
    description="Shot cuts from PySceneDetect on a downscaled decode.",
)
def scenes(context: AssetExecutionContext, storage: StorageResource) -> MaterializeResult:
    source = source_of(context)
    key = source.key(SCENES_FILE)

    def compute() -> StageOutputs:
        with storage.local_path(source.key(SOURCE_FILE)) as video:
            storage.write_model(key, detect_scenes(video, on_progress=progress_for(context, SCENES.name)))
        return StageOutputs([key])

    materialize_stage(context, storage, SCENES, [upstream_fingerprint(storage, source, SOURCE_VIDEO)], compute)
    result = storage.read_model(key, Scenes)
    cuts_per_minute = len(result.cuts_s) / (result.duration_s / 60) if result.duration_s else 0.0
    return MaterializeResult(
        metadata={
            "cut_count": len(result.cuts_s),
            "cuts_per_minute": MetadataValue.float(round(cuts_per_minute, 2)),
            "first_cuts_s": MetadataValue.json([round(cut, 2) for cut in result.cuts_s[:20]]),
        }
    )


@stage_asset(
    AUDIO_FEATURES,
    deps=[source_video],
    group_name="understand",
    retry_policy=RetryPolicy(max_retries=1, delay=30, backoff=Backoff.LINEAR),
    kinds={"numpy"},
    description="RMS energy curve (0.5 s hops), loudness peaks and silences.",
)
def audio_features(context: AssetExecutionContext, storage: StorageResource) -> MaterializeResult:
    source = source_of(context)
    key = source.key(AUDIO_FEATURES_FILE)

    def compute() -> StageOutputs:
        with storage.local_path(source.key(AUDIO_FILE)) as wav:
            storage.write_model(key, compute_audio_features(wav))
        return StageOutputs([key])

    materialize_stage(context, storage, AUDIO_FEATURES, [upstream_fingerprint(storage, source, SOURCE_VIDEO)], compute)
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
