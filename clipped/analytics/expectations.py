"""The expectations one day's engagement snapshot must meet before anything is built on it (Great Expectations 1.x).

Run in process on an ephemeral context with a pandas data source, per workspace and day:

- the file has the contract's columns, in order, with the contract's Parquet types;
- keys are present, ``(publication_id, snapshot_day)`` is unique, the day and workspace are the file's own;
- counts, watch time and retention are never negative (NULL allowed: a platform that does not report a number;
  retention has no upper bound, as a Short that loops is watched past its length);
- every ``publication_id`` is in the day's published-clip facts;
- cumulative counts never go down against the previous day's snapshot of the same post;
- the snapshot is fresh: ``captured_at`` falls within the partition day or the day after.

Nulls are kept as nulls on the way into pandas (nullable ``Int64``/``Float64``), so "not reported" is never 0 or NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa

from clipped.analytics.engagement import (
    COUNT_COLUMNS,
    METRICS_SCHEMA,
    RATE_COLUMNS,
    engagement_key,
    publications_key,
    read_parquet,
)
from clipped.publish.models import PLATFORMS
from clipped.storage import Storage

KEY_COLUMNS = ("snapshot_day", "captured_at", "workspace_id", "publication_id", "account_id", "platform", "post_id")
# Freshness: a day's snapshot is taken during that day or the next (the daily pull runs at 02:30 UTC for the day
# before); a snapshot captured later is a backfill that would pass today's counts off as that day's.
FRESH_FOR = timedelta(days=2)
_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype()}
_PREVIOUS = "_previous"


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict: what was expected, whether it held, and what was seen when it did not."""

    expectation: str
    success: bool
    detail: str = ""


@dataclass(frozen=True)
class EngagementValidation:
    """The verdicts on one workspace's snapshot of one day."""

    workspace_id: str
    day: date
    rows: int
    outcomes: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        return all(outcome.success for outcome in self.outcomes)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.success]


def validate_engagement_day(storage: Storage, workspace_id: str, day: date) -> EngagementValidation:
    """Validate the stored snapshot of ``workspace_id`` for ``day`` against the day's facts and the previous day's
    snapshot (when there is one). A missing file is a failed expectation, not an error."""
    key, facts_key = engagement_key(workspace_id, day), publications_key(workspace_id, day)
    missing = [name for name in (key, facts_key) if not storage.exists(name)]
    if missing:
        outcome = ExpectationOutcome("the day's files exist", False, f"missing: {', '.join(missing)}")
        return EngagementValidation(workspace_id, day, 0, [outcome])
    previous_key = engagement_key(workspace_id, day - timedelta(days=1))
    previous = read_parquet(storage, previous_key) if storage.exists(previous_key) else None
    metrics, facts = read_parquet(storage, key), read_parquet(storage, facts_key)
    return validate_engagement(metrics, facts, previous, workspace_id, day)


def validate_engagement(
    metrics: pa.Table, publications: pa.Table, previous: pa.Table | None, workspace_id: str, day: date
) -> EngagementValidation:
    """Run the engagement suite on ``metrics`` (one workspace, one day); ``publications`` are the day's facts and
    ``previous`` the day before's snapshot (None on the first day)."""
    # Great Expectations takes seconds to import: loaded when a validation runs, not whenever Dagster loads code.
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            analytics_enabled=False,  # offline, and nothing about our data leaves the process
            progress_bars=ProgressBarsConfig(globally=False),
            store_backend_defaults=InMemoryStoreBackendDefaults(),
        ),
    )
    source = context.data_sources.add_pandas("engagement")
    frame = metrics.to_pandas(types_mapper=_NULLABLE.get)
    start = datetime.combine(day, time(), UTC)
    known = publications.column("publication_id").to_pylist() if "publication_id" in publications.column_names else []

    checks: list[tuple[str, pd.DataFrame, list[tuple[str, Any]]]] = [
        (
            "schema",
            pd.DataFrame({"field": [_field(field) for field in metrics.schema]}),
            [
                (
                    "the Parquet schema is the contract's",
                    gxe.ExpectColumnDistinctValuesToEqualSet(
                        column="field", value_set=[_field(field) for field in METRICS_SCHEMA]
                    ),
                )
            ],
        ),
        (
            "metrics",
            frame,
            [
                (
                    "the contract's columns, in order",
                    gxe.ExpectTableColumnsToMatchOrderedList(column_list=METRICS_SCHEMA.names),
                ),
                *((f"{name} is never NULL", gxe.ExpectColumnValuesToNotBeNull(column=name)) for name in KEY_COLUMNS),
                (
                    "one row per (publication_id, snapshot_day)",
                    gxe.ExpectCompoundColumnsToBeUnique(column_list=["publication_id", "snapshot_day"]),
                ),
                (
                    f"snapshot_day is {day.isoformat()}",
                    gxe.ExpectColumnValuesToBeInSet(column="snapshot_day", value_set=[day]),
                ),
                (
                    f"workspace_id is {workspace_id}",
                    gxe.ExpectColumnValuesToBeInSet(column="workspace_id", value_set=[workspace_id]),
                ),
                ("platform is a known one", gxe.ExpectColumnValuesToBeInSet(column="platform", value_set=PLATFORMS)),
                *(
                    (
                        f"{name} is not negative (NULL allowed)",
                        gxe.ExpectColumnValuesToBeBetween(column=name, min_value=0),
                    )
                    for name in (*COUNT_COLUMNS, *RATE_COLUMNS)
                ),
                (
                    "every publication_id is among the day's published publications",
                    gxe.ExpectColumnValuesToBeInSet(column="publication_id", value_set=known),
                ),
                (
                    f"captured_at within {day.isoformat()} and the day after",
                    gxe.ExpectColumnValuesToBeBetween(
                        column="captured_at", min_value=start, max_value=start + FRESH_FOR, strict_max=True
                    ),
                ),
            ],
        ),
    ]
    if previous is not None:
        checks.append(
            (
                "day_over_day",
                _day_over_day(frame, previous),
                [
                    (
                        f"{name} never goes down from the previous day",
                        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                            column_A=name,
                            column_B=f"{name}{_PREVIOUS}",
                            or_equal=True,
                            ignore_row_if="either_value_is_missing",
                        ),
                    )
                    for name in COUNT_COLUMNS
                ],
            )
        )

    outcomes: list[ExpectationOutcome] = []
    for name, data, expectations in checks:
        suite = gx.ExpectationSuite(name=f"engagement_{name}")
        labels: dict[str, str] = {}
        for label, expectation in expectations:
            labels[_signature(suite.add_expectation(expectation).configuration)] = label
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        result = batch.get_batch(batch_parameters={"dataframe": data}).validate(suite, result_format="SUMMARY")
        for item in result.results:
            label = labels.get(_signature(item.expectation_config), item.expectation_config.type)
            outcomes.append(ExpectationOutcome(label, bool(item.success), "" if item.success else _detail(item)))
    return EngagementValidation(workspace_id, day, metrics.num_rows, outcomes)


def _signature(configuration: Any) -> str:
    """An expectation told apart by its type and arguments (results come back in their own order)."""
    arguments = {key: value for key, value in configuration.kwargs.items() if key != "batch_id"}
    return f"{configuration.type}{sorted(arguments.items(), key=lambda item: item[0])!r}"


def _field(field: pa.Field) -> str:
    return f"{field.name}: {field.type}"


def _day_over_day(frame: pd.DataFrame, previous: pa.Table) -> pd.DataFrame:
    """Each post's counts beside its counts of the day before (``<count>_previous``), for posts in both days."""
    columns = [name for name in ("publication_id", *COUNT_COLUMNS) if name in previous.column_names]
    if "publication_id" not in columns or "publication_id" not in frame.columns:
        return pd.DataFrame({name: [] for name in (*COUNT_COLUMNS, *(f"{c}{_PREVIOUS}" for c in COUNT_COLUMNS))})
    before = previous.select(columns).to_pandas(types_mapper=_NULLABLE.get)
    before = before.drop_duplicates("publication_id").rename(columns={c: f"{c}{_PREVIOUS}" for c in COUNT_COLUMNS})
    merged = frame.merge(before, on="publication_id", how="inner")
    for name in COUNT_COLUMNS:
        # A count the previous file lacked altogether compares as missing (skipped), never as 0.
        if f"{name}{_PREVIOUS}" not in merged.columns:
            merged[f"{name}{_PREVIOUS}"] = pd.array([None] * len(merged), dtype=pd.Int64Dtype())
    return merged


def _detail(item: Any) -> str:
    """What the failed expectation saw: its error, the unexpected count and some values, or the observed value."""
    info = item.exception_info or {}
    # Either one {"raised_exception", "exception_message"} or one such dict per metric that failed to compute.
    errors = [info] if "raised_exception" in info else [value for value in info.values() if isinstance(value, dict)]
    raised = [error for error in errors if error.get("raised_exception") or error.get("exception_message")]
    if raised:
        message = str(raised[0].get("exception_message") or "").strip().splitlines()
        return f"could not be evaluated: {message[-1][:200] if message else 'error'}"
    result = item.result or {}
    parts: list[str] = []
    if result.get("unexpected_count"):
        parts.append(f"{result['unexpected_count']} unexpected")
    examples: Sequence[object] = result.get("partial_unexpected_list") or []
    if examples:
        parts.append(f"e.g. {', '.join(_shown(value) for value in examples[:5])}")
    absent: Sequence[object] = result.get("partial_missing_list") or []
    if absent:
        parts.append(f"missing {', '.join(_shown(value) for value in absent[:5])}")
    if not parts and result.get("observed_value") is not None:
        parts.append(f"observed {_shown(result['observed_value'])}")
    return "; ".join(parts)[:300]


def _shown(value: object) -> str:
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_shown(item) for item in value) + ")"
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()  # type: ignore[union-attr]
    return str(value)
