"""definitions.py assembles exactly the graph we document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import (
    AssetCheckKey,
    AssetKey,
    DailyPartitionsDefinition,
    DynamicPartitionsDefinition,
    LastPartitionMapping,
    MultiPartitionsDefinition,
    MultiToSingleDimensionPartitionMapping,
    build_schedule_context,
)

from definitions import build_definitions
from tests.support.s3_server import S3Bucket

ROOT = Path(__file__).resolve().parent.parent.parent
ASSETS = {
    "source_video": "ingest",
    "transcript": "understand",
    "scenes": "understand",
    "audio_features": "understand",
    "source_summary": "understand",
    "moment_index": "understand",
    "candidates": "select",
    "faces": "select",
    "rendered_clips": "render",
    "clip_version": "render",
    "publications": "distribute",
    "engagement_metrics": "analytics",
    "ranking_weights": "learn",
    "stream_segments": "live",
    "live_clips": "live",
    # dbt_analytics models (clipped_assets/dbt_models.py)
    "stg_engagement__snapshots": "analytics",
    "stg_publishing__publications": "analytics",
    "int_publications_latest": "analytics",
    "fct_clip_engagement": "analytics",
    "fct_clip_performance": "analytics",
    "performance_by_feature": "analytics",
    "best_posting_hours": "analytics",
    "account_growth": "analytics",
    "workspace_summary": "analytics",
}
DBT_MODELS = {name for name, group in ASSETS.items() if group == "analytics"} - {"engagement_metrics"}
# Partitioned per version of a clip, or per publication, within its source (see test_clip_version_partitions).
PER_VERSION = {"clip_version", "publications"}
# Partitioned per workspace: one set of learned ranking weights each.
PER_WORKSPACE = {"ranking_weights"}
# Partitioned per live stream, or per moment within its stream (see test_live_partitions_and_lineage).
PER_STREAM = {"stream_segments", "live_clips"}
# Partitioned per day: one engagement snapshot of every published post each.
PER_DAY = {"engagement_metrics"}
PER_DAY |= DBT_MODELS  # the dbt models share engagement_metrics' days (see test_analytics_models_line_up_with_metrics)
CHECKS = {
    ("transcript", "transcript_times_within_audio"),
    ("engagement_metrics", "engagement_metrics_pass_expectations"),
    ("rendered_clips", "rendered_clips_have_target_resolution"),
    ("rendered_clips", "rendered_clips_within_duration_bounds"),
    ("rendered_clips", "rendered_clips_have_audio"),
    ("rendered_clips", "rendered_clips_free_of_black_or_frozen_stretches"),
    ("rendered_clips", "rendered_clips_have_burned_captions"),
    ("rendered_clips", "rendered_clips_open_without_profanity"),
    ("clip_version", "clip_version_has_target_resolution"),
    ("clip_version", "clip_version_within_duration_bounds"),
    ("clip_version", "clip_version_has_audio"),
    ("clip_version", "clip_version_free_of_black_or_frozen_stretches"),
    ("clip_version", "clip_version_has_burned_captions"),
    ("clip_version", "clip_version_opens_without_profanity"),
}
# dbt tests on the models' keys (the whole set is each model's YAML in dbt_analytics/models/).
DBT_KEY_CHECKS = {
    ("stg_engagement__snapshots", "unique_stg_engagement__snapshots_publication_id_snapshot_day"),
    (
        "stg_engagement__snapshots",
        "relationships_stg_engagement__snapshots_publication_id__publication_id__ref_stg_publishing__publications_",
    ),
    ("stg_publishing__publications", "unique_stg_publishing__publications_publication_id_snapshot_day"),
    ("int_publications_latest", "unique_int_publications_latest_publication_id"),
    ("fct_clip_engagement", "unique_fct_clip_engagement_publication_id_snapshot_day"),
    ("fct_clip_performance", "unique_fct_clip_performance_publication_id"),
    ("performance_by_feature", "unique_performance_by_feature_workspace_id_feature_bucket"),
    ("best_posting_hours", "unique_best_posting_hours_account_id_posting_hour_local"),
    ("account_growth", "unique_account_growth_account_id_day"),
    ("workspace_summary", "unique_workspace_summary_workspace_id_day"),
}


def test_asset_keys_groups_and_partitions() -> None:
    defs = build_definitions("local")
    graph = defs.resolve_asset_graph()
    keys = {key for key in graph.get_all_asset_keys()}
    assert keys == {AssetKey(name) for name in ASSETS}
    for name, group in ASSETS.items():
        node = graph.get(AssetKey(name))
        assert node.group_name == group
        if name in PER_DAY:
            assert isinstance(node.partitions_def, DailyPartitionsDefinition)
            continue
        if name in PER_VERSION | PER_STREAM:
            continue
        assert isinstance(node.partitions_def, DynamicPartitionsDefinition)
        assert node.partitions_def.name == ("workspace" if name in PER_WORKSPACE else "source_video")


def test_clip_version_partitions() -> None:
    """A version's partition is (source, version): the source dimension is source_video's own definition."""
    graph = build_definitions("local").resolve_asset_graph()
    partitions = graph.get(AssetKey("clip_version")).partitions_def
    assert isinstance(partitions, MultiPartitionsDefinition)
    dimensions = {dimension.name: dimension.partitions_def for dimension in partitions.partitions_defs}
    assert set(dimensions) == {"source_video", "clip_version"}
    assert dimensions["source_video"] == graph.get(AssetKey("rendered_clips")).partitions_def
    assert isinstance(dimensions["clip_version"], DynamicPartitionsDefinition)
    assert dimensions["clip_version"].name == "clip_version"


def test_live_partitions_and_lineage() -> None:
    """A stream's segments are one partition per stream; each live clip is (stream, moment) and depends on its own
    stream's segments through the shared dimension; the recorder runs in its run's own process (pod)."""
    defs = build_definitions("local")
    graph = defs.resolve_asset_graph()
    segments = graph.get(AssetKey("stream_segments")).partitions_def
    assert isinstance(segments, DynamicPartitionsDefinition)
    assert segments.name == "live_stream"
    clips = graph.get(AssetKey("live_clips")).partitions_def
    assert isinstance(clips, MultiPartitionsDefinition)
    dimensions = {dimension.name: dimension.partitions_def for dimension in clips.partitions_defs}
    assert set(dimensions) == {"live_stream", "live_moment"}
    assert dimensions["live_stream"] == segments
    assert {key.path[-1] for key in graph.get(AssetKey("live_clips")).parent_keys} == {"stream_segments"}
    mapping = graph.get_partition_mapping(AssetKey("live_clips"), AssetKey("stream_segments"))
    assert isinstance(mapping, MultiToSingleDimensionPartitionMapping)
    recorder_job = defs.resolve_job_def("stream_recorder_job")
    assert recorder_job.asset_layer.executable_asset_keys == {AssetKey("stream_segments")}
    assert recorder_job.executor_def.name == "in_process"
    assert "dagster-k8s/config" in recorder_job.tags
    clip_job = defs.resolve_job_def("live_clip_job")
    assert clip_job.asset_layer.executable_asset_keys == {AssetKey("live_clips")}
    assert clip_job.partitions_def == clips


def test_lineage() -> None:
    graph = build_definitions("local").resolve_asset_graph()

    def parents(name: str) -> set[str]:
        return {key.path[-1] for key in graph.get(AssetKey(name)).parent_keys}

    assert parents("transcript") == {"source_video"}
    assert parents("candidates") == {"transcript", "scenes", "audio_features"}
    assert parents("source_summary") == {"transcript"}
    assert parents("moment_index") == {"transcript"}
    assert parents("faces") == {"candidates"}
    assert parents("rendered_clips") == {"candidates", "faces"}
    assert parents("clip_version") == {"rendered_clips"}
    assert parents("publications") == {"rendered_clips"}
    assert parents("engagement_metrics") == {"publications"}
    assert parents("ranking_weights") == {"fct_clip_performance"}
    # Each workspace's fit reads the mart as the latest daily build left it.
    mart_mapping = graph.get_partition_mapping(AssetKey("ranking_weights"), AssetKey("fct_clip_performance"))
    assert isinstance(mart_mapping, LastPartitionMapping)
    publication_mapping = graph.get_partition_mapping(AssetKey("publications"), AssetKey("rendered_clips"))
    assert isinstance(publication_mapping, MultiToSingleDimensionPartitionMapping)
    # Per partition: a version depends on its own source's rendered_clips, through the shared dimension.
    mapping = graph.get_partition_mapping(AssetKey("clip_version"), AssetKey("rendered_clips"))
    assert isinstance(mapping, MultiToSingleDimensionPartitionMapping)
    # dbt_analytics: both sources are engagement_metrics; the marts build on staging and each other.
    assert parents("stg_engagement__snapshots") == {"engagement_metrics"}
    assert parents("stg_publishing__publications") == {"engagement_metrics"}
    assert parents("int_publications_latest") == {"stg_publishing__publications"}
    assert parents("fct_clip_engagement") == {"stg_engagement__snapshots", "int_publications_latest"}
    assert parents("fct_clip_performance") == {"fct_clip_engagement", "int_publications_latest"}
    assert parents("performance_by_feature") == {"fct_clip_performance"}
    assert parents("best_posting_hours") == {"fct_clip_performance"}
    assert parents("account_growth") == {"fct_clip_engagement", "int_publications_latest"}
    assert parents("workspace_summary") == {"account_growth", "fct_clip_engagement"}


def test_checks_are_blocking_and_named_as_predicates() -> None:
    graph = build_definitions("local").resolve_asset_graph()
    keys = set(graph.asset_check_keys)
    dbt_tests = {key for key in keys if key.asset_key.path[-1] in DBT_MODELS}
    assert keys - dbt_tests == {AssetCheckKey(AssetKey(asset), name) for asset, name in CHECKS}
    for key in keys:
        assert graph.get_check_spec(key).blocking, key
    # dbt tests are checks on their models (error severity: blocking); every model has its key tested.
    assert {AssetCheckKey(AssetKey(asset), name) for asset, name in DBT_KEY_CHECKS} <= dbt_tests
    assert {key.asset_key.path[-1] for key in dbt_tests} == DBT_MODELS


def test_retry_policies_follow_the_seed_table() -> None:
    defs = build_definitions("local")
    graph = defs.resolve_asset_graph()
    attempts = {
        name: graph.get(AssetKey(name)).assets_def.op.retry_policy.max_retries + 1
        for name in ("source_video", "transcript", "rendered_clips", "clip_version")
    }
    assert attempts == {"source_video": 3, "transcript": 2, "rendered_clips": 2, "clip_version": 2}


def test_gpu_steps_are_tagged_and_cpu_steps_are_not() -> None:
    graph = build_definitions("local").resolve_asset_graph()
    for name in ASSETS:
        tags = graph.get(AssetKey(name)).assets_def.op.tags
        k8s_config = json.loads(tags.get("dagster-k8s/config", "{}"))
        limits = k8s_config.get("container_config", {}).get("resources", {}).get("limits", {})
        assert ("nvidia.com/gpu" in limits) == (name in {"transcript", "faces"}), name


def test_job_and_resources() -> None:
    defs = build_definitions("local")
    assert {job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")} == {
        "clip_job",
        "clip_version_job",
        "publication_job",
        "learn_job",
        "platform_grants_job",
        "engagement_job",
        "analytics_job",
        "stream_recorder_job",
        "live_clip_job",
    }
    assert {schedule.name for schedule in defs.schedules} == {
        "platform_grants_schedule",
        "analytics_schedule",
    }
    assert {sensor.name for sensor in defs.sensors} == {
        "source_video_upload_sensor",
        "due_publications_sensor",
        "ranking_weights_sensor",
        "stream_recorder_sensor",
        "live_segment_sensor",
    }
    learn_job = defs.resolve_job_def("learn_job")
    assert learn_job.asset_layer.executable_asset_keys == {AssetKey("ranking_weights")}
    publication_job = defs.resolve_job_def("publication_job")
    assert publication_job.asset_layer.executable_asset_keys == {AssetKey("publications")}
    assert defs.resolve_job_def("clip_job").partitions_def.name == "source_video"
    # clip_job renders sources; versions are rendered only by their own job.
    clip_job_assets = defs.resolve_job_def("clip_job").asset_layer.executable_asset_keys
    assert clip_job_assets == {
        AssetKey(name) for name in ASSETS if name not in PER_VERSION | PER_WORKSPACE | PER_DAY | PER_STREAM
    }
    engagement_job = defs.resolve_job_def("engagement_job")
    assert engagement_job.asset_layer.executable_asset_keys == {AssetKey("engagement_metrics")}
    assert isinstance(engagement_job.partitions_def, DailyPartitionsDefinition)
    version_job = defs.resolve_job_def("clip_version_job")
    assert version_job.asset_layer.executable_asset_keys == {AssetKey("clip_version")}
    assert isinstance(version_job.partitions_def, MultiPartitionsDefinition)
    assert set(defs.resources) >= {
        "storage",
        "asr",
        "vision",
        "ingest",
        "render",
        "publisher",
        "warehouse",
        "dbt",
        "streams",
        "vector_store",
        "ranker",
    }


def test_analytics_models_line_up_with_metrics() -> None:
    """analytics_job pulls a day's metrics, checks them and builds every dbt model on engagement_metrics' own days
    (in one run, so a failed check stops the models); its schedule runs at 02:30 UTC for the day that just ended."""
    defs = build_definitions("local")
    graph = defs.resolve_asset_graph()
    metrics_days = graph.get(AssetKey("engagement_metrics")).partitions_def
    for name in DBT_MODELS:
        assert graph.get(AssetKey(name)).partitions_def == metrics_days, name
    analytics_job = defs.resolve_job_def("analytics_job")
    expected = {AssetKey(name) for name in DBT_MODELS} | {AssetKey("engagement_metrics")}
    assert analytics_job.asset_layer.executable_asset_keys == expected
    assert analytics_job.partitions_def == metrics_days
    schedule = defs.resolve_schedule_def("analytics_schedule")
    assert schedule.cron_schedule == "30 2 * * *" and schedule.execution_timezone == "UTC"
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 5, 2, 30, tzinfo=UTC), repository_def=defs.get_repository_def()
    )
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-03-04" and request.run_key == "2026-03-04"


def validate_definitions(tmp_path: Path, extra_env: dict[str, str]) -> None:
    """`dagster definitions validate` on workspace.yaml, in a fresh DAGSTER_HOME/CLIPPED_HOME."""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "CLIPPED_HOME": str(tmp_path / "home"), **extra_env}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", str(ROOT / "workspace.yaml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dagster_definitions_validate(tmp_path: Path) -> None:
    validate_definitions(tmp_path, {"CLIPPED_PROFILE": "local"})


def test_dagster_definitions_validate_prod(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    validate_definitions(tmp_path, s3_bucket.prod_env())


def test_prod_clip_job_runs_each_step_in_its_own_kubernetes_pod(
    s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_k8s import k8s_job_executor

    for name, value in s3_bucket.prod_env().items():
        monkeypatch.setenv(name, value)
    for job in ("clip_job", "clip_version_job"):
        executor = build_definitions().resolve_job_def(job).executor_def
        assert executor.executor_creation_fn is k8s_job_executor.executor_creation_fn, job
        local = build_definitions("local").resolve_job_def(job).executor_def
        assert local.executor_creation_fn is not k8s_job_executor.executor_creation_fn, job
