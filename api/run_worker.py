"""`python -m api.run_worker [--job JOB] PARTITION RUN_ID`: execute one run in this process.

JOB is clip_job (the default: PARTITION is a source), clip_version_job (PARTITION is a clip version's key) or
publication_job (PARTITION is a publication's two-dimensional key).
The embedded launcher runs each job in its own process so a run can be cancelled by ending that process, and
models and ffmpeg memory never live in the API server.
"""

from __future__ import annotations

import argparse
import sys

from dagster import DagsterInstance, Definitions, MultiPartitionKey

from api.services.launcher import CLIP_JOB, CLIP_VERSION_JOB, PUBLICATION_JOB, clip_version_run_tags
from clipped.layout import ClipVersionRef, SourceRef
from clipped_app.instance import local_instance
from clipped_app.pipeline import PipelineFailedError, run_clip_job
from definitions import build_definitions

LOG_LEVEL = "WARNING"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.run_worker")
    parser.add_argument("--job", choices=(CLIP_JOB, CLIP_VERSION_JOB, PUBLICATION_JOB), default=CLIP_JOB)
    parser.add_argument("partition_key")
    parser.add_argument("run_id")
    args = parser.parse_args(argv)
    defs, instance = build_definitions(), local_instance()
    if args.job == PUBLICATION_JOB:
        return 0 if run_publication_job(defs, instance, args.partition_key, args.run_id) else 1
    if args.job == CLIP_VERSION_JOB:
        version = ClipVersionRef.from_partition_key(args.partition_key)
        return 0 if run_clip_version_job(defs, instance, version, args.run_id) else 1
    source = SourceRef.from_partition_key(args.partition_key)
    try:
        run_clip_job(defs, instance, source, log_level=LOG_LEVEL, trigger="api", run_id=args.run_id)
    except PipelineFailedError:
        return 1  # the failure and its reason are in the run's events, where the API reads them
    return 0


def run_clip_version_job(defs: Definitions, instance: DagsterInstance, version: ClipVersionRef, run_id: str) -> bool:
    """Materialize ``version`` as run ``run_id``; whether it succeeded (a failure's reason is in the run's events,
    where the API reads it)."""
    result = defs.resolve_job_def(CLIP_VERSION_JOB).execute_in_process(
        instance=instance,
        partition_key=version.partition_key,
        run_id=run_id,
        tags=clip_version_run_tags(version),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": LOG_LEVEL}}}},
    )
    return result.success


def run_publication_job(defs: Definitions, instance: DagsterInstance, partition_key: str, run_id: str) -> bool:
    """One attempt at a publication as run ``run_id`` (``partition_key``: its two-dimensional key)."""
    publication_id = partition_key.partition("|")[0]
    publication = defs.resources["publisher"].store().get_publication(publication_id)
    if publication is None:
        return False
    result = defs.resolve_job_def(PUBLICATION_JOB).execute_in_process(
        instance=instance,
        partition_key=MultiPartitionKey(publication.partition_keys_by_dimension),
        run_id=run_id,
        tags=publication.run_tags("api"),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": LOG_LEVEL}}}},
    )
    return result.success


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
