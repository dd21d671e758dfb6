"""Live streams run by Dagster (the ``dagster`` runner; streams recorded by the local fast path detect and clip in
their own process and are left alone here):

- ``stream_recorder_sensor`` launches a ``stream_recorder_job`` run for each stream that should be recording but
  has no run in flight and no fresh heartbeat: a new stream, or one whose recorder died (a stale heartbeat);
- ``live_segment_sensor`` runs detection on each stream's new segments (cursor: the last segment seen per
  stream) and, for every moment that crosses the threshold, requests a ``live_clip_job`` run for it.

Both are thin: the work lives in :mod:`clipped.live`.
"""

import json
import time

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    MultiPartitionKey,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from clipped.live.chat import ChatReplay
from clipped.live.detection import detect_new_segments
from clipped.live.layout import LIVE_MOMENT_PARTITIONS, LIVE_STREAM_PARTITIONS, STREAM_FILE, StreamRef
from clipped.live.models import ACTIVE_STATES, StreamRecord, now
from clipped.run_tags import TRIGGER_TAG, WORKSPACE_TAG
from clipped_assets.live import live_moment_keys, live_stream_partitions
from clipped_resources.asr import AsrResource
from clipped_resources.storage import StorageResource
from clipped_resources.streams import StreamsResource
from clipped_resources.vision import VisionResource

DETECTION_BUDGET_S = 40.0  # of the sensor tick's 60 s; the rest of the segments wait for the next tick
IN_FLIGHT = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


@sensor(
    job_name="stream_recorder_job",
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.STOPPED,
    description="Starts a recorder run for each live stream that should record and has none (new, or stale).",
)
def stream_recorder_sensor(
    context: SensorEvaluationContext, storage: StorageResource, streams: StreamsResource
) -> SensorResult:
    requests, keys = [], []
    for workspace_id in streams.workspaces:
        service = streams.service(storage.for_workspace(workspace_id))
        for status in service.list(workspace_id):
            if status.runner != "dagster" or not status.active:
                continue
            fresh = status.heartbeat_age_s is not None and not status.stale
            stream = StreamRef(workspace_id, status.stream_id)
            in_flight = context.instance.get_runs(
                RunsFilter(job_name="stream_recorder_job", statuses=IN_FLIGHT,
                           tags={"dagster/partition": stream.partition_key}),
                limit=1,
            )  # fmt: skip
            if fresh or in_flight:
                continue
            record = service.record(workspace_id, status.stream_id)
            if status.health is not None or record.launches == 0:  # a restart (the service counted the start)
                record.launches += 1
                record.launched_at = now()
                storage.write_model(stream.key(STREAM_FILE), record)
            keys.append(stream.partition_key)
            requests.append(RunRequest(
                run_key=f"{stream.partition_key}@{record.launches}", partition_key=stream.partition_key,
                tags={WORKSPACE_TAG: workspace_id, TRIGGER_TAG: "sensor"},
            ))  # fmt: skip
    if not requests:
        return SensorResult(skip_reason=SkipReason("every live stream that should record has a recorder"))
    return SensorResult(
        run_requests=requests, dynamic_partitions_requests=[live_stream_partitions.build_add_request(keys)]
    )


@sensor(
    job_name="live_clip_job",
    minimum_interval_seconds=5,
    default_status=DefaultSensorStatus.STOPPED,
    description="Detects moments in live streams' new segments; each moment becomes a live_clip_job run.",
)
def live_segment_sensor(
    context: SensorEvaluationContext,
    storage: StorageResource,
    asr: AsrResource,
    vision: VisionResource,
    streams: StreamsResource,
) -> SensorResult:
    cursor: dict[str, int | str] = json.loads(context.cursor) if context.cursor else {}
    deadline = time.monotonic() + DETECTION_BUDGET_S
    requests, moment_ids, analysed = [], [], 0
    for workspace_id in streams.workspaces:
        service = streams.service(storage.for_workspace(workspace_id))
        for status in service.list(workspace_id):
            stream = StreamRef(workspace_id, status.stream_id)
            if status.runner != "dagster" or cursor.get(stream.partition_key) == "done":
                continue
            record = storage.read_model(stream.key(STREAM_FILE), StreamRecord)
            chat = ChatReplay.parse(storage.read_bytes(record.chat_key).decode()) if record.chat_key else None
            result = detect_new_segments(
                storage, stream, record.settings, asr=asr, chat=chat, faces=vision, deadline=deadline,
                stream_over=status.health is not None and status.state not in ACTIVE_STATES,
            )  # fmt: skip
            analysed += len(result.analysed)
            cursor[stream.partition_key] = "done" if result.finished else result.last_sequence
            for moment in result.moments:
                moment_ids.append(moment.moment_id)
                requests.append(RunRequest(
                    run_key=f"{stream.partition_key}:{moment.moment_id}",
                    partition_key=MultiPartitionKey({LIVE_STREAM_PARTITIONS: stream.partition_key,
                                                     LIVE_MOMENT_PARTITIONS: moment.moment_id}),
                    tags={WORKSPACE_TAG: workspace_id, TRIGGER_TAG: "sensor"},
                ))  # fmt: skip
    return SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[live_moment_keys.build_add_request(sorted(set(moment_ids)))] if moment_ids else [],
        cursor=json.dumps(cursor, sort_keys=True),
        skip_reason=None if requests else SkipReason(f"{analysed} new segments analysed, no new moment"),
    )
