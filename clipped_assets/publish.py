"""`publications`: an approved clip posted to one connected account, one partition per publication.

Partitioned by (source video × publication) so each post is its own materialization, retried and inspected alone,
with lineage to the ``rendered_clips`` partition it came from; the publication's own id (not an account-day) keys
it because a post is the unit people schedule, cancel and look up.
"""

from datetime import UTC, datetime

from dagster import (
    AssetExecutionContext,
    DefaultScheduleStatus,
    DynamicPartitionsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    MultiPartitionsDefinition,
    OpExecutionContext,
    ScheduleDefinition,
    asset,
    job,
    op,
)

from clipped.layout import SOURCE_VIDEO_PARTITIONS
from clipped.publish.grants import refresh_expiring_grants
from clipped.publish.publishing import publish_publication
from clipped.publish.records import PUBLICATION_PARTITIONS, Publication
from clipped_assets.partitions import source_video_partitions
from clipped_assets.render import rendered_clips
from clipped_assets.step_context import bad_input_policy, progress_for
from clipped_resources.publisher import PublisherResource
from clipped_resources.storage import StorageResource

publication_keys = DynamicPartitionsDefinition(name=PUBLICATION_PARTITIONS)
publication_partitions = MultiPartitionsDefinition(
    {SOURCE_VIDEO_PARTITIONS: source_video_partitions, PUBLICATION_PARTITIONS: publication_keys}
)


@asset(
    partitions_def=publication_partitions,
    deps=[rendered_clips],
    group_name="distribute",
    code_version="1",
    kinds={"api"},
    description="A clip posted to one connected account through the platform's official API (exactly once).",
)
@bad_input_policy
def publications(
    context: AssetExecutionContext, storage: StorageResource, publisher: PublisherResource
) -> MaterializeResult:
    publication_id = context.partition_key.keys_by_dimension[PUBLICATION_PARTITIONS]
    publication = publish_publication(
        publication_id,
        store=publisher.store(),
        vault=publisher.vault(),
        adapters=publisher.adapters(),
        media=storage,
        owner=context.run_id,
        on_progress=progress_for(context, "publications"),
    )
    if publication.status != "published":
        # Our own schedule retries what can be retried (the sensor launches it again when due), so Dagster does not.
        retry_at = publication.next_attempt_at if publication.status == "scheduled" else None
        when = f"; next attempt {retry_at:%Y-%m-%d %H:%M} UTC" if retry_at else ""
        raise Failure(description=f"{publication.status}: {publication.error}{when}", allow_retries=False)
    return MaterializeResult(metadata=publication_metadata(publication))


def publication_metadata(publication: Publication) -> dict[str, object]:
    return {
        "platform": publication.platform,
        "account_id": publication.account_id,
        "post": MetadataValue.url(publication.post_url) if publication.post_url else publication.post_id,
        "post_id": publication.post_id,
        "title": publication.title or publication.caption[:100],
        "attempts": publication.attempts + 1,
        "clip": publication.clip_ref,
    }


@op(description="Refresh connected accounts' grants before they lapse; refused ones are marked for reconnection.")
def refresh_platform_grants(context: OpExecutionContext, publisher: PublisherResource) -> None:
    outcomes = refresh_expiring_grants(publisher.store(), publisher.vault(), publisher.adapters(), datetime.now(UTC))
    for account_id, outcome in outcomes.items():
        context.log.info(f"{account_id}: {outcome}")
    context.log.info(f"{len(outcomes)} grants looked at" if outcomes else "no grant is close to lapsing")


@job(description="Keeps connected accounts' platform grants alive (daily).")
def platform_grants_job() -> None:
    refresh_platform_grants()


platform_grants_schedule = ScheduleDefinition(
    name="platform_grants_schedule",
    job=platform_grants_job,
    cron_schedule="17 3 * * *",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Daily grant refresh (Instagram long-lived tokens, TikTok refresh tokens).",
)
