"""stream_recorder_sensor in production: a stream without a recorder run gets one, a fresh heartbeat or a run in
flight gets none, a stale heartbeat gets a new run (a new run key), and a stopped or ended stream none."""

from __future__ import annotations

import time
from pathlib import Path

from dagster import DagsterRunStatus, build_sensor_context, instance_for_test
from dagster._core.test_utils import create_run_for_test

from clipped.live.layout import HEALTH_FILE, STREAM_FILE, StreamRef
from clipped.live.models import StreamHealth, StreamRecord
from clipped_resources.storage import LocalStorage
from clipped_resources.streams import DagsterStreams
from clipped_sensors.live import stream_recorder_sensor

WS = "ws1"
URL = "http://127.0.0.1:9/live/index.m3u8"  # never opened: the sensor only asks for runs


def beat(storage: LocalStorage, stream: StreamRef, age_s: float, state: str = "recording") -> None:
    at = time.time() - age_s
    health = StreamHealth(state=state, updated_at=at, started_at=at - 60, last_segment_at=at)
    storage.write_model(stream.key(HEALTH_FILE), health)


def started_long_ago(storage: LocalStorage, stream: StreamRef) -> None:
    record = storage.read_model(stream.key(STREAM_FILE), StreamRecord)
    record.created_at = record.launched_at = time.time() - 300
    storage.write_model(stream.key(STREAM_FILE), record)


def test_a_stale_recorder_run_is_launched_again(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "storage"))
    streams = DagsterStreams(workspaces=[WS], allow_loopback_sources=True, stale_after_s=30.0)
    service = streams.service(storage)
    with instance_for_test() as instance:

        def tick() -> list[str]:
            context = build_sensor_context(instance=instance, resources={"storage": storage, "streams": streams})
            return [request.run_key for request in stream_recorder_sensor(context).run_requests]

        status = service.start(WS, URL)
        stream = StreamRef(WS, status.stream_id)
        assert tick() == [f"{stream.partition_key}@1"]  # new: its first recorder run

        started_long_ago(storage, stream)
        beat(storage, stream, age_s=5)
        assert tick() == []  # recording, heartbeat fresh

        beat(storage, stream, age_s=45)
        assert service.get(WS, status.stream_id).stale
        in_flight = create_run_for_test(
            instance, job_name="stream_recorder_job", status=DagsterRunStatus.STARTING,
            tags={"dagster/partition": stream.partition_key},
        )  # fmt: skip
        assert tick() == []  # a recorder run is coming up: it gets the time to start
        instance.report_run_failed(instance.get_run_by_id(in_flight.run_id))
        assert tick() == [f"{stream.partition_key}@2"]  # its heartbeat went stale and no run is left: a new one
        assert service.record(WS, status.stream_id).launches == 2
        assert tick() == []  # the new run has as long as a heartbeat to speak up (its run key is taken anyway)
        started_long_ago(storage, stream)

        beat(storage, stream, age_s=45, state="ended")
        assert tick() == []  # the stream ended: nothing to restart
        beat(storage, stream, age_s=45)
        service.stop(WS, status.stream_id)
        assert tick() == []  # asked to stop: never started again
