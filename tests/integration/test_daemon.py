"""Hands-off processing with the real `dagster-daemon`: nobody clicks, nothing is called in-process.

One scenario on deploy/dagster.yaml over a fresh PostgreSQL (default run launcher: runs are subprocesses of the
code server the daemon starts; the QueuedRunCoordinator as shipped): the upload sensor is started with the public
CLI, a video dropped in the local inbox becomes a partition and a queued clip_job run that succeeds, a later tick
clears the inbox, then the README's all-partitions GraphQL backfill of `rendered_clips` is run by the daemon.

The daemon's loops cannot be made faster from outside: the sensor ticks at most every 30 s (its
``minimum_interval_seconds``), the backfill daemon iterates every 30 s (a constant in dagster._daemon), and the queue
dequeues every 5 s (``dequeue_interval_seconds`` in the yaml).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.scheduler.instigation import InstigatorStatus, TickStatus

from clipped.layout import RENDERED_CLIPS_FILE
from clipped.render_manifest import RenderedClipsManifest
from clipped.run_tags import TRIGGER_TAG, WORKSPACE_TAG
from clipped_assets.partitions import source_video_partitions
from clipped_resources.storage import LocalStorage
from tests.conftest import SAMPLE
from tests.integration.test_postgres_instance import (
    BACKFILL_MUTATION,
    create_bucket,
    dagster_home_with,
    instance_env,
)
from tests.support.postgres import PostgresServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("full_pipeline")]

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
SENSOR = "source_video_upload_sensor"
UPLOAD = "keynote.mp4"
# Generous: daemon start-up, a 30 s sensor interval, one clip_job run on 2 shared cores.
SENSOR_RUN_TIMEOUT_S = 360
BACKFILL_TIMEOUT_S = 300

T = TypeVar("T")


@dataclass
class DaemonScenario:
    instance: DagsterInstance
    storage: LocalStorage
    inbox: Path
    daemon_log: Path
    sensor_run: DagsterRun
    backfill_id: str
    backfill_status: BulkActionStatus
    backfill_runs: list[DagsterRun]
    timings: dict[str, float]


def log_tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float, daemon_log: Path, interval_s: float = 2) -> T:
    """Poll ``probe`` until it returns something; on timeout fail with the daemon's log tail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(interval_s)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}; daemon log tail:\n{log_tail(daemon_log)}")


def dagster_cli(args: list[str], env: dict[str, str], timeout_s: int = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s)
    assert result.returncode == 0, f"{args[:3]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def stop_process_group(process: subprocess.Popen) -> None:
    """The daemon, its code server and any run worker share the daemon's session: end them all."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers of the group, if any outlived the daemon
    process.wait(timeout=10)


def finished_sensor_run(instance: DagsterInstance) -> DagsterRun | None:
    runs = instance.get_runs(filters=RunsFilter(job_name="clip_job", tags={TRIGGER_TAG: "sensor"}))
    for run in runs:
        if run.status == DagsterRunStatus.SUCCESS:
            return run
        if run.is_finished:
            pytest.fail(f"sensor run {run.run_id} ended {run.status}")
    return None


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


@pytest.fixture(scope="module")
def scenario(
    postgres_server: PostgresServer, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DaemonScenario]:
    work = tmp_path_factory.mktemp("daemon")
    database = postgres_server.create_database()
    env = instance_env(database, s3_endpoint=s3_endpoint, bucket=create_bucket(s3_endpoint)) | {
        "DAGSTER_HOME": str(dagster_home_with(work / "dagster_home")),
        "CLIPPED_HOME": str(work / "home"),
        "CLIPPED_ALLOWED_ROOTS": str(work / "media"),
        "CLIPPED_INBOX_WORKSPACES": "local",
        "CLIPPED_INBOX_MAX_CLIPS": "1",  # one clip keeps the run and the backfill's re-render short
        "CLIPPED_PROFILE": "local",
    }
    child_env = {**os.environ, **env}
    daemon_log = work / "daemon.log"
    timings: dict[str, float] = {}
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with DagsterInstance.get() as instance, daemon_log.open("w") as log:
            daemon = subprocess.Popen(
                [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                cwd=ROOT,
                env=child_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                dagster_cli([str(BIN / "dagster"), "sensor", "start", "-w", "workspace.yaml", SENSOR], child_env)
                storage = LocalStorage(root=str(work / "home" / "storage"))
                inbox = work / "home" / "storage" / "local" / "inbox"
                inbox.mkdir(parents=True)
                shutil.copyfile(SAMPLE, inbox / UPLOAD)
                (inbox / f"{UPLOAD}.done").write_bytes(b"")  # complete now: no waiting for a stable size

                sensor_run = wait_for(
                    "a successful clip_job run from the sensor",
                    lambda: finished_sensor_run(instance),
                    SENSOR_RUN_TIMEOUT_S,
                    daemon_log,
                )
                timings["sensor_run_s"] = time.monotonic() - started
                # A later tick (every 30 s) clears claimed files once their partition is committed.
                wait_for("the inbox to be cleared", lambda: [] if not files_in(inbox) else None, 90, daemon_log)

                backfill_started = time.monotonic()
                variables = {
                    "params": {
                        "assetSelection": [{"path": ["rendered_clips"]}],
                        "allPartitions": True,
                        "tags": [{"key": TRIGGER_TAG, "value": "backfill"}],
                        "title": "new caption style",
                    }
                }
                graphql = [str(BIN / "dagster-graphql"), "-w", "workspace.yaml", "-t", BACKFILL_MUTATION]
                result = dagster_cli([*graphql, "-v", json.dumps(variables)], child_env)
                response = json.loads(next(line for line in result.stdout.splitlines() if line.startswith('{"')))
                launched = response["data"]["launchPartitionBackfill"]
                assert launched["__typename"] == "LaunchBackfillSuccess", launched
                backfill_id = launched["backfillId"]

                def backfill_done() -> BulkActionStatus | None:
                    backfill = instance.get_backfill(backfill_id)
                    done = backfill is not None and backfill.status != BulkActionStatus.REQUESTED
                    return backfill.status if done else None

                status = wait_for("the daemon to complete the backfill", backfill_done, BACKFILL_TIMEOUT_S, daemon_log)
                timings["backfill_s"] = time.monotonic() - backfill_started
                backfill_runs = list(instance.get_runs(filters=RunsFilter.for_backfill(backfill_id)))
                timings["total_s"] = time.monotonic() - started
                print(f"daemon scenario timings: {timings}")
                yield DaemonScenario(
                    instance, storage, inbox, daemon_log, sensor_run, backfill_id, status, backfill_runs, timings
                )
            finally:
                stop_process_group(daemon)


def test_sensor_run_is_queued_then_succeeds_with_its_partition_and_clips(scenario: DaemonScenario) -> None:
    run = scenario.sensor_run
    partition = run.tags["dagster/partition"]
    assert scenario.instance.has_dynamic_partition(source_video_partitions.name, partition)
    assert run.tags[WORKSPACE_TAG] == "local" and run.tags["dagster/sensor_name"] == "source_video_upload_sensor"
    assert partition.startswith("local.keynote-")
    # Through the QueuedRunCoordinator: enqueued, then launched by the daemon's dequeue pass (STARTING), then run.
    events = [
        record.event_log_entry.dagster_event_type
        for record in scenario.instance.get_records_for_run(run.run_id).records
        if record.event_log_entry.is_dagster_event
    ]
    lifecycle = [DagsterEventType.RUN_ENQUEUED, DagsterEventType.RUN_STARTING, DagsterEventType.RUN_START]
    assert [event for event in events if event in lifecycle] == lifecycle
    assert DagsterEventType.RUN_SUCCESS in events

    video_id = partition.split(".", 1)[1]
    manifest = scenario.storage.read_model(f"local/sources/{video_id}/{RENDERED_CLIPS_FILE}", RenderedClipsManifest)
    assert manifest.partition == partition and manifest.clips
    for clip in manifest.clips:
        assert scenario.storage.size(clip.video_key) > 10_000 and scenario.storage.exists(clip.thumbnail_key)
    assert scenario.storage.read_bytes(f"local/sources/{video_id}/upload.mp4") == SAMPLE.read_bytes()


def test_a_later_tick_cleared_the_inbox(scenario: DaemonScenario) -> None:
    assert files_in(scenario.inbox) == []
    [state] = [state for state in scenario.instance.all_instigator_state() if state.name == SENSOR]
    assert state.status == InstigatorStatus.RUNNING, "started with `dagster sensor start`"
    ticks = scenario.instance.get_ticks(state.instigator_origin_id, state.selector_id)
    assert len(ticks) >= 2, "the run was requested by one tick and the inbox cleared by a later one"
    requested = [tick for tick in ticks if scenario.sensor_run.run_id in tick.run_ids]
    assert len(requested) == 1 and requested[0].status == TickStatus.SUCCESS
    assert any(tick.timestamp > requested[0].timestamp for tick in ticks)


def test_daemon_backfill_rematerializes_only_rendered_clips(scenario: DaemonScenario) -> None:
    assert scenario.backfill_status == BulkActionStatus.COMPLETED_SUCCESS, log_tail(scenario.daemon_log)
    partition = scenario.sensor_run.tags["dagster/partition"]
    [run] = scenario.backfill_runs
    assert run.run_id != scenario.sensor_run.run_id and run.status == DagsterRunStatus.SUCCESS
    assert run.tags["dagster/partition"] == partition and run.tags[TRIGGER_TAG] == "backfill"
    materialized = [
        (record.event_log_entry.asset_materialization.asset_key, record.event_log_entry.asset_materialization.partition)
        for record in scenario.instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
        ).records
    ]
    assert materialized == [(AssetKey("rendered_clips"), partition)]
    assert scenario.instance.get_latest_materialization_event(AssetKey("transcript")).run_id == (
        scenario.sensor_run.run_id
    ), "upstream stages were not re-run"
