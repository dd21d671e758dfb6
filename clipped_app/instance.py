"""The project's persistent local Dagster instance (SQLite under ``$CLIPPED_HOME/dagster_home``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

from clipped_resources.profiles import clipped_home
from clipped_resources.storage import WriterProcess, this_host

_WRITTEN_BY_CLIPPED = "# Written by clipped"
# Runs of `clipped run` and of the review API execute in their own processes; the daemon's (sensors, schedules,
# `clipped ui`) queue here. Each run already keeps every core busy, so a batch dropped into the inbox runs a few at
# a time (Dagster's default, 10 at once, made 10 code loads race on 2 cores: starts timed out and runs were dropped
# from the queue as failed); a start that times out on a busy machine goes back to the queue instead.
_INSTANCE_YAML = """\
# Written by clipped (delete this line to keep your own edits): SQLite storage under this folder.
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: {max_concurrent_runs}
    max_user_code_failure_retries: 5
    user_code_failure_retry_delay: 30
"""
# The process that executes a run in process (`clipped run`, the review API's run worker), as run tags: a later
# start can tell a run whose process was killed from one still going. The pid's start time tells a reused pid apart.
HOST_TAG = "clipped/host"
PID_TAG = "clipped/pid"
PID_STARTED_TAG = "clipped/pid_started"
_UNFINISHED = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
_log = logging.getLogger(__name__)


def dagster_home() -> Path:
    """``$DAGSTER_HOME`` if set, else ``$CLIPPED_HOME/dagster_home`` (created with a dagster.yaml)."""
    configured = os.environ.get("DAGSTER_HOME")
    home = Path(configured).resolve() if configured else clipped_home() / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    wanted = instance_yaml()
    # An earlier version's file is brought up to date; one whose first line was removed is the user's own.
    if not config.exists() or (config.read_text().startswith(_WRITTEN_BY_CLIPPED) and config.read_text() != wanted):
        staged = config.with_name(f".dagster.yaml.{os.getpid()}")  # another process may be reading it
        staged.write_text(wanted)
        os.replace(staged, config)
    return home


def instance_yaml(cpu_count: int | None = None) -> str:
    """The local instance's dagster.yaml: half the cores' worth of queued runs at once, at least 2."""
    cores = cpu_count or os.cpu_count() or 2
    return _INSTANCE_YAML.format(max_concurrent_runs=max(2, cores // 2))


def local_instance() -> DagsterInstance:
    """The persistent instance that `clipped run` writes to and `clipped ui` shows; runs a killed process of this
    machine left unfinished are marked as such first (:func:`fail_orphaned_runs`)."""
    instance = DagsterInstance.from_config(str(dagster_home()))
    try:
        fail_orphaned_runs(instance)
    except Exception:  # a cleanup: never the reason the instance cannot be opened
        _log.warning("could not check for runs left unfinished by killed processes", exc_info=True)
    return instance


def process_tags() -> dict[str, str]:
    """Run tags naming this process, for a run it executes in process."""
    process = WriterProcess.current()
    return {HOST_TAG: process.host, PID_TAG: str(process.pid), PID_STARTED_TAG: str(process.started)}


def fail_orphaned_runs(instance: DagsterInstance) -> list[str]:
    """Report failed (or canceled, if it was being canceled) each run that a process of this machine executed in
    process and left starting or started because it was killed; returns their ids.

    Only runs with :func:`process_tags` from this host are judged; the daemon's runs and other machines' are
    left to run monitoring (production: ``run_monitoring`` in deploy/dagster.yaml and the Helm values).
    """
    runs = instance.get_runs(filters=RunsFilter(statuses=_UNFINISHED, tags={HOST_TAG: this_host()}))
    ended = []
    for run in runs:
        process = _process_of(run)
        if process is None or not process.is_gone():
            continue
        current = instance.get_run_by_id(run.run_id)  # another process may have just done the same
        if current is None or current.status not in _UNFINISHED:
            continue
        message = f"the process that ran it (pid {process.pid}) ended without finishing it (killed)"
        if current.status == DagsterRunStatus.CANCELING:
            instance.report_run_canceled(current, message=message)
        else:
            instance.report_run_failed(current, message=message)
        ended.append(run.run_id)
    return ended


def _process_of(run: DagsterRun) -> WriterProcess | None:
    try:
        return WriterProcess(run.tags[HOST_TAG], int(run.tags[PID_TAG]), int(run.tags.get(PID_STARTED_TAG, "0")))
    except (KeyError, ValueError):
        return None
