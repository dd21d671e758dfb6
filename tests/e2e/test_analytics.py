"""The analytics dashboard in headless Chromium against the real API (its own process): a viewer of a workspace
whose warehouse holds a week of posts opens Analytics and sees every chart drawn with data (Chart.js, served by the
app), the clip tables and the ranking weights' history; filters and the ranking metric redraw; a workspace without
data says so; the page works at 360 px. Screenshots under test-artifacts/analytics-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from clipped.learn.versions import record_fit
from clipped.learn.weights import RankingWeights
from clipped.publish.records import Account as PlatformAccount
from clipped_resources.publishing_store import SqlPublishingStore
from clipped_resources.storage import LocalStorage
from tests.api.conftest import PASSWORD
from tests.api.world import analytics_rows, build_warehouse
from tests.e2e.a11y import assert_accessible, horizontal_overflow
from tests.e2e.conftest import ARTIFACTS, ApiServer, serve_api
from tests.e2e.users import join, register

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}
# engagement, five features, one account's posting hours, growth, weights
CHARTS = 9


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    with serve_api(tmp_path) as api_server:
        yield api_server


def screenshot(page: Page, name: str) -> None:
    """A full-page capture with the sticky status bar in the flow. Set through the CSSOM: the app's CSP refuses
    inline style sheets (Playwright's ``style=`` option injects one), and this test counts CSP violations."""
    ARTIFACTS.mkdir(exist_ok=True)
    unstick = "(position) => document.querySelector('.status-bar').style.position = position"
    page.evaluate(unstick, "static")
    page.screenshot(path=str(ARTIFACTS / f"analytics-{name}.png"), full_page=True)
    page.evaluate(unstick, "")


def seed_analytics(server: ApiServer, workspace_id: str) -> None:
    """Two connected accounts, a warehouse with a week of their posts, and two fits of the ranking weights."""
    store = SqlPublishingStore(f"sqlite:///{server.home / 'app.db'}")
    accounts = {}
    for platform, name in (("tiktok", "Clipped Creator"), ("x", "@clipped_test")):
        account = store.save_account(
            PlatformAccount(
                workspace_id=workspace_id,
                platform=platform,
                platform_account_id=f"{platform}-1",
                display_name=name,
                sealed_grant="placeholder",
            )
        )
        accounts[platform] = account.id
    build_warehouse(server.home / "warehouse.duckdb", *analytics_rows(workspace_id, accounts))
    storage = LocalStorage(root=str(server.home / "storage"))
    at = datetime(2026, 3, 8, 3, tzinfo=UTC)
    record_fit(
        storage,
        RankingWeights(
            workspace_id=workspace_id,
            weights={"hook": 0.2, "flow": 0.2, "value": 0.2, "energy": 0.4},
            fitted_at=at,
            n_posts=31,
            accepted=False,
            reason="held-out Spearman 0.400 vs current 0.390: not better by 0.02",
            based_on_version=0,
            metrics={
                "n_held_out": 8,
                "spearman_current": 0.39,
                "spearman_new": 0.40,
                "ndcg_current": 0.8,
                "ndcg_new": 0.79,
            },
        ),
    )
    record_fit(
        storage,
        RankingWeights(
            workspace_id=workspace_id,
            weights={"hook": 0.12, "flow": 0.18, "value": 0.2, "energy": 0.5},
            duration_terms={"15-30s": 0.05},
            fitted_at=at.replace(day=9),
            n_posts=60,
            accepted=True,
            reason="held-out Spearman 0.390 -> 0.610, NDCG 0.800 -> 0.910",
            based_on_version=0,
            metrics={
                "n_held_out": 15,
                "spearman_current": 0.39,
                "spearman_new": 0.61,
                "ndcg_current": 0.8,
                "ndcg_new": 0.91,
            },
        ),
    )


def sign_in(page: Page, server: ApiServer, email: str) -> None:
    page.goto(f"{server.base_url}/#/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()


def open_analytics(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_focused()
    expect(page.locator("main[data-analytics-ready=true]")).to_be_attached(timeout=30_000)


def drawn_charts(page: Page) -> list[dict]:
    """Each canvas: its name, whether Chart.js drew a chart with numbers on it, and how many pixels are painted."""
    return page.evaluate(
        """() => [...document.querySelectorAll('main canvas')].map((canvas) => {
          const chart = Chart.getChart(canvas);
          const values = chart ? chart.data.datasets.flatMap((d) => d.data).filter((v) => Number.isFinite(v)) : [];
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let painted = 0;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
          return {name: canvas.dataset.chart, values: values.length, painted, label: canvas.getAttribute('aria-label'),
                  role: canvas.getAttribute('role'), width: canvas.getBoundingClientRect().width};
        })"""
    )


def chart_data(page: Page, name: str) -> list[list[float | None]]:
    """The numbers each dataset of the chart named ``name`` draws."""
    return page.evaluate(
        """(name) => Chart.getChart(document.querySelector(`canvas[data-chart='${name}']`))
                     .data.datasets.map((d) => d.data)""",
        name,
    )


def test_viewer_reads_the_dashboard(server: ApiServer, browser: Browser) -> None:
    for stale in ARTIFACTS.glob("analytics-*"):
        stale.unlink()
    owner = register(server, "owner@example.com", "Olive Owner")
    viewer = register(server, "viewer@example.com", "Vic Viewer")
    join(server, owner, viewer, "viewer")
    seed_analytics(server, owner["workspace"]["id"])

    context = browser.new_context(viewport=DESKTOP, locale="en-US", reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Console errors too: a chart library that needed inline styles or eval would show CSP violations here.
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        sign_in(page, server, "viewer@example.com")
        # The viewer's own workspace has no data yet: every section says so, and nothing fails.
        open_analytics(page)
        expect(page.locator("#analytics-summary .no-data")).to_contain_text("No data yet")
        expect(page.locator("#analytics-weights .no-data")).to_contain_text("built-in defaults")
        expect(page.locator(".error-box")).to_be_hidden()
        assert_accessible(page, "analytics without data")
        screenshot(page, "empty")

        queue_link = page.locator('#nav a[data-nav="queue"]')
        accounts_link = page.locator('#nav a[data-nav="accounts"]')
        expect(queue_link).to_be_visible()  # their own workspace: they own it
        page.get_by_label("Workspace").select_option(label="Olive Owner's workspace (viewer)")
        # The seed's role table gives viewers no Publish access: the menu drops Queue and Accounts there.
        expect(queue_link).to_be_hidden()
        expect(accounts_link).to_be_hidden()
        open_analytics(page)
        _sees_every_chart_and_table(page)
        assert_accessible(page, "analytics")
        screenshot(page, "desktop")
        _filters_and_ranking_redraw(page)
        _phone_width(page)
        page.goto(f"{server.base_url}/#/queue")  # by its address: a clear "no access", no request refused
        expect(page.locator("main .no-access")).to_contain_text("editors and admins")
    except Exception:
        screenshot(page, "failure")
        raise
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
    # The chart library came from the app itself, not a CDN.
    assert any(url.endswith("/vendor/chart.umd.min.js") for url in requested)
    assert all(url.startswith((server.base_url, "data:")) for url in requested), requested
    # The dashboard reads the marts through the analytics routes, never a publishing route (viewers get 403 there).
    api_calls = [url.removeprefix(server.base_url) for url in requested if url.startswith(f"{server.base_url}/api/")]
    assert any(call.startswith("/api/workspaces/") and "/analytics/" in call for call in api_calls), api_calls
    assert not [call for call in api_calls if "/publications" in call or "/accounts" in call], api_calls


def _sees_every_chart_and_table(page: Page) -> None:
    summary = page.locator("#analytics-summary .stats")
    expect(summary).to_contain_text("7,225")  # lifetime views of the week's posts
    expect(summary).to_contain_text("Posts9")
    page.wait_for_function(
        f"() => document.querySelectorAll('main canvas').length === {CHARTS} && "
        "[...document.querySelectorAll('main canvas')].every((c) => Chart.getChart(c))"
    )
    charts = drawn_charts(page)
    names = sorted(chart["name"] for chart in charts)
    assert names == sorted(
        ["engagement", "growth", "posting-hours", "weights"]
        + [f"feature-{f}" for f in ("duration", "hook_type", "caption_style", "posting_hour", "score_quintile")]
    ), names
    for chart in charts:
        assert chart["values"] > 0 and chart["painted"] > 500, chart
        assert chart["role"] == "img" and len(chart["label"]) > 40, chart
    # Engagement: seven days; day 1 gained 770 views (three posts up), the last day 1,115.
    views_gained = chart_data(page, "engagement")[0]
    assert len(views_gained) == 7 and views_gained[0] == 770 and views_gained[-1] == 1115
    assert "most views on Mar 4 (1,115)" in page.locator("canvas[data-chart=engagement]").get_attribute("aria-label")

    top = page.locator("table.top-clips tbody tr")
    expect(top).to_have_count(5)
    expect(top.first).to_contain_text("Why does nobody cut like this?")
    expect(top.first).to_contain_text("2,800")
    # The clip's selector score, then its hook, flow, value and energy sub-scores, out of 100.
    header = [text.strip() for text in page.locator("table.top-clips thead th").all_inner_texts()]
    cells = [text.strip() for text in top.first.locator("th, td").all_inner_texts()]
    scores_at = header.index("Score")
    assert header[scores_at : scores_at + 5] == ["Score", "Hook", "Flow", "Value", "Energy"], header
    assert cells[scores_at : scores_at + 5] == ["82", "92", "70", "80", "85"], cells
    expect(top.first.get_by_role("link", name="Why does nobody cut like this?", exact=True)).to_have_attribute(
        "href", "#/clips/clip-p1"
    )
    expect(
        top.first.get_by_role("link", name="Open the TikTok post of Why does nobody cut like this?")
    ).to_have_attribute("href", "https://example.com/tiktok/p1")
    bottom = page.locator("table.bottom-clips tbody tr")
    expect(bottom).to_have_count(3)  # eight measured posts: five on top, the other three here, worst first
    expect(bottom.first).to_contain_text("Stop doing this!")

    hours = page.locator("#analytics-hours")
    expect(hours).to_contain_text("TikTok · Clipped Creator")
    expect(page.locator("#analytics-growth")).to_contain_text("@clipped_test")
    history = page.locator("table.weights-history tbody tr")
    expect(history).to_have_count(3)
    expect(history.nth(0)).to_contain_text("v2")
    expect(history.nth(0)).to_contain_text("in use")
    expect(history.nth(0)).to_contain_text("0.39 → 0.61")
    expect(history.nth(1)).to_contain_text("not accepted")
    assert chart_data(page, "weights") == [[0.12, 0.18, 0.2, 0.5], [0.3, 0.25, 0.25, 0.2]]

    # The numbers behind a chart, as a table.
    engagement = page.locator("#analytics-engagement")
    engagement.get_by_text("Show as table").click()
    rows = engagement.locator("details table tbody tr")
    expect(rows).to_have_count(7)
    expect(rows.first).to_contain_text("770")


def _filters_and_ranking_redraw(page: Page) -> None:
    engagement = page.locator("#analytics-engagement")
    engagement.get_by_label("Platform").select_option(label="X")
    engagement.get_by_label("From").fill("2026-03-02")
    engagement.get_by_role("button", name="Apply").click()
    page.wait_for_function(
        "() => { const c = document.querySelector(\"canvas[data-chart='engagement']\");"
        " return c && Chart.getChart(c) && Chart.getChart(c).data.labels.length === 6; }"
    )
    assert chart_data(page, "engagement")[0][0] == 120  # X's one post gained 120 views on Mar 2

    clips = page.locator("#analytics-clips")
    clips.get_by_label("Rank by").select_option(label="Engagement rate")
    expect(clips.locator("h3").first).to_have_text("Top clips by engagement rate")
    expect(clips.locator("table.top-clips tbody tr")).to_have_count(5)
    screenshot(page, "filtered")


def _phone_width(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("main[data-analytics-ready=true]")).to_be_attached(timeout=30_000)
    page.wait_for_function(
        f"() => [...document.querySelectorAll('main canvas')].filter((c) => Chart.getChart(c)).length === {CHARTS}"
    )
    assert horizontal_overflow(page) == 0
    for chart in drawn_charts(page):
        assert 0 < chart["width"] <= PHONE["width"], chart
    assert_accessible(page, "analytics at 360 px")
    screenshot(page, "phone")
