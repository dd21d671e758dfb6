"""Learning: `ranking_weights`, each workspace's selector weights fitted from the engagement its clips realised."""

from datetime import UTC, datetime

from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    DataVersion,
    DynamicPartitionsDefinition,
    LastPartitionMapping,
    MaterializeResult,
    MetadataValue,
    asset,
)

from clipped.layout import check_workspace_id
from clipped.learn.report import context_markdown, weight_changes_markdown
from clipped.learn.versions import learn_ranking_weights, load_rows, version_key
from clipped_assets.step_context import bad_input_policy
from clipped_resources.storage import StorageResource
from clipped_resources.warehouse import WarehouseResource

workspace_partitions = DynamicPartitionsDefinition(name="workspace")
# The mart is rebuilt whole by every daily dbt build, so a fit reads what the latest day's build left.
performance_mart = AssetDep(AssetKey("fct_clip_performance"), partition_mapping=LastPartitionMapping())


@asset(
    partitions_def=workspace_partitions,
    deps=[performance_mart],
    group_name="learn",
    kinds={"python"},
    description=(
        "Selector weights fitted per workspace from fct_clip_performance (ridge toward the defaults, clamped), "
        "versioned; accepted only when they rank held-out posts better. candidates uses the latest accepted."
    ),
)
@bad_input_policy
def ranking_weights(
    context: AssetExecutionContext, storage: StorageResource, warehouse: WarehouseResource
) -> MaterializeResult:
    workspace = check_workspace_id(context.partition_key)
    run = learn_ranking_weights(storage, workspace, load_rows(warehouse, workspace), now=datetime.now(UTC))
    if run.reused:
        context.log.info(f"same posts as fit v{run.fit.version}: reusing it")
    fit, metrics = run.fit, run.fit.metrics
    held_out = {
        name: MetadataValue.float(float(metrics[name]))
        for name in ("spearman_current", "spearman_new", "ndcg_current", "ndcg_new")
        if name in metrics
    }
    return MaterializeResult(
        metadata={
            "accepted": fit.accepted,
            "reason": fit.reason,
            "version": fit.version,
            "version_in_use": run.current.version,
            "previous_version": run.previous.version,
            "n_posts": fit.n_posts,
            **held_out,
            "weight_changes": MetadataValue.md(weight_changes_markdown(run.previous, fit)),
            "context_effects": MetadataValue.md(context_markdown(fit)),
            "weights_key": version_key(workspace, fit.version),
        },
        data_version=DataVersion(f"v{run.current.version}-{run.current.ranking_fingerprint()}"),
    )
