"""`python -m api.run_worker PARTITION RUN_ID`: execute clip_job for one partition in this process.

The embedded launcher runs each job in its own process so a run can be cancelled by ending that process, and
models and ffmpeg memory never live in the API server.
"""

from __future__ import annotations

import sys

from clipped.instance import local_instance
from clipped.layout import SourceRef
from clipped.run_tags import run_tags_for


def main(argv: list[str]) -> int:
    partition_key, run_id = argv
    source = SourceRef.from_partition_key(partition_key)
    from definitions import build_definitions

    job = build_definitions().resolve_job_def("clip_job")
    # Same call as clipped.pipeline.run_clip_job, plus the run id the API chose when it queued the job.
    result = job.execute_in_process(
        instance=local_instance(),
        partition_key=source.partition_key,
        run_id=run_id,
        tags=run_tags_for(source, trigger="api"),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
