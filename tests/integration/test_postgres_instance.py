"""The production Dagster instance (deploy/dagster.yaml) on a real PostgreSQL, with compute logs on moto S3.

One partition of clip_job runs once against that instance; the tests read it back from Postgres with plain SQL and
through the instance API, re-materialize only `rendered_clips` with the documented CLI command, and run the queued
run coordinator's daemon once to check the GPU and per-workspace limits of the yaml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from dagster import AssetKey, DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

from clipped.layout import SourceRef
from clipped.run_tags import GPU_TAG, TRIGGER_TAG, WORKSPACE_TAG
from clipped.types import ClipSettings
from clipped_app.pipeline import register_source, run_clip_job
from definitions import build_definitions
from tests.conftest import copy_sample
from tests.support.postgres import PostgresDatabase, PostgresServer
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres_instance")]

ROOT = Path(__file__).resolve().parent.parent.parent
INSTANCE_YAML = ROOT / "deploy" / "dagster.yaml"
ASSETS = {"source_video", "transcript", "scenes", "audio_features", "candidates", "faces", "rendered_clips"}
ASSETS |= {"moment_index", "source_summary"}  # in clip_job too (understand group)
COMPUTE_LOG_PREFIX = "dagster/compute-logs"


def instance_env(database: PostgresDatabase, *, s3_endpoint: str, bucket: str) -> dict[str, str]:
    """The variables deploy/dagster.yaml reads, pointed at the test database and the moto bucket."""
    return {
        "DAGSTER_PG_HOST": database.server.host,
        "DAGSTER_PG_PORT": str(database.server.port),
        "DAGSTER_PG_USER": str(database.dagster_config["username"]),
        "DAGSTER_PG_PASSWORD": str(database.dagster_config["password"]),
        "DAGSTER_PG_DB": database.name,
        "DAGSTER_COMPUTE_LOG_BUCKET": bucket,
        # boto3 reads the endpoint itself, as it would for MinIO or R2 in production.
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
    }


def dagster_home_with(folder: Path, overrides: dict | None = None) -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml as shipped, plus ``overrides`` for test-only sections."""
    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(INSTANCE_YAML.read_text()) | (overrides or {})
    (folder / "dagster.yaml").write_text(yaml.safe_dump(config))
    return folder


def create_bucket(s3_endpoint: str) -> str:
    import boto3

    name = f"clipped-logs-{uuid.uuid4().hex[:10]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    client.create_bucket(Bucket=name)
    return name


@dataclass
class PostgresRun:
    database: PostgresDatabase
    instance: DagsterInstance
    source: SourceRef
    run_id: str
    env: dict[str, str]
    bucket: str
    s3_endpoint: str


@pytest.fixture(scope="module")
def postgres_run(
    postgres_server: PostgresServer, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresRun]:
    """One partition of clip_job (max_clips=1) on the sample, recorded in Postgres (the expensive part)."""
    work = tmp_path_factory.mktemp("pg_instance")
    media = work / "media"
    media.mkdir()
    video = copy_sample(media)
    database = postgres_server.create_database()
    bucket = create_bucket(s3_endpoint)
    env = instance_env(database, s3_endpoint=s3_endpoint, bucket=bucket) | {
        "DAGSTER_HOME": str(dagster_home_with(work / "dagster_home")),
        "CLIPPED_HOME": str(work / "home"),
        "CLIPPED_ALLOWED_ROOTS": str(media),
        "CLIPPED_PROFILE": "local",
        "CLIPPED_ASR_DEVICE": "cpu",  # a CPU run: it must not take a GPU slot in the queue
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with DagsterInstance.get() as instance:
            defs = build_definitions("local")
            source = register_source(
                defs.resources["storage"], instance, str(video), ClipSettings(max_clips=1), "local"
            )
            # Console logging on: the step logs S3 receives are these lines (empty logs are skipped by the yaml).
            result = run_clip_job(defs, instance, source, log_level="INFO", trigger="test")
            yield PostgresRun(database, instance, source, result.run_id, env, bucket, s3_endpoint)


def query(database: PostgresDatabase, sql: str, **params: object) -> list[sa.Row]:
    engine = sa.create_engine(database.url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text(sql), params))
    finally:
        engine.dispose()


def test_instance_storage_is_postgres(postgres_run: PostgresRun) -> None:
    instance = postgres_run.instance
    for storage in (instance.run_storage, instance.event_log_storage, instance.schedule_storage):
        assert type(storage).__module__.startswith("dagster_postgres"), storage
    assert type(instance.compute_log_manager).__name__ == "S3ComputeLogManager"


def test_run_and_its_tags_are_rows_in_postgres(postgres_run: PostgresRun) -> None:
    (run,) = query(
        postgres_run.database,
        "SELECT pipeline_name, status, partition FROM runs WHERE run_id = :id",
        id=postgres_run.run_id,
    )
    assert (run.pipeline_name, run.status, run.partition) == ("clip_job", "SUCCESS", postgres_run.source.partition_key)
    tags = dict(
        query(postgres_run.database, "SELECT key, value FROM run_tags WHERE run_id = :id", id=postgres_run.run_id)
    )
    assert tags[WORKSPACE_TAG] == "local"
    assert GPU_TAG not in tags
    assert tags[TRIGGER_TAG] == "test"
    assert tags["dagster/partition"] == postgres_run.source.partition_key


def test_every_asset_materialization_is_a_row_in_postgres(postgres_run: PostgresRun) -> None:
    rows = query(
        postgres_run.database,
        "SELECT asset_key, partition FROM event_logs"
        " WHERE run_id = :id AND dagster_event_type = 'ASSET_MATERIALIZATION'",
        id=postgres_run.run_id,
    )
    assert {AssetKey.from_db_string(row.asset_key).path[-1] for row in rows} == ASSETS
    assert {row.partition for row in rows} == {postgres_run.source.partition_key}
    partitions = query(
        postgres_run.database,
        "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'source_video'",
    )
    assert postgres_run.source.partition_key in {row.partition for row in partitions}


def test_instance_api_reads_the_same_run_back(postgres_run: PostgresRun) -> None:
    # A fresh instance from the same yaml: nothing comes from the first instance's memory.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in postgres_run.env.items():
            patch.setenv(name, value)
        with DagsterInstance.get() as instance:
            runs = instance.get_runs(filters=RunsFilter(tags={WORKSPACE_TAG: "local", TRIGGER_TAG: "test"}))
            assert [run.run_id for run in runs] == [postgres_run.run_id]
            assert runs[0].status == DagsterRunStatus.SUCCESS
            partition = postgres_run.source.partition_key
            for name in ASSETS:
                event = instance.get_latest_materialization_event(AssetKey(name))
                assert event is not None and event.run_id == postgres_run.run_id, name
                assert event.asset_materialization.partition == partition
            assert instance.get_materialized_partitions(AssetKey("rendered_clips")) == {partition}


def test_step_logs_are_uploaded_to_s3(postgres_run: PostgresRun) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=postgres_run.s3_endpoint, region_name=REGION)
    listed = client.list_objects_v2(Bucket=postgres_run.bucket, Prefix=COMPUTE_LOG_PREFIX)
    keys = [item["Key"] for item in listed.get("Contents", [])]
    assert any(postgres_run.run_id in key for key in keys), keys


def test_cli_rematerializes_only_rendered_clips(postgres_run: PostgresRun) -> None:
    """The single-partition re-run documented in docs/production.md, as a subprocess on the same instance."""
    command = [
        str(Path(sys.executable).parent / "dagster"),
        "asset",
        "materialize",
        "-f",
        "definitions.py",
        "--select",
        "rendered_clips",
        "--partition",
        postgres_run.source.partition_key,
    ]
    result = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **postgres_run.env}, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (run_id,) = [
        row.run_id
        for row in query(postgres_run.database, "SELECT run_id FROM runs WHERE run_id <> :id", id=postgres_run.run_id)
    ]
    materialized = query(
        postgres_run.database,
        "SELECT asset_key FROM event_logs WHERE run_id = :id AND dagster_event_type = 'ASSET_MATERIALIZATION'",
        id=run_id,
    )
    assert [AssetKey.from_db_string(row.asset_key).path[-1] for row in materialized] == ["rendered_clips"]
    # The blocking checks ran again on the new clips.
    checks = query(
        postgres_run.database,
        "SELECT count(*) AS n FROM event_logs WHERE run_id = :id AND dagster_event_type = 'ASSET_CHECK_EVALUATION'",
        id=run_id,
    )
    assert checks[0].n == 6  # resolution, duration, audio, black/frozen, burned captions, no profanity at the open


BACKFILL_MUTATION = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""


def test_cli_backfill_of_rendered_clips_targets_only_it_for_every_partition(postgres_run: PostgresRun) -> None:
    """The all-partitions backfill documented in docs/production.md: recorded in Postgres for the daemon to run."""
    other = "local.other-talk-0123456789"
    postgres_run.instance.add_dynamic_partitions("source_video", [other])
    variables = {
        "params": {
            "assetSelection": [{"path": ["rendered_clips"]}],
            "allPartitions": True,
            "tags": [{"key": GPU_TAG, "value": "true"}, {"key": TRIGGER_TAG, "value": "backfill"}],
            "title": "re-render with the new caption style",
        }
    }
    command = [str(Path(sys.executable).parent / "dagster-graphql"), "-w", "workspace.yaml"]
    command += ["-t", BACKFILL_MUTATION, "-v", json.dumps(variables)]
    result = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **postgres_run.env}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    response = json.loads(next(line for line in result.stdout.splitlines() if line.startswith('{"')))
    launched = response["data"]["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    (row,) = query(postgres_run.database, "SELECT key, status FROM bulk_actions")
    assert (row.key, row.status) == (launched["backfillId"], "REQUESTED")
    backfill = postgres_run.instance.get_backfill(launched["backfillId"])
    assert backfill.asset_selection == [AssetKey("rendered_clips")]
    target = backfill.asset_backfill_data.target_subset
    assert target.asset_keys == {AssetKey("rendered_clips")}
    assert set(target.get_partitions_subset(AssetKey("rendered_clips")).get_partition_keys()) == {
        postgres_run.source.partition_key,
        other,
    }
    assert backfill.tags[GPU_TAG] == "true"


@pytest.fixture
def queue_instance(postgres_database: PostgresDatabase, s3_endpoint: str, tmp_path: Path) -> Iterator[DagsterInstance]:
    """deploy/dagster.yaml's instance with a launcher that only records launches, so dequeuing can be counted."""
    env = instance_env(postgres_database, s3_endpoint=s3_endpoint, bucket="unused")
    launcher = {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"}
    home = dagster_home_with(tmp_path / "dagster_home", {"run_launcher": launcher})
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with DagsterInstance.from_config(str(home)) as instance:
            yield instance


def coordinator_limits() -> dict[str, int]:
    limits = yaml.safe_load(INSTANCE_YAML.read_text())["concurrency"]["runs"]["tag_concurrency_limits"]
    return {limit["key"]: limit["limit"] for limit in limits}


def test_queue_limits_load_from_the_yaml(queue_instance: DagsterInstance) -> None:
    from dagster._core.run_coordinator import QueuedRunCoordinator

    coordinator = queue_instance.run_coordinator
    assert isinstance(coordinator, QueuedRunCoordinator)
    # The queue limits live under concurrency.runs (they may not sit in run_coordinator once pools are set).
    config = queue_instance.get_concurrency_config().run_queue_config
    assert config.max_concurrent_runs == 20
    limits = {limit["key"]: limit for limit in config.tag_concurrency_limits}
    assert limits[GPU_TAG] == {"key": GPU_TAG, "value": "true", "limit": 4}
    assert limits[WORKSPACE_TAG] == {"key": WORKSPACE_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 3}
    account = "clipped/account"
    assert limits[account] == {"key": account, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}


def test_gpu_pool_limit_loads_from_the_yaml(queue_instance: DagsterInstance) -> None:
    # Pools cap GPU steps across every run, asset backfills included (their runs carry no clipped/gpu tag).
    assert queue_instance.get_concurrency_config().pool_config.default_pool_limit == 4


def test_daemon_dequeues_within_the_gpu_cap_and_fairly_across_workspaces(queue_instance: DagsterInstance) -> None:
    """A bulk upload of 6 videos in one workspace queued before 2 others: the GPU cap and fairness both hold."""
    from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.workspace.load_target import EmptyWorkspaceTarget
    from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

    gpu_cap, per_workspace = coordinator_limits()[GPU_TAG], coordinator_limits()[WORKSPACE_TAG]
    queued = [*["agency-a"] * 6, "agency-b", "agency-c", "agency-d"]
    # Queued runs name the code location they come from; the daemon only needs its name here.
    origin = RemoteJobOrigin(
        repository_origin=RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("clipped"), "__repository__"),
        job_name="clip_job",
    )
    workspace_of = {}
    for workspace in queued:
        run = DagsterRun(
            job_name="clip_job",
            run_id=str(uuid.uuid4()),
            status=DagsterRunStatus.QUEUED,
            remote_job_origin=origin,
            tags={WORKSPACE_TAG: workspace, GPU_TAG: "true", TRIGGER_TAG: "sensor"},
        )
        queue_instance.add_run(run)
        workspace_of[run.run_id] = workspace

    with (
        create_test_daemon_workspace_context(EmptyWorkspaceTarget(), queue_instance) as context,
        QueuedRunCoordinatorDaemon(interval_seconds=1) as daemon,
    ):
        list(daemon.run_iteration(context))

    launched = [workspace_of[run.run_id] for run in queue_instance.run_launcher.queue()]
    assert len(launched) == gpu_cap
    assert launched.count("agency-a") == per_workspace
    # agency-b's one video did not wait behind agency-a's bulk upload.
    assert "agency-b" in launched
    still_queued = queue_instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.QUEUED]))
    assert len(still_queued) == len(queued) - gpu_cap


def test_instance_yaml_refuses_to_load_without_its_database_settings(tmp_path: Path) -> None:
    """A missing DAGSTER_PG_* variable is a clear configuration error, never a silent fallback to SQLite."""
    home = dagster_home_with(tmp_path / "dagster_home")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
            patch.delenv(name, raising=False)
        patch.setenv("DAGSTER_COMPUTE_LOG_BUCKET", "unused")
        with pytest.raises(Exception, match="DAGSTER_PG_"):
            DagsterInstance.from_config(str(home))
