"""The embedded launcher never leaves a job waiting for a run its process failed to start.

Found by bench/load_batch.py: with the daemon's runs starting at the same moment, an API run process exited before
its run reached the instance, silently (its exit status 1 was not logged), and the job read "queued" for ever.
The child processes here are tiny Python commands standing in for api.run_worker.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

from api.services.launcher import EmbeddedLauncher
from clipped.layout import SourceRef

SOURCE = SourceRef.from_partition_key("local.talk-0123456789")


def worker(script: str, attempts_file: Path):
    """A command that appends a line to ``attempts_file``, then runs ``script`` (given ``run_id``)."""

    def command(job_name: str, partition_key: str, run_id: str) -> list[str]:
        prelude = f"open({str(attempts_file)!r}, 'a').write('x\\n'); run_id = {run_id!r}\n"
        return [sys.executable, "-c", prelude + script]

    return command


def test_a_process_that_never_starts_its_run_is_retried_then_recorded_failed(tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    script = "import sys; sys.stderr.write('sqlite3.OperationalError: database is locked\\n'); sys.exit(1)"
    with dg.instance_for_test() as instance:
        launcher = EmbeddedLauncher(lambda: instance, command=worker(script, attempts), retry_delay_s=0.01)
        run_id = launcher.launch(SOURCE)
        assert launcher.wait_idle(60)

        assert attempts.read_text().count("x") == 3
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
        assert run.tags["dagster/partition"] == SOURCE.partition_key
        [failure] = [
            entry.dagster_event.message
            for entry in instance.all_logs(run_id)
            if entry.dagster_event and entry.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
        ]
        assert "3 times" in failure and "database is locked" in failure


def test_a_second_start_that_reaches_the_instance_is_the_run(tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        # The first attempt fails before its run exists; the second writes the run, as run_worker would.
        script = (
            "import sys\n"
            "if open(attempts_path).read().count('x') == 1: sys.exit(1)\n"
            "import dagster as dg\n"
            f"home = {str(tmp_path / 'home')!r}\n"
            "dg.DagsterInstance.from_config(home).add_run(\n"
            "    dg.DagsterRun(job_name='clip_job', run_id=run_id, status=dg.DagsterRunStatus.SUCCESS))\n"
        ).replace("attempts_path", repr(str(attempts)))
        launcher = EmbeddedLauncher(lambda: instance, command=worker(script, attempts), retry_delay_s=0.01)
        run_id = launcher.launch(SOURCE)
        assert launcher.wait_idle(120)

        assert attempts.read_text().count("x") == 2
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
