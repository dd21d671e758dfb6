"""The analytics routes over a warehouse built from dbt_analytics' own SQL (tests/api/world.py `build_warehouse`):
values and shapes, workspace isolation, viewer access, the ranking weights' history, and the answers without data."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from api.routes.analytics import BEST_HOURS_MIN_POSTS, NO_FITS, NO_POSTS, NO_WAREHOUSE, MartReader
from clipped.learn.versions import record_fit
from clipped.learn.weights import RankingWeights
from clipped.publish.records import Account as PlatformAccount
from clipped_resources.warehouse import DBT_PROJECT_DIR
from tests.api.conftest import Account, ApiHarness
from tests.api.members import add_member
from tests.api.world import WAREHOUSE_MODELS, analytics_rows, build_warehouse

VIEWS = ("summary", "engagement", "clips", "features", "posting-hours", "growth", "ranking-weights")
TOTAL_VIEWS = 2800 + 1750 + 900 + 240 + 840 + 75 + 300 + 320  # every post's views on the last day (p9: none)


def warehouse_path(api: ApiHarness) -> Path:
    """Where the app's warehouse resource looks (CLIPPED_HOME/warehouse.duckdb in the local profile)."""
    return Path(api.state.warehouse.database_path)


def connect_accounts(api: ApiHarness, workspace_id: str) -> dict[str, str]:
    """A TikTok and an X account in the publishing store (the marts only know their ids); platform -> id."""
    api.home.mkdir(parents=True, exist_ok=True)
    store = api.state.publisher.store()
    ids = {}
    for platform, name in (("tiktok", "Clipped on TikTok"), ("x", "@clipped")):
        account = store.save_account(
            PlatformAccount(
                workspace_id=workspace_id,
                platform=platform,
                platform_account_id=f"{platform}-{workspace_id}",
                display_name=name,
                sealed_grant="placeholder",
            )
        )
        ids[platform] = account.id
    return ids


def get(api: ApiHarness, who: Account, workspace_id: str, view: str, **params) -> dict:
    response = api.client.get(f"/api/workspaces/{workspace_id}/analytics/{view}", headers=who.headers, params=params)
    assert response.status_code == 200, (view, response.text)
    return response.json()


@pytest.fixture
def two_workspaces(sqlite_api: ApiHarness) -> tuple[Account, Account, dict[str, str]]:
    """Owners A and B with the same posts (B's ids prefixed) in one warehouse; A's account ids."""
    a, b = sqlite_api.register(), sqlite_api.register()
    a_accounts = connect_accounts(sqlite_api, a.workspace_id)
    a_snapshots, a_publications = analytics_rows(a.workspace_id, a_accounts, clip_ids={"p1": "clip_one"})
    b_snapshots, b_publications = analytics_rows(b.workspace_id, {"tiktok": "b-tt", "x": "b-x"}, prefix="b-")
    # B posted only to X.
    b_snapshots = [row for row in b_snapshots if row["platform"] == "x"]
    b_publications = [row for row in b_publications if row["platform"] == "x"]
    build_warehouse(warehouse_path(sqlite_api), a_snapshots + b_snapshots, a_publications + b_publications)
    return a, b, a_accounts


def test_summary_and_engagement_over_time(sqlite_api: ApiHarness, two_workspaces) -> None:
    api, (a, _, _) = sqlite_api, two_workspaces
    ws = a.workspace_id
    summary = get(api, a, ws, "summary")
    assert summary["has_data"] and summary["message"] == ""
    assert summary["data_as_of"] == "2026-03-07"
    assert (summary["accounts"], summary["posts"], summary["measured_posts"]) == (2, 9, 9)
    assert summary["views"] == TOTAL_VIEWS

    engagement = get(api, a, ws, "engagement")
    assert engagement["platforms"] == ["tiktok", "x"]
    days = {day["day"]: day for day in engagement["series"]}
    assert list(days) == [f"2026-03-0{n}" for n in range(1, 8)]
    # Day 1: p1, p2 and p5 are up; day 2 adds p3 and p4; each post gains its daily views every day.
    assert (days["2026-03-01"]["posts"], days["2026-03-01"]["views"], days["2026-03-01"]["views_gained"]) == (
        3,
        770,
        770,
    )
    assert (days["2026-03-02"]["views"], days["2026-03-02"]["views_gained"]) == (1730, 400 + 250 + 150 + 40 + 120)
    first = days["2026-03-01"]
    assert first["engagement_rate"] == pytest.approx(first["interactions"] / first["views"])
    assert days["2026-03-07"]["views"] == TOTAL_VIEWS

    x_only = get(api, a, ws, "engagement", platform="x")
    assert x_only["platform"] == "x" and x_only["series"][0]["views"] == 120
    # A range keeps each post's gains against its snapshot before the range, not its lifetime total.
    ranged = get(api, a, ws, "engagement", start="2026-03-02", end="2026-03-03")
    assert [day["day"] for day in ranged["series"]] == ["2026-03-02", "2026-03-03"]
    assert ranged["series"][0]["views_gained"] == 960
    nothing = get(api, a, ws, "engagement", start="2027-01-01")
    assert not nothing["has_data"] and nothing["series"] == [] and nothing["message"]


def test_top_and_bottom_clips(sqlite_api: ApiHarness, two_workspaces) -> None:
    api, (a, _, accounts) = sqlite_api, two_workspaces
    ranked = get(api, a, a.workspace_id, "clips", limit=2)
    assert ranked["metric"] == "views" and ranked["measured_posts"] == 8  # p9 has no views
    assert [(c["rank"], c["publication_id"], c["views"]) for c in ranked["top"]] == [(1, "p1", 2800), (2, "p2", 1750)]
    assert [(c["rank"], c["publication_id"], c["views"]) for c in ranked["bottom"]] == [(1, "p6", 75), (2, "p4", 240)]
    best = ranked["top"][0]
    assert best["clip_id"] == "clip_one" and best["title"] == "Why does nobody cut like this?"
    assert best["sub_scores"] == {"hook": 0.92, "flow": 0.70, "value": 0.80, "energy": 0.85}
    assert (best["caption_style"], best["duration_s"], best["duration_bucket"]) == ("karaoke", 22.0, "15-30s")
    assert (best["hook_type"], best["posting_hour_local"], best["platform"]) == ("question", 18, "tiktok")
    assert best["account_id"] == accounts["tiktok"] and best["account_name"] == "Clipped on TikTok"
    assert best["post_url"] == "https://example.com/tiktok/p1" and best["latest_snapshot_day"] == "2026-03-07"

    by_rate = get(api, a, a.workspace_id, "clips", metric="engagement_rate", limit=3)
    rates = [c["engagement_rate"] for c in by_rate["top"]] + [c["engagement_rate"] for c in reversed(by_rate["bottom"])]
    assert rates == sorted(rates, reverse=True)
    # Fewer posts than both lists hold: every post once, none in both.
    everything = get(api, a, a.workspace_id, "clips", limit=50)
    assert len(everything["top"]) == 8 and everything["bottom"] == []
    x_posts = get(api, a, a.workspace_id, "clips", platform="x", limit=1)
    assert [c["publication_id"] for c in x_posts["top"] + x_posts["bottom"]] == ["p5", "p6"]


def test_features_hours_and_growth(sqlite_api: ApiHarness, two_workspaces) -> None:
    api, (a, _, accounts) = sqlite_api, two_workspaces
    ws = a.workspace_id
    features = {f["feature"]: f for f in get(api, a, ws, "features")["features"]}
    assert list(features) == ["duration", "hook_type", "caption_style", "posting_hour", "score_quintile"]
    assert [b["bucket"] for b in features["duration"]["buckets"]] == ["15-30s", "30-45s", "45-60s", "60s+"]
    assert [b["bucket"] for b in features["posting_hour"]["buckets"]] == ["09", "12", "18"]
    karaoke = next(b for b in features["caption_style"]["buckets"] if b["bucket"] == "karaoke")
    assert (karaoke["posts"], karaoke["measured_posts"]) == (3, 2)  # p9's views are not reported
    assert features["hook_type"]["label"] == "Hook type"

    hours = get(api, a, ws, "posting-hours")
    assert hours["min_posts"] == BEST_HOURS_MIN_POSTS
    [tiktok] = hours["accounts"]  # the X account has no hour with 3 measured posts
    assert (tiktok["account_id"], tiktok["account_name"]) == (accounts["tiktok"], "Clipped on TikTok")
    assert [(h["hour"], h["rank"], h["measured_posts"]) for h in tiktok["hours"]] == [(9, 2, 3), (18, 1, 3)]

    growth = get(api, a, ws, "growth")
    by_account = {g["account_name"]: g for g in growth["accounts"]}
    assert set(by_account) == {"Clipped on TikTok", "@clipped"}
    assert by_account["Clipped on TikTok"]["series"][-1]["cumulative_views"] == 2800 + 1750 + 900 + 240 + 300 + 320
    assert len(growth["workspace"]) == 7 and growth["workspace"][-1]["cumulative_views"] == TOTAL_VIEWS
    assert growth["workspace"][-1]["cumulative_posts"] == 9
    ranged = get(api, a, ws, "growth", start="2026-03-06")
    assert [day["day"] for day in ranged["workspace"]] == ["2026-03-06", "2026-03-07"]


def test_workspaces_see_only_their_own_marts(sqlite_api: ApiHarness, two_workspaces) -> None:
    api, (a, b, _) = sqlite_api, two_workspaces
    # B's warehouse rows are its X posts: its numbers, never A's (the same file holds both).
    b_summary = get(api, b, b.workspace_id, "summary")
    assert b_summary["views"] == 840 + 75 and b_summary["posts"] == 3
    b_clips = get(api, b, b.workspace_id, "clips", limit=50)
    assert {c["publication_id"] for c in b_clips["top"]} == {"b-p5", "b-p6"}
    assert get(api, b, b.workspace_id, "posting-hours")["accounts"] == []
    assert get(api, a, a.workspace_id, "summary")["views"] == TOTAL_VIEWS
    for view in VIEWS:
        response = api.client.get(f"/api/workspaces/{a.workspace_id}/analytics/{view}", headers=b.headers)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", view
        assert "p1" not in response.text


def test_viewers_read_the_dashboard(sqlite_api: ApiHarness, two_workspaces) -> None:
    api, (a, _, _) = sqlite_api, two_workspaces
    viewer = api.register()
    add_member(api, a, a.workspace_id, viewer, "viewer")
    for view in VIEWS:
        assert get(api, viewer, a.workspace_id, view)["workspace_id"] == a.workspace_id
    assert get(api, viewer, a.workspace_id, "summary")["views"] == TOTAL_VIEWS
    assert api.client.get(f"/api/workspaces/{a.workspace_id}/analytics/summary").status_code == 401


def test_no_warehouse_yet_is_empty_not_an_error(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    owner = api.register()
    assert not warehouse_path(api).exists()
    answers = {view: get(api, owner, owner.workspace_id, view) for view in VIEWS}
    for view, body in answers.items():
        assert body["has_data"] is False and body["message"], view
    assert answers["summary"]["message"] == NO_WAREHOUSE and answers["summary"]["data_as_of"] is None
    assert answers["engagement"]["series"] == [] and answers["engagement"]["platforms"] == []
    assert answers["clips"]["top"] == [] and answers["clips"]["bottom"] == []
    assert [f["buckets"] for f in answers["features"]["features"]] == [[]] * 5
    assert answers["posting-hours"]["accounts"] == [] and answers["growth"]["workspace"] == []
    assert answers["ranking-weights"]["message"] == NO_FITS
    assert [v["version"] for v in answers["ranking-weights"]["history"]] == [0]

    # Built, but nothing of this workspace measured yet (another workspace's posts are there).
    snapshots, publications = analytics_rows("ws_other", {"tiktok": "t", "x": "x"})
    build_warehouse(warehouse_path(api), snapshots, publications)
    for view in VIEWS[:-1]:
        body = get(api, owner, owner.workspace_id, view)
        assert body["has_data"] is False, view
    assert get(api, owner, owner.workspace_id, "summary")["message"] == NO_POSTS

    # A build that stopped before the marts (a failed dbt test upstream): no mart is still no data.
    build_warehouse(warehouse_path(api), snapshots, publications, models=WAREHOUSE_MODELS[:3])
    for view in VIEWS:
        assert get(api, owner, owner.workspace_id, view)["has_data"] is False, view
    assert get(api, owner, owner.workspace_id, "features")["message"] == NO_WAREHOUSE


def test_ranking_weights_with_history(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    owner = api.register()
    ws = owner.workspace_id
    storage = api.state.storage
    at = datetime(2026, 3, 8, 3, tzinfo=UTC)
    too_few = RankingWeights(workspace_id=ws, fitted_at=at, n_posts=12, accepted=False, reason="12 posts < 30")
    better = RankingWeights(
        workspace_id=ws,
        weights={"hook": 0.15, "flow": 0.2, "value": 0.2, "energy": 0.45},
        duration_terms={"15-30s": 0.04},
        fitted_at=at,
        n_posts=60,
        accepted=True,
        reason="held-out Spearman 0.41 -> 0.62",
        based_on_version=0,
        metrics={
            "n_held_out": 15.0,
            "spearman_current": 0.41,
            "spearman_new": 0.62,
            "ndcg_current": 0.8,
            "ndcg_new": 0.9,
        },
    )
    not_better = better.model_copy(
        update={
            "weights": {"hook": 0.25, "flow": 0.25, "value": 0.25, "energy": 0.25},
            "accepted": False,
            "reason": "not better by 0.02",
            "based_on_version": 2,
            "metrics": {**better.metrics, "spearman_current": 0.62, "spearman_new": 0.61},
        }
    )
    for fit in (too_few, better, not_better):
        record_fit(storage, fit)
    body = get(api, owner, ws, "ranking-weights")
    assert body["has_data"] and body["sub_scores"] == ["hook", "flow", "value", "energy"]
    assert body["defaults"] == {"hook": 0.3, "flow": 0.25, "value": 0.25, "energy": 0.2}
    current = body["current"]
    assert (current["version"], current["in_use"], current["weights"]["energy"]) == (2, True, 0.45)
    assert current["duration_terms"] == {"15-30s": 0.04}
    history = body["history"]
    assert [(v["version"], v["accepted"], v["in_use"]) for v in history] == [
        (3, False, False),
        (2, True, True),
        (1, False, False),
        (0, True, False),
    ]
    assert history[0]["held_out"] == {
        "posts": 15,
        "spearman_current": 0.62,
        "spearman_new": 0.61,
        "ndcg_current": 0.8,
        "ndcg_new": 0.9,
    }
    assert history[2]["held_out"] is None and history[2]["reason"] == "12 posts < 30"
    # Another workspace's weights never show.
    other = api.register()
    assert get(api, other, other.workspace_id, "ranking-weights")["history"][0]["version"] == 0


def test_bad_parameters_are_422(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    owner = api.register()
    base = f"/api/workspaces/{owner.workspace_id}/analytics"
    for path in (
        "/engagement?start=2026-03-05&end=2026-03-01",
        "/growth?start=2026-03-05&end=2026-03-01",
        "/engagement?platform=myspace",
        "/engagement?start=yesterday",
        "/clips?limit=0",
        "/clips?limit=51",
        "/clips?metric=score;drop table fct_clip_performance",
    ):
        response = api.client.get(base + path, headers=owner.headers)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"]["code"] == "validation_error"


def test_a_build_holding_the_lock_is_503(sqlite_api: ApiHarness, two_workspaces) -> None:
    api, (a, _, _) = sqlite_api, two_workspaces
    path = warehouse_path(api)
    api.state.warehouse = api.state.warehouse.model_copy(update={"lock_wait_s": 0.3})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        response = api.client.get(f"/api/workspaces/{a.workspace_id}/analytics/summary", headers=a.headers)
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "warehouse_busy" and response.headers["Retry-After"]
    finally:
        holder.kill()
        holder.wait()
    assert get(api, a, a.workspace_id, "summary")["has_data"]


def test_every_query_names_the_workspace_filter() -> None:
    reader = MartReader(None, "ws_a")
    for sql in (
        "select * from fct_clip_performance",
        "select * from fct_clip_performance where platform = ? and workspace_id = ?",  # would bind the id to platform
    ):
        with pytest.raises(ValueError, match="filters by the caller's workspace"):
            reader.rows(sql)
    assert reader.rows("select * from fct_clip_performance where workspace_id = ?") == []


def test_best_hours_minimum_matches_the_dbt_project() -> None:
    variables = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert variables["best_hours_min_posts"] == BEST_HOURS_MIN_POSTS
