"""`due_publications_sensor`: publications whose time has come become `publication_job` runs.

One run per due time (the run key carries it), tagged with the account so the run queue keeps one
upload per account at a time (deploy/dagster.yaml); our own schedule, not Dagster's retries, decides when to retry.
"""

from datetime import UTC, datetime

from dagster import (
    DefaultSensorStatus,
    MultiPartitionKey,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from clipped.publish.records import Publication
from clipped_assets.publish import publication_keys
from clipped_resources.publisher import PublisherResource

MAX_RUNS_PER_TICK = 20


def publication_run_request(publication: Publication, trigger: str) -> RunRequest:
    """The run that makes one attempt at ``publication``."""
    return RunRequest(
        # A new key for every new due time, and for each abandoned attempt (its lease ran out) at the same time.
        run_key=f"{publication.id}@{publication.due_at.isoformat()}"
        + (f"~{publication.lease_until.isoformat()}" if publication.lease_until else ""),
        partition_key=MultiPartitionKey(publication.partition_keys_by_dimension),
        tags=publication.run_tags(trigger),
    )


@sensor(
    job_name="publication_job",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Scheduled posts that are due (and retries whose wait is over) become publication_job runs.",
)
def due_publications_sensor(context: SensorEvaluationContext, publisher: PublisherResource) -> SensorResult:
    due = publisher.store().due_publications(datetime.now(UTC), limit=MAX_RUNS_PER_TICK)
    if not due:
        return SensorResult(skip_reason=SkipReason("no publication is due"))
    return SensorResult(
        run_requests=[publication_run_request(publication, trigger="schedule") for publication in due],
        dynamic_partitions_requests=[publication_keys.build_add_request([publication.id for publication in due])],
    )
