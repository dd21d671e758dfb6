"""The dbt_analytics models as Dagster assets (group ``analytics``), their job and their daily schedule.

Every dbt model is an asset keyed by its model name; both raw sources are the ``engagement_metrics`` asset (it
writes the engagement snapshots and the published-clip facts in one run), so the lineage runs publications ->
engagement_metrics -> stg_* -> marts -> the learner. dbt tests are asset checks (error severity: blocking).

Partitions: the models are partitioned by day exactly like ``engagement_metrics``, so a day's metrics and the
models built from them share a partition key and a backfill of one is a backfill of the other. ``fct_clip_engagement``
is incremental by snapshot day and rebuilds only the run's partition window (one dbt build per backfill, thanks to
the single-run backfill policy); the aggregate marts are small and rebuilt whole from it on every run.

The manifest is made at load time when missing or older than the project (``dbt parse``: no network, no
database), cached in ``dbt_analytics/target/`` (ignored by git), so a fresh clone, CI and ``make demo`` need no step.
"""

import functools
import json
import warnings
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from filelock import FileLock

from clipped_resources.warehouse import DBT_PROJECT_DIR, WarehouseResource, dbt_executable

GROUP = "analytics"
# The raw Parquet both dbt sources read is written by this asset (clipped_assets: the engagement metrics pull).
ENGAGEMENT_METRICS = dg.AssetKey("engagement_metrics")
# The same days as engagement_metrics: from the first day of metrics, up to and including today (UTC).
analytics_day_partitions = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC", end_offset=1)
# dbt writes one DuckDB file: runs that build it queue on this pool instead of failing on DuckDB's write lock.
WAREHOUSE_POOL = "duckdb_warehouse"

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class AnalyticsTranslator(DagsterDbtTranslator):
    """Models keyed by their name in group ``analytics``; every source is the ``engagement_metrics`` asset."""

    def __init__(self) -> None:
        # Both sources map to one asset (the engagement run writes both files).
        super().__init__(DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return ENGAGEMENT_METRICS
        return dg.AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return GROUP


def project_files(project_dir: Path) -> list[Path]:
    """The files a manifest is parsed from: project and profile YAML, models and macros."""
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        files += sorted(path for path in (project_dir / folder).rglob("*") if path.is_file())
    return files


def manifest_is_current(manifest: Path, project_dir: Path) -> bool:
    """True when ``manifest`` exists and is newer than every file it was parsed from."""
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    return all(path.stat().st_mtime <= built for path in project_files(project_dir))


def analytics_manifest(project: DbtProject = DBT_PROJECT) -> Path:
    """The project's manifest.json, parsed first when missing or stale. A file lock makes processes that load the
    definitions at once (pytest workers, the webserver and the daemon) parse one at a time, and the ones that waited
    find the manifest current and parse nothing."""
    manifest, project_dir = project.manifest_path, Path(project.project_dir)
    if manifest_is_current(manifest, project_dir):
        return manifest
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(manifest.with_suffix(".lock"), timeout=300):
        if not manifest_is_current(manifest, project_dir):
            parser = DbtCliResource(project_dir=str(project_dir), dbt_executable=dbt_executable())
            parser.cli(["parse", "--quiet"], target_path=manifest.parent).wait()
    return manifest


def dbt_build_args(warehouse: WarehouseResource, window: dg.TimeWindow) -> list[str]:
    """``dbt build`` for one partition window: where the warehouse and raw files are, and the snapshot days
    fct_clip_engagement rebuilds ([start, end) as ISO dates)."""
    dbt_vars = {
        **warehouse.dbt_vars(),
        "min_snapshot_day": _day(window.start),
        "max_snapshot_day": _day(window.end),
    }
    return ["build", "--vars", json.dumps(dbt_vars, sort_keys=True)]


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


@functools.cache
def analytics_models() -> dg.AssetsDefinition:
    """Every dbt_analytics model as an asset (built once per process; needs the manifest, see module doc)."""

    @dbt_assets(
        manifest=analytics_manifest(),
        project=DBT_PROJECT,
        dagster_dbt_translator=AnalyticsTranslator(),
        partitions_def=analytics_day_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        name="analytics_models",
    )
    def analytics_dbt_models(
        context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ) -> Iterator[Any]:
        yield from dbt.cli(dbt_build_args(warehouse, context.partition_time_window), context=context).stream()

    return analytics_dbt_models


# One run per day: the metrics pull, its Great Expectations check (blocking: a bad day stops here), then the dbt
# build. Pull and build in one run is what lets the check block the models; a separate build job would not see it.
# The pull is one day per run and the models' own backfills one run for a range, so Dagster warns (on every load
# of the definitions, in `clipped ui` too) that the job takes the smallest: one day per run, which is this job's
# intent. Only that message, for this job, is ignored.
warnings.filterwarnings(
    "ignore", message="Asset job analytics_job materializes assets with varying BackfillPolicies", category=UserWarning
)
analytics_job = dg.define_asset_job(
    name="analytics_job",
    selection=dg.AssetSelection.groups(GROUP),
    description="A day's engagement pull, its expectations check, then the dbt build of the marts (tests as checks).",
)


@dg.schedule(
    job=analytics_job,
    cron_schedule="30 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every day at 02:30 UTC: the day that just ended is measured, checked and built into the marts.",
)
def analytics_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Yesterday's partition (UTC), once per day: counts are cumulative, so the day is measured once it is over."""
    scheduled = context.scheduled_execution_time or datetime.now(UTC)
    day = (scheduled.astimezone(UTC) - timedelta(days=1)).date().isoformat()
    return dg.RunRequest(run_key=day, partition_key=day)
