"""The analytics dashboard's data: the dbt marts of the DuckDB warehouse and the ranking weights' versions, for one
workspace at a time (README "Analytics dashboard").

Every query is parameterised and filtered by the caller's workspace (:class:`MartReader` passes the workspace id
as the first parameter of every statement and refuses SQL without that filter). A warehouse that is not built yet,
or a mart it does not have yet, reads as no rows: the answer is the usual shape with ``has_data: false``. A build
holding the warehouse's write lock longer than the resource waits is a 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import duckdb
from fastapi import APIRouter, Depends, Query
from pydantic import ValidationError

from api.deps import Access, PrincipalDep, SessionDep, StateDep, access_to, release_connection
from api.errors import ApiError
from api.roles import Permission
from api.routing import SessionReleasingRoute
from api.schemas import (
    AccountGrowthOut,
    AccountHoursOut,
    AnalyticsMetric,
    AnalyticsSummaryOut,
    EngagementDayOut,
    EngagementOut,
    FeatureBucketOut,
    FeatureOut,
    FeaturesOut,
    GrowthDayOut,
    GrowthOut,
    HeldOutOut,
    PostingHourOut,
    PostingHoursOut,
    RankedClipOut,
    RankedClipsOut,
    RankingWeightsOut,
    SubScoresOut,
    WeightsVersionOut,
    WorkspaceDayOut,
)
from api.state import AppState
from clipped.learn.versions import list_versions, read_latest_weights, read_version
from clipped.learn.weights import SUB_SCORES, RankingWeights, default_weights
from clipped.publish.models import Platform
from clipped_resources.storage import WorkspaceStorage
from clipped_resources.warehouse import WarehouseResource

log = logging.getLogger("clipped.api")
router = APIRouter(
    prefix="/api/workspaces/{workspace_id}/analytics", tags=["analytics"], route_class=SessionReleasingRoute
)

NO_WAREHOUSE = "No analytics yet: the warehouse has not been built (it builds nightly after the metrics pull)."
NO_POSTS = "No data yet: nothing this workspace published has been measured."
NO_MATCH = "No measured posts match this platform and date range."
NO_FITS = "No fitted weights yet: the selector ranks with the built-in defaults until enough posts are measured."
WAREHOUSE_RETRY_S = 10
# best_posting_hours keeps an hour only from this many measured posts (dbt_analytics/dbt_project.yml,
# var best_hours_min_posts); tests/api/routes/test_analytics.py checks the two agree.
BEST_HOURS_MIN_POSTS = 3
TOP_LIMIT_MAX = 50
FEATURES: tuple[tuple[str, str], ...] = (
    ("duration", "Duration"),
    ("hook_type", "Hook type"),
    ("caption_style", "Caption style"),
    ("posting_hour", "Posting hour (local)"),
    ("score_quintile", "Selector score quintile"),
)
# The metric a ranking orders by: a fixed column per allowed value, never text from the request.
METRIC_COLUMNS: dict[str, str] = {"views": "views", "engagement_rate": "engagement_rate"}
WORKSPACE_FILTER = "workspace_id = ?"


class MartReader:
    """Read-only queries on the marts for one workspace, on one connection per request.

    ``rows`` always binds the workspace id as the statement's first parameter. No warehouse file, or a mart it
    lacks (a build that never got that far), gives no rows.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection | None, workspace_id: str) -> None:
        self.connection = connection
        self.workspace_id = workspace_id
        self.missing = connection is None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        filter_at = sql.find(WORKSPACE_FILTER)
        if filter_at < 0 or sql.find("?") != filter_at + len(WORKSPACE_FILTER) - 1:
            raise ValueError("every analytics query filters by the caller's workspace (workspace_id = ? first)")
        if self.connection is None:
            return []
        try:
            cursor = self.connection.execute(sql, [self.workspace_id, *params])
        except duckdb.CatalogException as exc:
            log.warning("analytics: a mart is missing from the warehouse: %s", exc)
            self.missing = True
            return []
        names = [column[0] for column in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def empty_message(self, has_data: bool) -> str:
        if has_data:
            return ""
        return NO_WAREHOUSE if self.missing else NO_POSTS


@contextmanager
def open_marts(warehouse: WarehouseResource, workspace_id: str) -> Iterator[MartReader]:
    try:
        connection = warehouse.connect(read_only=True)
    except FileNotFoundError:
        yield MartReader(None, workspace_id)
        return
    except duckdb.IOException as exc:
        log.warning("analytics: the warehouse is busy: %s", exc)
        raise ApiError(
            503,
            "the analytics warehouse is being rebuilt; try again in a moment",
            code="warehouse_busy",
            headers={"Retry-After": str(WAREHOUSE_RETRY_S)},
        ) from exc
    try:
        yield MartReader(connection, workspace_id)
    finally:
        connection.close()


def analytics_access(workspace_id: str, principal: PrincipalDep, session: SessionDep) -> Access:
    """Viewers and up of the workspace; anyone else gets a 404 (the workspace's existence never leaks)."""
    access = access_to(session, principal, workspace_id).require(Permission.READ)
    release_connection(session)
    return access


AnalyticsDep = Annotated[Access, Depends(analytics_access)]
PlatformQuery = Annotated[Platform | None, Query(description="Only this platform's posts")]
StartQuery = Annotated[date | None, Query(description="First day (inclusive, ISO date)")]
EndQuery = Annotated[date | None, Query(description="Last day (inclusive, ISO date)")]


def check_range(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise ApiError(422, "start must be on or before end")


def account_names(state: AppState, workspace_id: str) -> dict[str, str]:
    """Display names of the workspace's connected accounts (the marts only know ids)."""
    return {account.id: account.display_name for account in state.publisher.store().list_accounts(workspace_id)}


def web_link(url: object) -> str:
    """``url`` when it is an http(s) link, else empty: the dashboard renders it as a link."""
    text = str(url or "")
    return text if text.startswith(("https://", "http://")) else ""


@router.get("/summary", response_model=AnalyticsSummaryOut)
def summary(access: AnalyticsDep, state: StateDep) -> AnalyticsSummaryOut:
    """The workspace's totals on its latest measured day: accounts, posts, lifetime views, likes, interactions."""
    with open_marts(state.warehouse, access.workspace_id) as marts:
        rows = marts.rows(
            f"""
            select day, accounts, cumulative_posts, measured_posts, cumulative_views, cumulative_likes,
                   cumulative_interactions, mean_engagement_rate
            from workspace_summary
            where {WORKSPACE_FILTER}
            order by day desc
            limit 1
            """
        )
    if not rows:
        return AnalyticsSummaryOut(
            workspace_id=access.workspace_id, has_data=False, message=marts.empty_message(False), data_as_of=None
        )
    row = rows[0]
    return AnalyticsSummaryOut(
        workspace_id=access.workspace_id,
        has_data=True,
        data_as_of=row["day"],
        accounts=row["accounts"] or 0,
        posts=row["cumulative_posts"] or 0,
        measured_posts=row["measured_posts"] or 0,
        views=row["cumulative_views"],
        likes=row["cumulative_likes"],
        interactions=row["cumulative_interactions"],
        mean_engagement_rate=row["mean_engagement_rate"],
    )


# Gains are against each post's previous non-NULL snapshot, computed over the whole history before the date filter
# (so the first day of a range is not counted as the posts' lifetime totals).
ENGAGEMENT_SQL = f"""
with snapshots as (
    select
        snapshot_day,
        views,
        likes,
        interactions,
        engagement_rate,
        views - coalesce(last_value(views ignore nulls) over previous, 0) as views_gained,
        likes - coalesce(last_value(likes ignore nulls) over previous, 0) as likes_gained
    from fct_clip_engagement
    where {WORKSPACE_FILTER} and (cast(? as varchar) is null or platform = ?)
    window previous as (
        partition by publication_id order by snapshot_day rows between unbounded preceding and 1 preceding
    )
)
select
    snapshot_day as day,
    count(*) as posts,
    sum(views) as views,
    sum(likes) as likes,
    sum(interactions) as interactions,
    sum(views_gained) as views_gained,
    sum(likes_gained) as likes_gained,
    sum(interactions) filter (where views > 0 and interactions is not null)
        / sum(views) filter (where views > 0 and interactions is not null) as engagement_rate,
    avg(engagement_rate) as mean_engagement_rate
from snapshots
where (cast(? as date) is null or snapshot_day >= ?) and (cast(? as date) is null or snapshot_day <= ?)
group by snapshot_day
order by snapshot_day
"""


@router.get("/engagement", response_model=EngagementOut)
def engagement(
    access: AnalyticsDep,
    state: StateDep,
    platform: PlatformQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
) -> EngagementOut:
    """Per snapshot day: posts measured, their lifetime views, likes and interactions, what they gained since
    their previous snapshot, and the engagement rate."""
    check_range(start, end)
    with open_marts(state.warehouse, access.workspace_id) as marts:
        platforms = marts.rows(
            f"select distinct platform from fct_clip_engagement where {WORKSPACE_FILTER} order by platform"
        )
        series = marts.rows(ENGAGEMENT_SQL, [platform, platform, start, start, end, end])
    return EngagementOut(
        workspace_id=access.workspace_id,
        has_data=bool(series),
        message=NO_MATCH if platforms and not series else marts.empty_message(bool(series)),
        platform=platform,
        start=start,
        end=end,
        platforms=[row["platform"] for row in platforms if row["platform"]],
        series=[EngagementDayOut(**row) for row in series],
    )


@router.get("/clips", response_model=RankedClipsOut)
def ranked_clips(
    access: AnalyticsDep,
    state: StateDep,
    metric: Annotated[AnalyticsMetric, Query(description="What ranks the posts")] = "views",
    limit: Annotated[int, Query(ge=1, le=TOP_LIMIT_MAX, description="Posts in each list")] = 5,
    platform: PlatformQuery = None,
) -> RankedClipsOut:
    """The best and the worst posts by their latest snapshot, with the clip's sub-scores, caption style, duration,
    title and a link to the post. A post in the top list never appears in the bottom one."""
    column = METRIC_COLUMNS[metric]
    with open_marts(state.warehouse, access.workspace_id) as marts:
        rows = marts.rows(
            f"""
            select * from (
                select
                    *,
                    row_number() over (order by {column} desc, publication_id) as rank_desc,
                    count(*) over () as measured
                from fct_clip_performance
                where {WORKSPACE_FILTER} and {column} is not null and (cast(? as varchar) is null or platform = ?)
            )
            where rank_desc <= ? or rank_desc > measured - ?
            order by rank_desc
            """,
            [platform, platform, limit, limit],
        )
    measured = rows[0]["measured"] if rows else 0
    names = account_names(state, access.workspace_id) if rows else {}
    top = [ranked_clip(row, row["rank_desc"], names) for row in rows if row["rank_desc"] <= limit]
    bottom_rows = [row for row in rows if row["rank_desc"] > max(limit, measured - limit)]
    bottom = [ranked_clip(row, measured - row["rank_desc"] + 1, names) for row in reversed(bottom_rows)]
    return RankedClipsOut(
        workspace_id=access.workspace_id,
        has_data=bool(rows),
        message=marts.empty_message(bool(rows)),
        metric=metric,
        platform=platform,
        measured_posts=measured,
        top=top,
        bottom=bottom,
    )


def ranked_clip(row: dict[str, Any], rank: int, names: dict[str, str]) -> RankedClipOut:
    return RankedClipOut(
        rank=rank,
        publication_id=row["publication_id"],
        clip_id=row["clip_ref"] or row["clip_id"] or "",
        title=row["hook_text"] or "",
        platform=row["platform"],
        account_id=row["account_id"],
        account_name=names.get(row["account_id"], ""),
        post_url=web_link(row["post_url"]),
        published_at=row["published_at"],
        duration_s=row["duration_s"],
        duration_bucket=row["duration_bucket"] or "unknown",
        caption_style=row["caption_style"],
        hook_type=row["hook_type"] or "none",
        posting_hour_local=row["posting_hour_local"],
        score=row["score"],
        sub_scores=SubScoresOut(
            hook=row["score_hook"], flow=row["score_flow"], value=row["score_value"], energy=row["score_energy"]
        ),
        score_quintile=row["score_quintile"],
        views=row["views"],
        likes=row["likes"],
        comments=row["comments"],
        shares=row["shares"],
        saves=row["saves"],
        engagement_rate=row["engagement_rate"],
        days_since_post=row["days_since_post"],
        latest_snapshot_day=row["latest_snapshot_day"],
    )


@router.get("/features", response_model=FeaturesOut)
def features(access: AnalyticsDep, state: StateDep) -> FeaturesOut:
    """How posts perform by duration bucket, hook type, caption style, local posting hour and score quintile:
    posts, measured posts, mean and median engagement rate and views per bucket."""
    with open_marts(state.warehouse, access.workspace_id) as marts:
        rows = marts.rows(
            f"""
            select feature, bucket, posts, measured_posts, mean_engagement_rate, median_engagement_rate,
                   mean_views, median_views
            from performance_by_feature
            where {WORKSPACE_FILTER}
            order by feature, bucket = 'unknown', bucket
            """
        )
    by_feature: dict[str, list[FeatureBucketOut]] = {name: [] for name, _ in FEATURES}
    for row in rows:
        if row["feature"] in by_feature:
            by_feature[row["feature"]].append(FeatureBucketOut(**{k: v for k, v in row.items() if k != "feature"}))
    return FeaturesOut(
        workspace_id=access.workspace_id,
        has_data=bool(rows),
        message=marts.empty_message(bool(rows)),
        features=[FeatureOut(feature=name, label=label, buckets=by_feature[name]) for name, label in FEATURES],
    )


@router.get("/posting-hours", response_model=PostingHoursOut)
def posting_hours(access: AnalyticsDep, state: StateDep) -> PostingHoursOut:
    """Per account, the local posting hours with enough measured posts, ranked by mean engagement rate."""
    with open_marts(state.warehouse, access.workspace_id) as marts:
        rows = marts.rows(
            f"""
            select account_id, platform, posting_hour_local as hour, posts, measured_posts, mean_engagement_rate,
                   mean_views, hour_rank as rank
            from best_posting_hours
            where {WORKSPACE_FILTER}
            order by account_id, hour
            """
        )
    names = account_names(state, access.workspace_id) if rows else {}
    accounts: dict[str, AccountHoursOut] = {}
    for row in rows:
        account = accounts.setdefault(
            row["account_id"],
            AccountHoursOut(
                account_id=row["account_id"],
                account_name=names.get(row["account_id"], ""),
                platform=row["platform"],
                hours=[],
            ),
        )
        account.hours.append(PostingHourOut(**{k: v for k, v in row.items() if k not in ("account_id", "platform")}))
    message = marts.empty_message(bool(rows))
    if not rows and not marts.missing:
        message = f"No ranked hours yet: an hour needs {BEST_HOURS_MIN_POSTS} measured posts on one account."
    return PostingHoursOut(
        workspace_id=access.workspace_id,
        has_data=bool(rows),
        message=message,
        min_posts=BEST_HOURS_MIN_POSTS,
        accounts=sorted(accounts.values(), key=lambda a: (a.platform, a.account_name, a.account_id)),
    )


@router.get("/growth", response_model=GrowthOut)
def growth(access: AnalyticsDep, state: StateDep, start: StartQuery = None, end: EndQuery = None) -> GrowthOut:
    """Per account and for the whole workspace, per day: posts that day and in all, lifetime views, likes and
    interactions as of the day."""
    check_range(start, end)
    in_range = "(cast(? as date) is null or day >= ?) and (cast(? as date) is null or day <= ?)"
    dates = [start, start, end, end]
    with open_marts(state.warehouse, access.workspace_id) as marts:
        account_rows = marts.rows(
            f"""
            select account_id, platform, day, posts, cumulative_posts, cumulative_views, cumulative_likes,
                   cumulative_interactions
            from account_growth
            where {WORKSPACE_FILTER} and {in_range}
            order by account_id, day
            """,
            dates,
        )
        workspace_rows = marts.rows(
            f"""
            select day, accounts, posts, cumulative_posts, cumulative_views, cumulative_likes,
                   cumulative_interactions, measured_posts, mean_engagement_rate
            from workspace_summary
            where {WORKSPACE_FILTER} and {in_range}
            order by day
            """,
            dates,
        )
    names = account_names(state, access.workspace_id) if account_rows else {}
    accounts: dict[str, AccountGrowthOut] = {}
    for row in account_rows:
        account = accounts.setdefault(
            row["account_id"],
            AccountGrowthOut(
                account_id=row["account_id"],
                account_name=names.get(row["account_id"], ""),
                platform=row["platform"],
                series=[],
            ),
        )
        account.series.append(GrowthDayOut(**{k: v for k, v in row.items() if k not in ("account_id", "platform")}))
    has_data = bool(account_rows or workspace_rows)
    return GrowthOut(
        workspace_id=access.workspace_id,
        has_data=has_data,
        message=marts.empty_message(has_data),
        start=start,
        end=end,
        accounts=sorted(accounts.values(), key=lambda a: (a.platform, a.account_name, a.account_id)),
        workspace=[WorkspaceDayOut(**row) for row in workspace_rows],
    )


@router.get("/ranking-weights", response_model=RankingWeightsOut)
def ranking_weights(access: AnalyticsDep, state: StateDep) -> RankingWeightsOut:
    """The weights the selector ranks this workspace's clips with now, and every fit (accepted or not) with its
    held-out scores against the weights in use at the time, newest first, down to the built-in defaults."""
    workspace_id = access.workspace_id
    storage = WorkspaceStorage(state.storage, workspace_id)
    current = read_latest_weights(storage, workspace_id)
    fits: list[RankingWeights] = []
    for version in reversed(list_versions(storage, workspace_id)):
        try:
            fits.append(read_version(storage, workspace_id, version))
        except (OSError, ValueError, ValidationError) as exc:  # one unreadable file must not hide the others
            log.warning("analytics: ranking weights v%s of %s are unreadable: %s", version, workspace_id, exc)
    defaults = default_weights(workspace_id)
    history = [weights_version(fit, current) for fit in [*fits, defaults]]
    return RankingWeightsOut(
        workspace_id=workspace_id,
        has_data=bool(fits),
        message="" if fits else NO_FITS,
        sub_scores=list(SUB_SCORES),
        current=weights_version(current, current),
        defaults=defaults.weights,
        history=history,
    )


def weights_version(weights: RankingWeights, current: RankingWeights) -> WeightsVersionOut:
    metrics = weights.metrics
    judged = "spearman_new" in metrics
    return WeightsVersionOut(
        version=weights.version,
        accepted=weights.accepted,
        in_use=weights.version == current.version,
        fitted_at=weights.fitted_at,
        n_posts=weights.n_posts,
        reason=weights.reason,
        based_on_version=weights.based_on_version,
        weights=weights.weights,
        duration_terms=weights.duration_terms,
        held_out=HeldOutOut(
            posts=int(metrics["n_held_out"]) if "n_held_out" in metrics else None,
            spearman_current=metrics.get("spearman_current"),
            spearman_new=metrics.get("spearman_new"),
            ndcg_current=metrics.get("ndcg_current"),
            ndcg_new=metrics.get("ndcg_new"),
        )
        if judged
        else None,
    )
