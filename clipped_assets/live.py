"""Live streams in Dagster: the recorder as a long-running asset, and a clip per moment.

``stream_segments`` is partitioned per stream (``live_stream``: ``{workspace}.{stream}``), not per segment or
window: a stream yields a segment every two seconds, and a partition per segment would put thousands of keys an
hour into the partitions table and a run per segment into the queue. One ``stream_recorder_job`` run records the
stream for as long as it lasts (in production its own pod under the K8sRunLauncher, restarted by
``stream_recorder_sensor`` when its heartbeat goes stale) and reports a materialization of its partition every
``REPORT_EVERY_S`` of stream time with the ring buffer's state, so the partition's history in the UI is the
stream's heartbeat. ``live_clips`` is partitioned (stream × moment) and maps onto its stream's ``stream_segments``
partition through the stream dimension: lineage from segments to each clip, per partition.
"""

import json
import warnings

from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetMaterialization,
    BetaWarning,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    MultiPartitionsDefinition,
    MultiToSingleDimensionPartitionMapping,
    RetryPolicy,
    asset,
    define_asset_job,
    in_process_executor,
)

from clipped.live.clips import clip_moment
from clipped.live.layout import LIVE_MOMENT_PARTITIONS, LIVE_STREAM_PARTITIONS, STREAM_FILE, StreamRef
from clipped.live.models import LiveClip, SegmentRecord, StreamHealth, StreamRecord
from clipped.live.recorder import Recorder
from clipped_assets.step_context import bad_input_policy
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import StorageResource
from clipped_resources.streams import StreamsResource

REPORT_EVERY_S = 30.0
live_stream_partitions = DynamicPartitionsDefinition(name=LIVE_STREAM_PARTITIONS)
live_moment_keys = DynamicPartitionsDefinition(name=LIVE_MOMENT_PARTITIONS)
live_clip_partitions = MultiPartitionsDefinition(
    {LIVE_STREAM_PARTITIONS: live_stream_partitions, LIVE_MOMENT_PARTITIONS: live_moment_keys}
)
# The recorder's run pod: one core and a little memory is enough to copy a stream into segments.
RECORDER_POD = {"container_config": {"resources": {"requests": {"cpu": "500m", "memory": "512Mi"},
                                                   "limits": {"cpu": "1", "memory": "1Gi"}}}}  # fmt: skip


@asset(
    partitions_def=live_stream_partitions,
    group_name="live",
    code_version="1",
    kinds={"streamlink", "ffmpeg"},
    description="A live stream recorded into its ring buffer of ~2 s segments (runs as long as the stream lasts).",
)
@bad_input_policy
def stream_segments(
    context: AssetExecutionContext, storage: StorageResource, streams: StreamsResource, ingest: IngestPolicy
) -> MaterializeResult:
    stream = StreamRef.from_partition_key(context.partition_key)
    record = storage.read_model(stream.key(STREAM_FILE), StreamRecord)
    reporter = _SegmentReporter(context)
    recorder = Recorder(
        storage, stream, record.url, record.settings, opener=streams.opener(ingest.allowed_domains),
        work_dir=streams.scratch() / context.run_id, on_segment=reporter.segment, on_health=reporter.health,
    )  # fmt: skip
    health = recorder.run()
    return MaterializeResult(metadata=health.summary())


class _SegmentReporter:
    """Reports the partition's materialization every ``REPORT_EVERY_S`` of stream time, with the latest health."""

    def __init__(self, context: AssetExecutionContext) -> None:
        self.context = context
        self.reported_to_s = 0.0
        self.latest: StreamHealth | None = None

    def health(self, health: StreamHealth) -> None:
        self.latest = health

    def segment(self, segment: SegmentRecord) -> None:
        if segment.end_s - self.reported_to_s < REPORT_EVERY_S:
            return
        self.reported_to_s = segment.end_s
        metadata = self.latest.summary() if self.latest else {}
        self.context.log_event(AssetMaterialization(
            asset_key=self.context.asset_key, partition=self.context.partition_key,
            metadata={**metadata, "live_edge_s": round(segment.end_s, 1), "last_segment": segment.key},
        ))  # fmt: skip


def each_clip_to_its_stream() -> MultiToSingleDimensionPartitionMapping:
    """A live clip (stream x moment) depends on its stream's segments."""
    # Dagster marks this mapping beta, yet it is the documented way to depend on one dimension of a
    # multi-partitioned asset (dagster is pinned in pyproject.toml): the warning is nothing a user of
    # `clipped ui` can act on. Only BetaWarning, only here, is ignored.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        return MultiToSingleDimensionPartitionMapping(partition_dimension_name=LIVE_STREAM_PARTITIONS)


@asset(
    partitions_def=live_clip_partitions,
    deps=[
        AssetDep(
            stream_segments,
            partition_mapping=each_clip_to_its_stream(),
        )
    ],
    group_name="live",
    code_version="2",  # 2: the crop follows the faces found in the window's segments
    kinds={"ffmpeg"},
    retry_policy=RetryPolicy(max_retries=1),
    description="The clip of one moment of a live stream: its window from the ring buffer, rendered like VOD clips.",
)
@bad_input_policy
def live_clips(
    context: AssetExecutionContext, storage: StorageResource, render: RenderOptions, streams: StreamsResource
) -> MaterializeResult:
    keys = context.partition_key.keys_by_dimension  # type: ignore[attr-defined]
    stream = StreamRef.from_partition_key(keys[LIVE_STREAM_PARTITIONS])
    record = storage.read_model(stream.key(STREAM_FILE), StreamRecord)
    clip = clip_moment(
        storage, stream, keys[LIVE_MOMENT_PARTITIONS], encoder=streams.live_encoder(render),
        settings=record.settings.clips,
    )  # fmt: skip
    return MaterializeResult(metadata=live_clip_metadata(storage, clip))


def live_clip_metadata(storage: StorageResource, clip: LiveClip) -> dict[str, object]:
    return {
        "clip": MetadataValue.url(storage.uri(clip.video_key)),
        "start_s": round(clip.start_s, 2),
        "end_s": round(clip.end_s, 2),
        "score": clip.score,
        "reason": clip.reason,
        "title": clip.title,
        "latency_from_detection_s": round(clip.rendered_at - clip.detected_at, 1),
        "loudness_lufs": clip.loudness_lufs if clip.loudness_lufs is not None else "n/a",
    }


stream_recorder_job = define_asset_job(
    name="stream_recorder_job",
    selection=[stream_segments],
    executor_def=in_process_executor,  # the run's own pod is the recorder: no step pods
    tags={"dagster-k8s/config": json.dumps(RECORDER_POD)},
    description="Records one live stream for as long as it lasts (launched and relaunched by stream_recorder_sensor).",
)
