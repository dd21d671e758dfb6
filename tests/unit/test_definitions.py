"""definitions.py assembles exactly the graph we document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import (
    AssetCheckKey,
    AssetKey,
    DailyPartitionsDefinition,
    DynamicPartitionsDefinition,
    MultiPartitionsDefinition,
    MultiToSingleDimensionPartitionMapping,
)

from definitions import build_definitions
from tests.support.s3_server import S3Bucket

ROOT = Path(__file__).resolve().parent.parent.parent
ASSETS = {
    "source_video": "ingest",
    "transcript": "understand",
    "scenes": "understand",
    "audio_features": "understand",
    "candidates": "select",
    "faces": "select",
    "rendered_clips": "render",
    "clip_version": "render",
    "publications": "distribute",
    "engagement_metrics": "analytics",
}
# Partitioned per version of a clip, or per publication, within its source (see test_clip_version_partitions).
PER_VERSION = {"clip_version", "publications"}
# Partitioned per day: one engagement snapshot of every published post each.
PER_DAY = {"engagement_metrics"}
CHECKS = {
    ("transcript", "transcript_times_within_audio"),
    ("engagement_metrics", "engagement_metrics_pass_expectations"),
    ("rendered_clips", "rendered_clips_have_target_resolution"),
    ("rendered_clips", "rendered_clips_within_duration_bounds"),
    ("rendered_clips", "rendered_clips_have_audio"),
    ("rendered_clips", "rendered_clips_free_of_black_or_frozen_stretches"),
    ("rendered_clips", "rendered_clips_have_burned_captions"),
    ("clip_version", "clip_version_has_target_resolution"),
    ("clip_version", "clip_version_within_duration_bounds"),
    ("clip_version", "clip_version_has_audio"),
    ("clip_version", "clip_version_free_of_black_or_frozen_stretches"),
    ("clip_version", "clip_version_has_burned_captions"),
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
        if name in PER_VERSION:
            continue
        assert isinstance(node.partitions_def, DynamicPartitionsDefinition)
        assert node.partitions_def.name == "source_video"


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


def test_lineage() -> None:
    graph = build_definitions("local").resolve_asset_graph()

    def parents(name: str) -> set[str]:
        return {key.path[-1] for key in graph.get(AssetKey(name)).parent_keys}

    assert parents("transcript") == {"source_video"}
    assert parents("candidates") == {"transcript", "scenes", "audio_features"}
    assert parents("faces") == {"candidates"}
    assert parents("rendered_clips") == {"candidates", "faces"}
    assert parents("clip_version") == {"rendered_clips"}
    assert parents("publications") == {"rendered_clips"}
    assert parents("engagement_metrics") == {"publications"}
    publication_mapping = graph.get_partition_mapping(AssetKey("publications"), AssetKey("rendered_clips"))
    assert isinstance(publication_mapping, MultiToSingleDimensionPartitionMapping)
    # Per partition: a version depends on its own source's rendered_clips, through the shared dimension.
    mapping = graph.get_partition_mapping(AssetKey("clip_version"), AssetKey("rendered_clips"))
    assert isinstance(mapping, MultiToSingleDimensionPartitionMapping)


def test_checks_are_blocking_and_named_as_predicates() -> None:
    graph = build_definitions("local").resolve_asset_graph()
    keys = set(graph.asset_check_keys)
    assert keys == {AssetCheckKey(AssetKey(asset), name) for asset, name in CHECKS}
    for key in keys:
        assert graph.get_check_spec(key).blocking, key


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
        "platform_grants_job",
        "engagement_job",
    }
    assert {schedule.name for schedule in defs.schedules} == {"platform_grants_schedule", "engagement_daily_schedule"}
    assert {sensor.name for sensor in defs.sensors} == {"source_video_upload_sensor", "due_publications_sensor"}
    publication_job = defs.resolve_job_def("publication_job")
    assert publication_job.asset_layer.executable_asset_keys == {AssetKey("publications")}
    assert defs.resolve_job_def("clip_job").partitions_def.name == "source_video"
    # clip_job renders sources; versions are rendered only by their own job.
    clip_job_assets = defs.resolve_job_def("clip_job").asset_layer.executable_asset_keys
    assert clip_job_assets == {AssetKey(name) for name in ASSETS if name not in PER_VERSION | PER_DAY}
    engagement_job = defs.resolve_job_def("engagement_job")
    assert engagement_job.asset_layer.executable_asset_keys == {AssetKey("engagement_metrics")}
    assert isinstance(engagement_job.partitions_def, DailyPartitionsDefinition)
    version_job = defs.resolve_job_def("clip_version_job")
    assert version_job.asset_layer.executable_asset_keys == {AssetKey("clip_version")}
    assert isinstance(version_job.partitions_def, MultiPartitionsDefinition)
    assert set(defs.resources) >= {"storage", "asr", "vision", "ingest", "render", "publisher"}


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
