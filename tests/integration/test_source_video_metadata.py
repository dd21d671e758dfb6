"""The source_video partition page says how its clips were asked for, and links to the review app."""

from __future__ import annotations

from dagster import AssetKey, materialize

from clipped.layout import REQUEST_FILE, SourceRef
from clipped.sources import request_for
from clipped.types import ClipSettings
from clipped_assets.ingest import source_video
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.storage import LocalStorage
from tests.conftest import ClippedEnv, make_video


def test_settings_and_review_link_are_on_the_partition(clipped_env: ClippedEnv) -> None:
    video = make_video(clipped_env.media / "talk.mp4", seconds=4)
    settings = ClipSettings(max_clips=2, min_duration_s=1, max_duration_s=3, aspect="1:1", caption_style="karaoke")
    storage = LocalStorage(root=str(clipped_env.home / "storage"), review_app_url="https://review.example.org")
    source = SourceRef("acme", "talk-0123456789")
    storage.write_model(source.key(REQUEST_FILE), request_for(str(video), settings))
    clipped_env.instance.add_dynamic_partitions("source_video", [source.partition_key])
    result = materialize(
        [source_video],
        partition_key=source.partition_key,
        instance=clipped_env.instance,
        resources={"storage": storage, "ingest": IngestPolicy(allowed_roots=[str(clipped_env.media)])},
    )
    assert result.success
    event = clipped_env.instance.get_latest_materialization_event(AssetKey("source_video"))
    metadata = event.asset_materialization.metadata
    assert metadata["settings"].value == {
        "max_clips": 2,
        "min_duration_s": 1.0,
        "max_duration_s": 3.0,
        "aspect": "1:1",
        "caption_style": "karaoke",
        "language": "detect",
    }
    assert metadata["review"].value == "https://review.example.org/open/sources/acme.talk-0123456789"


def test_a_bad_input_failure_is_told_on_the_partition(clipped_env: ClippedEnv) -> None:
    from dagster import DagsterEventType, EventRecordsFilter

    empty = clipped_env.media / "empty.mp4"
    empty.touch()
    storage = LocalStorage(root=str(clipped_env.home / "storage"))
    source = SourceRef("acme", "empty-0123456789")
    storage.write_model(source.key(REQUEST_FILE), request_for(str(empty), ClipSettings()))
    clipped_env.instance.add_dynamic_partitions("source_video", [source.partition_key])
    result = materialize(
        [source_video],
        partition_key=source.partition_key,
        instance=clipped_env.instance,
        resources={"storage": storage, "ingest": IngestPolicy(allowed_roots=[str(clipped_env.media)])},
        raise_on_error=False,
    )
    assert not result.success
    records = clipped_env.instance.get_event_records(
        EventRecordsFilter(event_type=DagsterEventType.ASSET_OBSERVATION, asset_key=AssetKey("source_video"))
    )
    [observed] = [r.event_log_entry.asset_observation for r in records]
    assert observed.partition == source.partition_key
    assert observed.metadata["failure"].value == "file is empty (0 bytes)"
    assert observed.metadata["run_id"].value == result.run_id
