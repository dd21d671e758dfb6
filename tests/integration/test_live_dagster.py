"""The Dagster path of a live stream: stream_recorder_sensor asks for a recorder run, stream_recorder_job's
stream_segments records the stream (reporting materializations as it goes), live_segment_sensor finds the planted
moment in the new segments and asks for a live_clip_job run, and live_clips renders it, lineage included."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from dagster import AssetKey, MultiPartitionKey, build_sensor_context, instance_for_test, materialize

from clipped.live.layout import LIVE_MOMENT_PARTITIONS, LIVE_STREAM_PARTITIONS, StreamRef
from clipped.live.models import LiveClip
from clipped_assets.live import live_clips, stream_segments
from clipped_resources.asr import FasterWhisperAsr
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import LocalStorage
from clipped_resources.streams import DagsterStreams
from clipped_resources.vision import RetinaFaceVision
from clipped_sensors.live import live_segment_sensor, stream_recorder_sensor
from tests.support.live_hls import KEYWORD, LiveHlsServer, make_live_media

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("live_streams")]
WS = "ws1"


def test_recorder_run_segment_sensor_and_clip_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clipped_assets.live.REPORT_EVERY_S", 10.0)  # a 30 s stream: a few reports while recording
    media = make_live_media(tmp_path / "media", duration_s=30, moments=[14.0])
    storage = LocalStorage(root=str(tmp_path / "storage"))
    streams = DagsterStreams(
        workspaces=[WS], allow_loopback_sources=True, keywords=[KEYWORD], clip_s=12.0, post_roll_s=4.0,
        stall_after_s=3.0, give_up_after_s=20.0, work_dir=str(tmp_path / "live"),
    )  # fmt: skip
    with instance_for_test() as instance:
        with LiveHlsServer(media, speed=2.0) as server:
            status = streams.service(storage).start(WS, server.url)
            assert status.runner == "dagster" and status.state == "starting"
            stream = StreamRef(WS, status.stream_id)

            recorder_tick = stream_recorder_sensor(
                build_sensor_context(instance=instance, resources={"storage": storage, "streams": streams})
            )
            [request] = recorder_tick.run_requests
            assert request.partition_key == stream.partition_key and request.run_key == f"{stream.partition_key}@1"
            [added] = recorder_tick.dynamic_partitions_requests
            assert list(added.partition_keys) == [stream.partition_key]
            instance.add_dynamic_partitions(LIVE_STREAM_PARTITIONS, [stream.partition_key])  # as the daemon would

            recorded = materialize(
                [stream_segments], partition_key=stream.partition_key, instance=instance,
                resources={"storage": storage, "streams": streams, "ingest": IngestPolicy()},
            )  # fmt: skip
        assert recorded.success
        reports = instance.fetch_materializations(AssetKey("stream_segments"), limit=20).records
        assert len(reports) >= 3  # some while recording, and the final one
        final = reports[0].asset_materialization
        assert final.partition == stream.partition_key and final.metadata["state"].value == "ended"

        sensor_resources = {"storage": storage, "streams": streams, "asr": FasterWhisperAsr(),
                            "vision": RetinaFaceVision()}  # fmt: skip
        again = stream_recorder_sensor(build_sensor_context(instance=instance, resources=sensor_resources))
        assert not again.run_requests  # the stream ended: nothing to restart
        # One tick analyses what its time budget allows; on a busy machine the rest waits for the next tick.
        requests, cursor = [], None
        for _ in range(6):
            tick = live_segment_sensor(
                build_sensor_context(instance=instance, resources=sensor_resources, cursor=cursor)
            )
            requests += tick.run_requests
            cursor = tick.cursor
            if cursor == f'{{"{stream.partition_key}": "done"}}':
                break
        [clip_request] = requests
        moment_id = clip_request.partition_key.keys_by_dimension[LIVE_MOMENT_PARTITIONS]
        assert clip_request.partition_key == MultiPartitionKey(
            {LIVE_STREAM_PARTITIONS: stream.partition_key, LIVE_MOMENT_PARTITIONS: moment_id}
        )
        assert cursor == f'{{"{stream.partition_key}": "done"}}'
        assert not live_segment_sensor(
            build_sensor_context(instance=instance, resources=sensor_resources, cursor=cursor)
        ).run_requests

        instance.add_dynamic_partitions(LIVE_MOMENT_PARTITIONS, [moment_id])
        rendered = materialize(
            [live_clips], partition_key=clip_request.partition_key, instance=instance,
            resources={"storage": storage, "streams": streams, "render": RenderOptions()},
        )  # fmt: skip
        assert rendered.success
        [materialization] = rendered.asset_materializations_for_node("live_clips")
        assert materialization.metadata["score"].value > 0.3
        clip = storage.read_model(stream.clip_record_key(moment_id), LiveClip)
        planted = media.moments[0]
        offset = server.first_fetched_segment().start_s
        assert clip.start_s <= planted.at_s - offset and clip.end_s >= planted.end_s - offset
        with storage.local_path(clip.video_key) as video, av.open(str(video)) as container:
            assert container.streams.video[0].codec_context.height == 1920
