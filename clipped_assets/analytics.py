"""`engagement_metrics`: each day's snapshot of what the platforms report about every published post.

Partitioned by day so the history lines up with the dbt models built on it. The platforms only ever report today's
lifetime counts, so a day is measured on that day or the next (the 02:30 UTC schedule measures the day that just
ended); a later backfill of an old day fails the freshness expectation instead of passing today's counts off as
that day's. The Great Expectations suite is a blocking check: nothing downstream in the run builds on a bad day.
"""

from datetime import UTC, date, datetime

from dagster import (
    AllPartitionMapping,
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetDep,
    AssetExecutionContext,
    AssetSelection,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    define_asset_job,
)

from clipped.analytics.engagement import (
    collect_engagement,
    engagement_workspaces,
    summarize,
    write_engagement_day,
)
from clipped.analytics.expectations import validate_engagement_day
from clipped_assets.publish import publications
from clipped_assets.step_context import bad_input_policy
from clipped_resources.publisher import PublisherResource
from clipped_resources.storage import StorageResource

engagement_days = DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC", end_offset=1)


@asset(
    partitions_def=engagement_days,
    # Every publication feeds every day's snapshot (the posts are read from the publishing store).
    deps=[AssetDep(publications, partition_mapping=AllPartitionMapping())],
    group_name="analytics",
    code_version="1",
    kinds={"api", "parquet"},
    description="Per-post engagement (views, likes, comments, shares, saves, watch time) from each platform's "
    "insights API, with the published clips' features; one Parquet pair per workspace and day.",
)
@bad_input_policy
def engagement_metrics(
    context: AssetExecutionContext, storage: StorageResource, publisher: PublisherResource
) -> MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    snapshot = collect_engagement(
        publisher.store(), publisher.vault(), publisher.adapters(), storage, day, datetime.now(UTC)
    )
    keys = write_engagement_day(storage, snapshot)
    for post in snapshot.unmeasured:
        context.log.warning(f"{post.platform} {post.publication_id} not measured: {post.reason}")
    summary = summarize(snapshot)
    return MaterializeResult(
        metadata={
            "workspaces": len(snapshot.workspaces),
            "posts_measured": summary.posts_measured,
            "posts_missing_data": MetadataValue.json(summary.posts_missing_data),
            "posts_not_measured": MetadataValue.json(summary.skipped),
            "total_views": summary.total_views,
            "top_posts": MetadataValue.md(summary.top_posts_markdown),
            "files": MetadataValue.json(keys),
        }
    )


@asset_check(
    asset=engagement_metrics,
    blocking=True,
    description="The day's snapshot meets the Great Expectations suite: contract schema, non-negative counts (NULL "
    "allowed), one row per post and day, known publications, cumulative counts never going down, captured in time.",
)
def engagement_metrics_pass_expectations(
    context: AssetCheckExecutionContext, storage: StorageResource, publisher: PublisherResource
) -> AssetCheckResult:
    day = date.fromisoformat(context.partition_key)
    validations = [
        validate_engagement_day(storage.for_workspace(workspace_id), workspace_id, day)
        for workspace_id in engagement_workspaces(publisher.store())
    ]
    failures = [(validation.workspace_id, outcome) for validation in validations for outcome in validation.failures]
    table = ["| workspace | expectation | seen |", "|---|---|---|"]
    table += [
        f"| {workspace} | {outcome.expectation} | {outcome.detail.replace('|', '/')} |"
        for workspace, outcome in failures
    ]
    return AssetCheckResult(
        passed=not failures,
        metadata={
            "workspaces": len(validations),
            "rows": sum(validation.rows for validation in validations),
            "expectations_evaluated": sum(len(validation.outcomes) for validation in validations),
            "expectations_failed": len(failures),
            "failures": MetadataValue.md("\n".join(table) if failures else "Every expectation holds."),
        },
    )


engagement_job = define_asset_job(
    name="engagement_job",
    selection=AssetSelection.assets(engagement_metrics),
    description="Pull one day's engagement snapshot from the platforms and validate it (on demand; the nightly run is "
    "analytics_job, which also builds the marts).",
)
