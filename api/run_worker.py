"""`python -m api.run_worker PARTITION RUN_ID`: execute clip_job for one partition in this process.

The embedded launcher runs each job in its own process so a run can be cancelled by ending that process, and
models and ffmpeg memory never live in the API server.
"""

from __future__ import annotations

import sys

from clipped_app.instance import local_instance
from clipped.layout import SourceRef
from clipped_app.pipeline import PipelineFailedError, run_clip_job


def main(argv: list[str]) -> int:
    partition_key, run_id = argv
    from definitions import build_definitions

    source = SourceRef.from_partition_key(partition_key)
    try:
        run_clip_job(build_definitions(), local_instance(), source, log_level="WARNING", trigger="api", run_id=run_id)
    except PipelineFailedError:
        return 1  # the failure and its reason are in the run's events, where the API reads them
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
