"""The local instance's dagster.yaml: queued runs a few at a time, failed starts back to the queue.

bench/load_batch.py found that Dagster's default (10 runs at once) on 2 cores made run starts time out in the
code server and the queue dropped those runs as failed, so inbox sources were never processed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dagster import DagsterInstance

from clipped_app.instance import dagster_home, instance_yaml

EARLIER_VERSION = """\
# Written by clipped: SQLite storage under this folder, runs launched in-process by `clipped run`.
telemetry:
  enabled: false
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return tmp_path / "dagster_home"


def test_queued_runs_are_limited_and_failed_starts_are_retried(home: Path) -> None:
    instance = DagsterInstance.from_config(str(dagster_home()))
    try:
        coordinator = instance.run_coordinator
        assert type(coordinator).__name__ == "QueuedRunCoordinator"
        settings = coordinator.get_run_queue_config()
        assert settings.max_concurrent_runs == max(2, (os.cpu_count() or 2) // 2)
        assert settings.max_user_code_failure_retries == 5 and settings.user_code_failure_retry_delay == 30
    finally:
        instance.dispose()
    assert "max_concurrent_runs: 2" in instance_yaml(cpu_count=2)
    assert "max_concurrent_runs: 8" in instance_yaml(cpu_count=16)


def test_an_earlier_clipped_file_is_updated_and_a_users_own_is_kept(home: Path) -> None:
    home.mkdir()
    config = home / "dagster.yaml"
    config.write_text(EARLIER_VERSION)
    dagster_home()
    assert config.read_text() == instance_yaml()

    own = "# my instance\ntelemetry:\n  enabled: false\n"  # the marker line removed: the user's file
    config.write_text(own)
    dagster_home()
    assert config.read_text() == own
    assert [path.name for path in home.iterdir()] == ["dagster.yaml"]  # no staged copy left behind
