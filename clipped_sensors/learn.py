"""`ranking_weights_sensor`: after the analytics marts are rebuilt, refit every publishing workspace's ranking weights.

Workspaces become `workspace` partitions the first time they have a connected account; each new build of
`fct_clip_performance` asks for one `learn_job` run per workspace (the run key carries the build, so a build is
learned from once).
"""

from dagster import (
    AssetKey,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from clipped_assets.learn import workspace_partitions
from clipped_resources.publisher import PublisherResource

MART = AssetKey("fct_clip_performance")


@sensor(
    job_name="learn_job",
    minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.STOPPED,
    description="A new build of fct_clip_performance refits ranking_weights for every publishing workspace.",
)
def ranking_weights_sensor(context: SensorEvaluationContext, publisher: PublisherResource) -> SensorResult:
    records = context.instance.fetch_materializations(MART, limit=1).records
    if not records or str(records[0].storage_id) == context.cursor:
        return SensorResult(skip_reason=SkipReason("no new build of fct_clip_performance"))
    build = records[0].storage_id
    workspaces = sorted({account.workspace_id for account in publisher.store().all_accounts()})
    known = set(context.instance.get_dynamic_partitions(workspace_partitions.name))
    new = [workspace for workspace in workspaces if workspace not in known]
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=f"{workspace}@{build}",
                partition_key=workspace,
                tags={"clipped/workspace": workspace, "clipped/trigger": "sensor"},
            )
            for workspace in workspaces
        ],
        dynamic_partitions_requests=[workspace_partitions.build_add_request(new)] if new else [],
        cursor=str(build),
    )
