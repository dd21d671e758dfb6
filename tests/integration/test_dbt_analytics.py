"""dbt_analytics built by Dagster: raw Parquet in the contract's shape -> `dbt build` through the dbt assets -> marts.

Local storage and the moto S3 server run the same models (the prod target reads the Parquet through pyarrow's S3
filesystem). dbt tests arrive as asset checks; a failing one stops the models below it.
"""

from __future__ import annotations

import io
import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster_dbt import DbtCliResource

from clipped.learn.outcomes import outcomes_from_rows
from clipped.learn.versions import load_rows
from clipped_assets.dbt_models import analytics_models
from clipped_resources.warehouse import DBT_PROJECT_DIR, RawParquet, WarehouseResource, dbt_executable
from tests.support.s3_server import S3Bucket

FACTS_WS1 = "select * from fct_clip_engagement where workspace_id = 'ws1'"
# The shared contract of the raw files (written by the engagement_metrics asset).
SNAPSHOT_SCHEMA = pa.schema(
    [("snapshot_day", pa.date32()), ("captured_at", pa.timestamp("us", tz="UTC"))]
    + [(name, pa.string()) for name in ("workspace_id", "publication_id", "account_id", "platform", "post_id")]
    + [(name, pa.int64()) for name in ("views", "likes", "comments", "shares", "saves")]
    + [("avg_view_duration_s", pa.float64()), ("retention", pa.float64())]
)
PUBLICATION_SCHEMA = pa.schema(
    [(name, pa.string()) for name in ("publication_id", "workspace_id", "account_id", "platform", "post_id")]
    + [("post_url", pa.string()), ("published_at", pa.timestamp("us", tz="UTC"))]
    + [(name, pa.string()) for name in ("clip_ref", "source_partition", "clip_id")]
    + [("duration_s", pa.float64()), ("caption_style", pa.string()), ("hook_text", pa.string())]
    + [(name, pa.float64()) for name in ("score", "score_hook", "score_flow", "score_value", "score_energy")]
    + [("posting_hour_local", pa.int64())]
)
DAY1, DAY2, DAY3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


# (publication, account, platform, published, duration_s, caption style, hook text, score, local hour)
PUBLICATIONS = [
    ("tt-1", "acc-tt", "tiktok", at(DAY1, 18, 5), 22.0, "karaoke", "Why does nobody cut like this?", 0.9, 18),
    ("tt-2", "acc-tt", "tiktok", at(DAY1, 18, 35), 28.0, "karaoke", "3 cuts that save an hour", 0.8, 18),
    ("tt-3", "acc-tt", "tiktok", at(DAY1, 18, 50), 35.0, "pop_in", "How to frame a face", 0.7, 18),
    ("tt-4", "acc-tt", "tiktok", at(DAY1, 9, 0), 50.0, "highlight_word", "The quiet part", 0.2, 9),
    ("tt-5", "acc-tt", "tiktok", at(DAY1, 9, 10), 55.0, "highlight_word", "Editing is a craft", 0.3, 9),
    ("tt-6", "acc-tt", "tiktok", at(DAY1, 9, 20), 70.0, "highlight_word", "Stop doing this!", 0.1, 9),
    ("tt-7", "acc-tt", "tiktok", at(DAY1, 12, 0), 12.0, "pop_in", "One lucky post", 0.5, 12),
    ("x-1", "acc-x", "x", at(DAY2, 17, 0), 18.0, "pop_in", "This is the one", 0.6, 18),
    ("yt-1", "acc-yt", "youtube", at(DAY2, 11, 0), 40.0, "karaoke", "What would you cut?", 0.4, 12),
]
# publication -> day -> (views, likes, comments, shares, saves); None: the platform does not report it.
COUNTS: dict[str, dict[date, tuple[int | None, ...]]] = {
    "tt-1": {DAY1: (100, 10, 2, 3, 5), DAY2: (1000, 120, 30, 30, 20)},  # 0.2
    "tt-2": {DAY1: (50, 5, 0, 0, 0), DAY2: (500, 50, 10, 10, 5)},  # 0.15
    "tt-3": {DAY1: (20, 1, 0, 0, 0), DAY2: (200, 30, 5, 3, 2)},  # 0.2
    "tt-4": {DAY2: (400, 8, 4, 4, 4)},  # 0.05
    "tt-5": {DAY2: (300, 6, 3, 0, 3)},  # 0.04
    "tt-6": {DAY2: (100, 3, 1, 1, 1)},  # 0.06
    "tt-7": {DAY2: (10, 9, 0, 0, 0)},  # 0.9, but one post makes no best hour
    "x-1": {DAY2: (200, 20, 5, 5, None)},  # no saves on X: 30 / 200
    "yt-1": {DAY2: (None, 3, 1, 0, None)},  # views not reported yet: no rate
}


def publication_rows(workspace: str, day: date, prefix: str = "") -> list[dict[str, Any]]:
    """The publications file of ``day``: every post published by then. ``prefix`` keeps another workspace's ids
    apart (publication and account ids are unique across workspaces)."""
    rows = []
    for pub, account, platform, published, duration, style, hook, score, hour in PUBLICATIONS:
        if published.date() > day:
            continue
        rows.append(
            {
                "publication_id": prefix + pub, "workspace_id": workspace, "account_id": prefix + account,
                "platform": platform,
                "post_id": f"post-{pub}", "post_url": f"https://example.invalid/{pub}", "published_at": published,
                "clip_ref": f"src-1/{pub}", "source_partition": f"{workspace}.talk-0123456789", "clip_id": pub,
                "duration_s": duration, "caption_style": style, "hook_text": hook, "score": score,
                "score_hook": score, "score_flow": 0.5, "score_value": 0.5, "score_energy": 0.5,
                "posting_hour_local": hour,
            }
        )  # fmt: skip
    return rows


def snapshot_rows(
    workspace: str, day: date, counts: dict[str, dict[date, tuple]] = COUNTS, prefix: str = ""
) -> list[dict[str, Any]]:
    accounts = {pub: (account, platform) for pub, account, platform, *_ in PUBLICATIONS}
    rows = []
    for pub, by_day in counts.items():
        if day not in by_day:
            continue
        views, likes, comments, shares, saves = by_day[day]
        account, platform = accounts[pub]
        rows.append(
            {
                "snapshot_day": day, "captured_at": at(day, 2),
                "workspace_id": workspace, "publication_id": prefix + pub, "account_id": prefix + account,
                "platform": platform,
                "post_id": f"post-{pub}", "views": views, "likes": likes, "comments": comments, "shares": shares,
                "saves": saves, "avg_view_duration_s": 9.5, "retention": None,
            }
        )  # fmt: skip
    return rows


def parquet_bytes(rows: list[dict[str, Any]], schema: pa.Schema) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer)
    return buffer.getvalue()


def day_files(
    workspace: str, day: date, counts: dict[str, dict[date, tuple]] = COUNTS, prefix: str = ""
) -> dict[str, bytes]:
    """Storage key -> bytes of one workspace's raw files for one day, as the engagement asset writes them."""
    return {
        f"{workspace}/analytics/engagement/day={day}/metrics.parquet": parquet_bytes(
            snapshot_rows(workspace, day, counts, prefix), SNAPSHOT_SCHEMA
        ),
        f"{workspace}/analytics/publications/day={day}/publications.parquet": parquet_bytes(
            publication_rows(workspace, day, prefix), PUBLICATION_SCHEMA
        ),
    }


def write_local(root: Path, files: dict[str, bytes]) -> None:
    for key, data in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)


def dbt_cli(target: str) -> DbtCliResource:
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        target=target,
        dbt_executable=dbt_executable(),
    )


def build(day: date, warehouse: WarehouseResource, target: str = "local", **kwargs: Any) -> dg.ExecuteInProcessResult:
    """Materialize every dbt model for ``day``'s partition (one `dbt build`). In-memory instance: ~150 events
    (a model or a check each) cost half a minute of fsyncs in a SQLite-backed test instance."""
    return dg.materialize(
        [analytics_models()],
        partition_key=day.isoformat(),
        resources={"dbt": dbt_cli(target), "warehouse": warehouse},
        instance=dg.DagsterInstance.ephemeral(),
        **kwargs,
    )


def rows_by(warehouse: WarehouseResource, sql: str, *key: str) -> dict[Any, dict[str, Any]]:
    rows = warehouse.query(sql)
    return {tuple(row[k] for k in key) if len(key) > 1 else row[key[0]]: row for row in rows}


def close(value: float | None, expected: float) -> bool:
    return value is not None and math.isclose(value, expected, rel_tol=1e-9)


def assert_engagement_facts(warehouse: WarehouseResource) -> None:
    """fct_clip_engagement: one row per publication x day, NULL rate without views, a rate without saves."""
    facts = rows_by(warehouse, "select * from fct_clip_engagement", "publication_id", "snapshot_day")
    assert len(facts) == 12
    assert facts[("yt-1", DAY2)]["views"] is None
    assert facts[("yt-1", DAY2)]["engagement_rate"] is None
    x_post = facts[("x-1", DAY2)]
    assert x_post["saves"] is None and x_post["interactions"] == 30 and close(x_post["engagement_rate"], 0.15)
    first = facts[("tt-1", DAY2)]
    assert close(first["engagement_rate"], 0.2) and first["days_since_post"] == 1
    assert first["hook_text"] == "Why does nobody cut like this?" and first["caption_style"] == "karaoke"
    assert first["score"] == 0.9 and first["posting_hour_local"] == 18 and first["clip_id"] == "tt-1"
    assert_clip_features(first)


def assert_clip_features(fact: dict[str, Any]) -> None:
    """A fact row of tt-1 carries its clip's sub-scores, duration and posting time."""
    sub_scores = [fact[f"score_{name}"] for name in ("hook", "flow", "value", "energy")]
    assert sub_scores == [0.9, 0.5, 0.5, 0.5] and fact["duration_s"] == 22.0
    assert fact["published_at"] == at(DAY1, 18, 5)


def test_dbt_build_on_local_parquet_then_a_day_later(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    for day in (DAY1, DAY2):
        write_local(storage, day_files("ws1", day))
    write_local(storage, day_files("ws2", DAY2, {"tt-1": {DAY2: (10, 1, 0, 0, 0)}}, prefix="w2-"))
    warehouse = WarehouseResource(database_path=str(tmp_path / "wh" / "warehouse.duckdb"), storage_root=str(storage))

    result = build(DAY2, warehouse)

    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 40 and all(check.passed for check in checks), [c.check_name for c in checks if not c.passed]
    assert {"unique_fct_clip_performance_publication_id", "not_null_fct_clip_engagement_snapshot_day"} <= {
        check.check_name for check in checks
    }
    materialized = {event.asset_key.path[-1] for event in result.get_asset_materialization_events()}
    assert {"fct_clip_engagement", "fct_clip_performance", "best_posting_hours", "workspace_summary"} <= materialized

    ws1 = WarehouseResource(database_path=warehouse.database_path)
    facts = rows_by(ws1, FACTS_WS1, "publication_id", "snapshot_day")
    assert len(facts) == 12
    assert facts[("yt-1", DAY2)]["engagement_rate"] is None
    assert close(facts[("x-1", DAY2)]["engagement_rate"], 0.15)
    assert_clip_features(facts[("tt-1", DAY2)])

    performance = rows_by(ws1, "select * from fct_clip_performance where workspace_id = 'ws1'", "publication_id")
    assert performance["tt-1"]["latest_snapshot_day"] == DAY2 and performance["tt-1"]["views"] == 1000
    assert performance["tt-1"]["duration_bucket"] == "15-30s" and performance["tt-1"]["hook_type"] == "question"
    assert performance["tt-2"]["hook_type"] == "number" and performance["tt-3"]["hook_type"] == "how_to"
    assert performance["tt-6"]["duration_bucket"] == "60s+" and performance["tt-6"]["hook_type"] == "exclamation"
    assert performance["tt-1"]["score_quintile"] == 5 and performance["tt-6"]["score_quintile"] == 1

    features = rows_by(ws1, "select * from performance_by_feature where workspace_id = 'ws1'", "feature", "bucket")
    karaoke = features[("caption_style", "karaoke")]  # tt-1 0.2, tt-2 0.15, yt-1 unmeasured
    assert karaoke["posts"] == 3 and karaoke["measured_posts"] == 2 and close(karaoke["mean_engagement_rate"], 0.175)
    evening = features[("posting_hour", "18")]  # tt-1, tt-2, tt-3, x-1
    assert evening["posts"] == 4 and close(evening["median_engagement_rate"], 0.175)
    assert {bucket for feature, bucket in features if feature == "score_quintile"} == {"q1", "q2", "q3", "q4", "q5"}

    hours = rows_by(ws1, "select * from best_posting_hours where account_id = 'acc-tt'", "posting_hour_local")
    assert set(hours) == {18, 9}  # 12:00 has one post: no pattern
    assert hours[18]["hour_rank"] == 1 and close(hours[18]["mean_engagement_rate"], (0.2 + 0.15 + 0.2) / 3)
    assert hours[9]["hour_rank"] == 2 and hours[9]["measured_posts"] == 3

    growth = rows_by(ws1, "select * from account_growth where account_id = 'acc-tt'", "day")
    assert growth[DAY1]["posts"] == 7 and growth[DAY1]["cumulative_views"] == 170
    assert growth[DAY2]["posts"] == 0 and growth[DAY2]["cumulative_views"] == 2510
    summary = rows_by(ws1, "select * from workspace_summary", "workspace_id", "day")
    assert summary[("ws1", DAY2)]["accounts"] == 3 and summary[("ws1", DAY2)]["cumulative_posts"] == 9
    assert summary[("ws2", DAY2)]["cumulative_views"] == 10  # each workspace apart

    # The next day: a partition run adds its own day and leaves the others as they were built, even when a past
    # day's file changed since (that day is rebuilt by its own partition, as a backfill would).
    write_local(storage, day_files("ws1", DAY3, {"tt-1": {DAY3: (2000, 300, 50, 30, 20)}}))
    write_local(storage, day_files("ws1", DAY1, {"tt-1": {DAY1: (999, 0, 0, 0, 0)}}))

    assert build(DAY3, warehouse).success

    facts = rows_by(ws1, FACTS_WS1, "publication_id", "snapshot_day")
    assert close(facts[("tt-1", DAY3)]["engagement_rate"], 0.2) and facts[("tt-1", DAY3)]["days_since_post"] == 2
    assert facts[("tt-1", DAY1)]["views"] == 100  # outside the run's window: kept
    performance = rows_by(ws1, "select * from fct_clip_performance where workspace_id = 'ws1'", "publication_id")
    assert performance["tt-1"]["latest_snapshot_day"] == DAY3 and performance["tt-1"]["views"] == 2000
    growth = rows_by(ws1, "select * from account_growth where account_id = 'acc-tt'", "day")
    assert growth[DAY3]["cumulative_views"] == 2510 - 1000 + 2000  # the other posts carry their day-2 counts

    # ranking_weights reads this mart as built: the columns the learner needs, under the names it expects.
    rows = load_rows(ws1, "ws1")
    assert len(outcomes_from_rows(rows, min_age_days=0)) == 8  # yt-1 reported no views: not a post with 0 views
    [aged] = outcomes_from_rows(rows)  # only tt-1 is 2 days old at its latest snapshot
    assert (aged.publication_id, aged.views, aged.age_days, aged.duration_s) == ("tt-1", 2000, 2.0, 22.0)
    assert (aged.hook_type, aged.caption_style, aged.posting_hour) == ("question", "karaoke", 18)
    assert aged.scores == {"hook": 0.9, "flow": 0.5, "value": 0.5, "energy": 0.5}


def test_a_failing_dbt_test_is_a_failed_check_and_stops_the_models_below(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    write_local(storage, day_files("ws1", DAY2))
    bad = snapshot_rows("ws1", DAY2)
    bad[0]["platform"] = "myspace"
    write_local(storage, {f"ws1/analytics/engagement/day={DAY2}/metrics.parquet": parquet_bytes(bad, SNAPSHOT_SCHEMA)})
    warehouse = WarehouseResource(database_path=str(tmp_path / "warehouse.duckdb"), storage_root=str(storage))

    result = build(DAY2, warehouse, raise_on_error=False)

    assert not result.success
    failed = {check.check_name for check in result.get_asset_check_evaluations() if not check.passed}
    assert failed == {"accepted_values_stg_engagement__snapshots_platform__youtube__tiktok__instagram__x"}
    materialized = {event.asset_key.path[-1] for event in result.get_asset_materialization_events()}
    assert "stg_engagement__snapshots" in materialized
    assert not materialized & {"fct_clip_engagement", "fct_clip_performance", "best_posting_hours"}


def test_prod_target_reads_the_same_parquet_from_s3(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    client = s3_bucket.client()
    for day in (DAY1, DAY2):
        for key, data in day_files("ws1", day).items():
            client.put_object(Bucket=s3_bucket.name, Key=key, Body=data)
    client.put_object(Bucket=s3_bucket.name, Key="ws1/inbox/talk.mp4", Body=b"not analytics")
    warehouse = WarehouseResource(
        database_path=str(tmp_path / "warehouse.duckdb"),
        s3_bucket=s3_bucket.name,
        s3_endpoint_url=s3_bucket.endpoint_url,
    )

    result = build(DAY2, warehouse, target="prod")

    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    assert_engagement_facts(warehouse)
    hours = rows_by(warehouse, "select * from best_posting_hours where account_id = 'acc-tt'", "posting_hour_local")
    assert hours[18]["hour_rank"] == 1


def test_raw_reader_conforms_files_to_the_contract(tmp_path: Path) -> None:
    """No files: an empty table with the contract's columns; a file missing a column gets NULLs for it."""
    reader = RawParquet.from_settings(storage_root=str(tmp_path))
    empty = reader.read("engagement")
    assert empty.num_rows == 0 and empty.schema.names == [*SNAPSHOT_SCHEMA.names, "file_day"]

    rows = [{k: v for k, v in row.items() if k != "saves"} for row in snapshot_rows("ws1", DAY2)]
    old_writer = SNAPSHOT_SCHEMA.remove(SNAPSHOT_SCHEMA.get_field_index("saves"))
    write_local(tmp_path, {"ws1/analytics/engagement/day=2026-03-02/metrics.parquet": parquet_bytes(rows, old_writer)})
    (tmp_path / "ws1/analytics/engagement/day=latest").mkdir()  # not a day folder: ignored

    table = reader.read("engagement")
    assert table.num_rows == len(rows)
    assert table.column("saves").null_count == len(rows)
    assert set(table.column("file_day").to_pylist()) == {DAY2}

    with pytest.raises(ValueError, match="unknown raw dataset"):
        reader.read("comments")
