"""Launching runs: in this machine's instance (embedded) or through the Dagster webserver (GraphQL).

Two jobs are launched: clip_job for a source (a review job) and clip_version_job for one version of a clip (a
re-render). Both launchers return the run id at once, so a job or version always knows its run; status is then
read from the instance.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from dagster import DagsterInstance, DagsterRun, DagsterRunStatus

from api.services.background import BackgroundWorker
from clipped.layout import ClipVersionRef, SourceRef
from clipped.publish.records import Publication
from clipped.run_tags import TRIGGER_TAG, WORKSPACE_TAG, run_tags_for

log = logging.getLogger("clipped.api")
PARTITION_TAG = "dagster/partition"
CLIP_JOB = "clip_job"
CLIP_VERSION_JOB = "clip_version_job"
PUBLICATION_JOB = "publication_job"
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


def clip_version_run_tags(version: ClipVersionRef) -> dict[str, str]:
    """Tags of a re-render run: the workspace (queue fairness) and who asked; no GPU tag, it renders on CPU."""
    return {WORKSPACE_TAG: version.source.workspace_id, TRIGGER_TAG: "api"}


def partition_tags(version: ClipVersionRef) -> dict[str, str]:
    """The tags by which Dagster knows a run's partition of two dimensions: the key, and each dimension's key."""
    by_dimension = {f"{PARTITION_TAG}/{name}": key for name, key in version.partition_keys_by_dimension.items()}
    return {PARTITION_TAG: version.partition_key, **by_dimension}


def run_worker_command(job_name: str, partition_key: str, run_id: str) -> list[str]:
    """The child process that executes one run of the embedded launcher (api/run_worker.py)."""
    return [sys.executable, "-m", "api.run_worker", "--job", job_name, partition_key, run_id]


class RunLauncher:
    """Interface: start a clip_job run for a partition or a clip_version_job run for a version, and cancel one."""

    def launch(self, source: SourceRef) -> str:
        raise NotImplementedError

    def launch_clip_version(self, version: ClipVersionRef) -> str:
        raise NotImplementedError

    def launch_publication(self, publication: Publication) -> str:
        raise NotImplementedError

    def cancel(self, run_id: str) -> None:
        raise NotImplementedError


class EmbeddedLauncher(RunLauncher):
    """Runs one job at a time in a child process on a background thread, against the DAGSTER_HOME instance.

    A process that ends before its run reached the instance (it could not import, open the instance or write the
    run: a busy SQLite file, a crash) is started again, up to ``start_attempts`` times; after that the run is
    recorded as failed with the process's last words, so a job never waits as "queued" for a run that will not come.
    """

    def __init__(
        self,
        instance: Callable[[], DagsterInstance],
        worker: BackgroundWorker | None = None,
        *,
        command: Callable[[str, str, str], list[str]] | None = None,
        start_attempts: int = 3,
        retry_delay_s: float = 5.0,
    ):
        self._instance = instance
        self._worker = worker or BackgroundWorker("clipped-runs")
        self._command = command or run_worker_command
        self._start_attempts = start_attempts
        self._retry_delay_s = retry_delay_s
        self._lock = threading.Lock()
        self._canceled: set[str] = set()
        self._processes: dict[str, subprocess.Popen] = {}

    def launch(self, source: SourceRef) -> str:
        return self._submit(CLIP_JOB, source.partition_key)

    def launch_clip_version(self, version: ClipVersionRef) -> str:
        return self._submit(CLIP_VERSION_JOB, version.partition_key)

    def launch_publication(self, publication: Publication) -> str:
        return self._submit(PUBLICATION_JOB, publication.partition_key)

    def _submit(self, job_name: str, partition_key: str) -> str:
        run_id = str(uuid.uuid4())
        self._worker.submit(lambda: self._execute(job_name, partition_key, run_id))
        return run_id

    def _execute(self, job_name: str, partition_key: str, run_id: str) -> None:
        for attempt in range(1, self._start_attempts + 1):
            process = self._start(job_name, partition_key, run_id)
            if process is None:
                return  # canceled before it started
            _, stderr = process.communicate()
            with self._lock:
                self._processes.pop(run_id, None)
            run = self._instance().get_run_by_id(run_id)
            if run is not None or run_id in self._canceled:
                break
            last_words = (stderr or "").strip()[-2000:]
            log.warning(
                "run %s: its process exited with %s before the run started (attempt %d of %d): %s",
                run_id, process.returncode, attempt, self._start_attempts, last_words,
            )  # fmt: skip
            if attempt == self._start_attempts:
                self._record_never_started(job_name, partition_key, run_id, process.returncode, last_words)
                return
            time.sleep(self._retry_delay_s * attempt)
        if run is not None and run.status not in FINISHED:
            # The process ended without finishing the run (killed, crashed): say so in the instance.
            if run_id in self._canceled:
                self._instance().report_run_canceled(run, message="canceled from the review API")
            else:
                self._instance().report_run_failed(run, message=f"run process exited with {process.returncode}")
        if process.returncode not in (0, 1) and run_id not in self._canceled:
            log.error("run %s process exited with %s: %s", run_id, process.returncode, (stderr or "")[-2000:])

    def _start(self, job_name: str, partition_key: str, run_id: str) -> subprocess.Popen | None:
        with self._lock:
            if run_id in self._canceled:
                return None
            env = dict(os.environ)
            project = str(Path(__file__).resolve().parents[2])
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [project, env.get("PYTHONPATH")]))
            process = subprocess.Popen(
                self._command(job_name, partition_key, run_id),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # its own process group, so cancel also ends ffmpeg children
            )
            self._processes[run_id] = process
            return process

    def _record_never_started(
        self, job_name: str, partition_key: str, run_id: str, returncode: int, last_words: str
    ) -> None:
        """A failed run under ``run_id`` saying why, so the job reads as failed (and can be retried)."""
        instance = self._instance()
        run = instance.add_run(
            DagsterRun(
                job_name=job_name,
                run_id=run_id,
                status=DagsterRunStatus.NOT_STARTED,
                tags={PARTITION_TAG: partition_key, TRIGGER_TAG: "api"},
            )
        )
        reason = last_words.splitlines()[-1] if last_words else "no output"
        instance.report_run_failed(
            run,
            message=f"the run process exited with {returncode} before starting the run, "
            f"{self._start_attempts} times: {reason}",
        )

    def cancel(self, run_id: str) -> None:
        with self._lock:
            self._canceled.add(run_id)
            process = self._processes.get(run_id)
        if process is not None:
            # SIGKILL, not SIGTERM: Dagster turns SIGTERM into a step failure and a FAILURE run, and a canceled
            # run must read as canceled; the launcher thread then records the cancellation in the instance.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def wait_idle(self, timeout: float | None = None) -> bool:
        return self._worker.wait_idle(timeout)


class GraphQLLauncher(RunLauncher):
    """Submits through the webserver so the run queue (and the K8sRunLauncher in production) takes the run."""

    def __init__(self, url: str, location_name: str | None = None, client_factory=None, *, uses_gpu: bool = False):
        """``uses_gpu``: whether clip_job runs will hold a GPU (``clip_job_uses_gpu``), for their run tag."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.hostname = parts.hostname or "127.0.0.1"
        self.port = parts.port
        self.use_https = parts.scheme == "https"
        self.path_prefix = parts.path.rstrip("/")
        self.location_name = location_name
        self._client_factory = client_factory
        self.uses_gpu = uses_gpu

    def client(self):
        if self._client_factory is not None:
            return self._client_factory()
        from dagster_graphql import DagsterGraphQLClient

        return DagsterGraphQLClient(
            self.hostname, port_number=self.port, use_https=self.use_https, path_prefix=self.path_prefix, timeout=30
        )

    def submission(self, source: SourceRef) -> dict[str, object]:
        """The arguments of submit_job_execution for ``source`` (the partition goes in as a tag)."""
        return {
            "job_name": CLIP_JOB,
            "repository_location_name": self.location_name,
            "tags": {
                **run_tags_for(source, trigger="api", uses_gpu=self.uses_gpu),
                PARTITION_TAG: source.partition_key,
            },
        }

    def version_submission(self, version: ClipVersionRef) -> dict[str, object]:
        """The arguments of submit_job_execution for a re-render of ``version`` (its partition as tags)."""
        return {
            "job_name": CLIP_VERSION_JOB,
            "repository_location_name": self.location_name,
            "tags": {**clip_version_run_tags(version), **partition_tags(version)},
        }

    def launch(self, source: SourceRef) -> str:
        return self.client().submit_job_execution(**self.submission(source))

    def launch_clip_version(self, version: ClipVersionRef) -> str:
        return self.client().submit_job_execution(**self.version_submission(version))

    def publication_submission(self, publication: Publication) -> dict[str, object]:
        """The arguments of submit_job_execution for one attempt at ``publication`` (its partition as tags)."""
        by_dimension = {f"{PARTITION_TAG}/{name}": key for name, key in publication.partition_keys_by_dimension.items()}
        return {
            "job_name": PUBLICATION_JOB,
            "repository_location_name": self.location_name,
            "tags": {**publication.run_tags("api"), PARTITION_TAG: publication.partition_key, **by_dimension},
        }

    def launch_publication(self, publication: Publication) -> str:
        return self.client().submit_job_execution(**self.publication_submission(publication))

    def cancel(self, run_id: str) -> None:
        self.client().terminate_run(run_id)
