"""`source_video_upload_sensor`: a complete new video in a workspace inbox becomes a partition and a clip_job run.

The sensor is thin: clipped/inbox/ does the scanning, settling, validation, dedupe and quarantine.
"""

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from clipped.inbox.intake import run_inbox_pass
from clipped.inbox.readiness import InboxCursor
from clipped.run_tags import run_tags_for
from clipped_assets.partitions import source_video_partitions
from clipped_resources.asr import AsrResource
from clipped_resources.gpu_runs import clip_job_uses_gpu
from clipped_resources.inbox import UploadInbox
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.profiles import active_profile
from clipped_resources.storage import StorageResource


@sensor(
    job_name="clip_job",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.STOPPED,
    description="Videos dropped under {workspace}/inbox/ become source_video partitions and clip_job runs.",
)
def source_video_upload_sensor(
    context: SensorEvaluationContext,
    storage: StorageResource,
    inbox: UploadInbox,
    ingest: IngestPolicy,
    asr: AsrResource,
) -> SensorResult:
    def is_registered(partition_key: str) -> bool:
        return context.instance.has_dynamic_partition(source_video_partitions.name, partition_key)

    scan = run_inbox_pass(
        storage, inbox.settings(ingest.media_limits()), InboxCursor.parse(context.cursor), is_registered
    )
    for item in scan.quarantined:
        context.log.warning(f"quarantined {item.inbox_key} -> {item.quarantine_key}: {item.rejection.reason}")
    for original, safe in scan.renamed:
        context.log.info(f"renamed {original!r} in the inbox to {safe} (names are letters, digits, '.', '_', '-')")
    for key in scan.unusable_keys:
        context.log.warning(f"left {key} in the inbox: rename it to letters, digits, '.', '_' or '-' only")
    keys = [item.source.partition_key for item in scan.accepted]
    # The run goes through the instance's launcher, so the profile's executor runs its steps.
    uses_gpu = clip_job_uses_gpu(asr, profile=active_profile()) if scan.accepted else False
    run_requests = [
        RunRequest(
            run_key=item.source.partition_key,
            partition_key=item.source.partition_key,
            tags=run_tags_for(item.source, trigger="sensor", uses_gpu=uses_gpu),
        )
        for item in scan.accepted
    ]
    skip = None
    if not run_requests:
        skip = SkipReason(
            f"no new complete video ({len(scan.waiting)} settling, {len(scan.quarantined)} quarantined, "
            f"{len(scan.removed)} accepted files cleared from the inbox)"
        )
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[source_video_partitions.build_add_request(keys)] if keys else [],
        cursor=scan.cursor.dump(),
        skip_reason=skip,
    )
