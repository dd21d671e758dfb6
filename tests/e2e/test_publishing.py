"""Publishing in the web app, in headless Chromium against the real API (its own process) and the local fake TikTok
and X: an admin connects a TikTok and an X account through the platforms' consent pages (and reconnects one that
needs it), an editor approves a clip, schedules it to both accounts, clicks Publish now on both in the queue, and
sees both posted with links, then a failed post with its reason, a retry with its error and a rate-limited account.
Screenshots under test-artifacts/web-publishing-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from clipped.publish.records import Account as PlatformAccount
from clipped_resources.publishing_store import SqlPublishingStore
from clipped_resources.storage import LocalStorage
from tests.api.conftest import PASSWORD, fake_platform_env, make_test_video
from tests.api.world import FAKE_JPEG, add_clip, add_finished_job
from tests.e2e.a11y import assert_accessible, horizontal_overflow
from tests.e2e.conftest import ARTIFACTS, ApiServer, serve_api
from tests.e2e.users import join, register
from tests.support.fake_tiktok import FakeTikTok, fake_tiktok_fixture  # noqa: F401  (provides fake_tiktok)
from tests.support.fake_x import FakeX, fake_x_fixture  # noqa: F401  (provides fake_x)
from tests.support.ports import free_port

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}
PUBLISH_TIMEOUT_MS = 240_000  # two publication_job runs, one after the other, each a fresh Python process


@pytest.fixture
def server(tmp_path: Path, fake_tiktok: FakeTikTok, fake_x: FakeX) -> Iterator[ApiServer]:
    """The review API with TikTok and X set up against the fakes (callbacks come back to its own port)."""
    port = free_port()
    env = fake_platform_env(f"http://127.0.0.1:{port}", tiktok=fake_tiktok, x=fake_x)
    with serve_api(tmp_path, env, port=port) as api_server:
        yield api_server


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"web-publishing-{name}.png"
    page.screenshot(path=str(path), full_page=True, style=".status-bar{position:static}")


def seed_clip(server: ApiServer, owner: dict, video: Path) -> str:
    """A finished job with one proposed clip (the rendered video is a small real MP4) in the owner's workspace,
    written the way the pipeline leaves it; the clip's id."""
    ws, user_id = owner["workspace"]["id"], owner["user"]["id"]
    storage = LocalStorage(root=str(server.home / "storage"))
    folder = f"{ws}/clips/talk-0123456789-01"
    storage.write_bytes(f"{folder}/clip.mp4", video.read_bytes())
    storage.write_bytes(f"{folder}/thumbnail.jpg", FAKE_JPEG)
    engine = create_engine(f"sqlite:///{server.home / 'app.db'}")
    try:
        with Session(engine) as session:
            job = add_finished_job(session, ws, user_id, "talk-0123456789", "talk.mp4")
            clip = add_clip(
                session,
                job.id,
                ws,
                "talk-0123456789-01",
                video_key=f"{folder}/clip.mp4",
                thumbnail_key=f"{folder}/thumbnail.jpg",
                title="Why short clips work",
            )
            clip.end_s, clip.description, clip.hashtags = 2.0, "The one idea worth sharing", ["talks", "clipped"]
            session.commit()
            return clip.id
    finally:
        engine.dispose()


def sign_in(page: Page, server: ApiServer, email: str) -> None:
    page.goto(f"{server.base_url}/#/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()


def test_connect_schedule_and_publish_now(
    server: ApiServer, browser: Browser, fake_tiktok: FakeTikTok, fake_x: FakeX, tmp_path: Path
) -> None:
    for stale in ARTIFACTS.glob("web-publishing-*"):
        stale.unlink()
    owner = register(server, "owner@example.com", "Olive Owner")
    editor = register(server, "editor@example.com", "Eddie Editor")
    join(server, owner, editor, "editor")
    clip_id = seed_clip(server, owner, make_test_video(tmp_path / "clip.mp4"))

    admin_context = browser.new_context(viewport=DESKTOP)
    page = admin_context.new_page()
    urls_seen: list[str] = []
    page.on("request", lambda request: urls_seen.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        _admin_connects_tiktok_and_x(page, server)
        _admin_reconnects_an_account_that_needs_it(page, server, owner)
    except Exception:
        screenshot(page, "failure-admin")
        raise
    finally:
        admin_context.close()

    editor_context = browser.new_context(viewport=DESKTOP)
    page = editor_context.new_page()
    page.on("request", lambda request: urls_seen.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, server, "editor@example.com")
        page.get_by_label("Workspace").select_option(label="Olive Owner's workspace (editor)")
        _editor_approves_and_schedules(page, server, clip_id)
        _editor_publishes_both_now(page, fake_tiktok, fake_x)
        _editor_sees_failures_retries_and_rate_limits(page, server, owner)
        _phone_width(page, server, clip_id)
    except Exception:
        screenshot(page, "failure-editor")
        raise
    finally:
        editor_context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
    # No token of any platform ever reached the browser: not in a URL it opened.
    tokens = [g.access_token for g in fake_tiktok.grants] + [g.access_token for g in fake_x.grants]
    assert tokens and not [url for url in urls_seen if any(token in url for token in tokens)]
    assert editor["user"]["id"]


def _admin_connects_tiktok_and_x(page: Page, server: ApiServer) -> None:
    sign_in(page, server, "owner@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_focused()
    expect(page.locator(".account-list .empty")).to_be_visible()
    assert_accessible(page, "accounts, none connected")

    page.get_by_role("button", name="Connect TikTok").click()
    # The platform's consent page sends the browser back through the API's callback to the accounts page.
    expect(page).to_have_url(re.compile(r"#/accounts\?connected=tiktok$"), timeout=30_000)
    tiktok = page.locator('.account-card[data-platform="tiktok"]')
    expect(tiktok).to_contain_text("Clipped Creator")
    expect(tiktok.locator(".badge")).to_have_text("active")
    expect(page.locator("#status")).to_contain_text("TikTok account connected")

    page.get_by_role("button", name="Connect X").click()
    expect(page).to_have_url(re.compile(r"#/accounts\?connected=x$"), timeout=30_000)
    x = page.locator('.account-card[data-platform="x"]')
    expect(x).to_contain_text("@clipped_test")
    expect(x.locator(".badge")).to_have_text("active")
    expect(page.get_by_role("alert")).to_be_hidden()
    assert_accessible(page, "accounts, two connected")
    screenshot(page, "accounts")


def _admin_reconnects_an_account_that_needs_it(page: Page, server: ApiServer, owner: dict) -> None:
    """A revoked grant marks the account; its card says so and Reconnect brings it back to active."""
    store = SqlPublishingStore(f"sqlite:///{server.home / 'app.db'}")
    [account] = [a for a in store.list_accounts(owner["workspace"]["id"]) if a.platform == "tiktok"]
    marked: PlatformAccount = account.model_copy(
        update={"health": "needs_reconnect", "health_detail": "TikTok token refresh: HTTP 400 (invalid_grant)"}
    )
    store.save_account(marked)
    page.reload()
    tiktok = page.locator('.account-card[data-platform="tiktok"]')
    expect(tiktok.locator(".badge")).to_have_text("needs reconnect")
    expect(tiktok).to_contain_text("invalid_grant")
    screenshot(page, "accounts-needs-reconnect")
    tiktok.get_by_role("button", name="Reconnect").click()
    expect(page).to_have_url(re.compile(r"#/accounts\?connected=tiktok$"), timeout=30_000)
    expect(page.locator('.account-card[data-platform="tiktok"] .badge')).to_have_text("active")
    expect(page.locator(".account-card")).to_have_count(2)  # the same account again, not a second one


def _editor_approves_and_schedules(page: Page, server: ApiServer, clip_id: str) -> None:
    page.goto(f"{server.base_url}/#/clips/{clip_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Why short clips work")
    publish = page.locator("section[aria-labelledby=publish-title]")
    expect(publish).to_contain_text("Approve this clip to schedule it.")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("button", name="Approve", exact=True)).to_have_attribute("aria-pressed", "true")
    publish.get_by_label(re.compile(r"^TikTok · ")).check()
    publish.get_by_label(re.compile(r"^X · ")).check()
    expect(publish.get_by_label("Next free slot of each account's posting plan")).to_be_checked()
    assert_accessible(page, "clip page with the publish form")
    publish.get_by_role("button", name="Schedule").click()
    expect(page.locator("#status")).to_contain_text("Scheduled to 2 accounts")
    expect(publish.locator("li.publication")).to_have_count(2)
    expect(publish.locator("li.publication .badge").first).to_have_text("scheduled")
    screenshot(page, "clip-scheduled")


def _editor_publishes_both_now(page: Page, fake_tiktok: FakeTikTok, fake_x: FakeX) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_focused()
    posts = page.locator("li.publication")
    expect(posts).to_have_count(2)
    assert_accessible(page, "queue with two scheduled posts")
    screenshot(page, "queue-scheduled")
    for platform in ("TikTok", "X"):
        post = posts.filter(has_text=f"{platform} · ")
        post.get_by_role("button", name="Publish now").click()
        expect(page.locator("#status")).to_contain_text(f"Publishing Why short clips work on {platform} · ")
    published = page.locator('li.publication[data-status="published"]')
    expect(published).to_have_count(2, timeout=PUBLISH_TIMEOUT_MS)
    tiktok_link = published.filter(has_text="TikTok · ").get_by_role("link", name=re.compile("View the post on TikTok"))
    x_link = published.filter(has_text="X · ").get_by_role("link", name=re.compile("View the post on X"))
    expect(tiktok_link).to_have_attribute("href", re.compile(r"^https://www\.tiktok\.com/@[^/]+/video/\d+$"))
    expect(x_link).to_have_attribute("href", re.compile(r"^https://x\.com/i/web/status/\d+$"))
    expect(page.get_by_role("button", name="Publish now")).to_have_count(0)
    assert len(fake_tiktok.posts) == 1 and len(fake_x.posts) == 1  # exactly one post each
    assert fake_x.posts[0].text.startswith("Why short clips work The one idea worth sharing")
    assert_accessible(page, "queue with two published posts")
    screenshot(page, "queue-published")


def _editor_sees_failures_retries_and_rate_limits(page: Page, server: ApiServer, owner: dict) -> None:
    """What went wrong is on the page: a post the platform refused (failed, with its reason), one waiting to be
    retried (with the last error), and an account that is rate limited until a time. The rows are written the way
    a publication attempt leaves them (tests/integration/test_publication_attempts.py makes them for real)."""
    store = SqlPublishingStore(f"sqlite:///{server.home / 'app.db'}")
    workspace_id = owner["workspace"]["id"]
    posted = {p.platform: p for p in store.list_publications(workspace_id)}
    store.save_publication(
        posted["tiktok"].model_copy(
            update={"id": "pub_failed0000000000", "status": "failed", "post_url": "", "published_at": None,
                    "error": "tiktok refused the post: file_format_check_failed", "idempotency_key": "e2e-failed"}
        )
    )  # fmt: skip
    store.save_publication(
        posted["x"].model_copy(
            update={"id": "pub_retry00000000000", "status": "scheduled", "post_url": "", "published_at": None,
                    "attempts": 1, "error": "X upload segment 0: HTTP 503",
                    "next_attempt_at": datetime.now(UTC) + timedelta(minutes=4), "idempotency_key": "e2e-retry"}
        )
    )  # fmt: skip
    [x_account] = [a for a in store.list_accounts(workspace_id) if a.platform == "x"]
    store.save_account(
        x_account.model_copy(
            update={"health": "rate_limited", "rate_limited_until": datetime.now(UTC) + timedelta(minutes=15),
                    "health_detail": "X create post: HTTP 429"}
        )
    )  # fmt: skip
    page.reload()
    failed = page.locator('li.publication[data-status="failed"]')
    expect(failed).to_have_count(1)
    expect(failed.locator(".badge")).to_have_text("failed")
    expect(failed).to_contain_text("Failed: tiktok refused the post: file_format_check_failed")
    retrying = page.locator('li.publication[data-status="scheduled"]')
    expect(retrying).to_contain_text("Retrying: X upload segment 0: HTTP 503")
    expect(page.locator('li.publication[data-status="published"]')).to_have_count(2)
    screenshot(page, "queue-failures")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    x = page.locator('.account-card[data-platform="x"]')
    expect(x.locator(".badge")).to_have_text("rate limited")
    expect(x).to_contain_text("Posting resumes after")
    expect(page.locator('.account-card[data-platform="tiktok"] .badge')).to_have_text("active")
    assert_accessible(page, "accounts, one rate limited")
    screenshot(page, "accounts-rate-limited")


def _phone_width(page: Page, server: ApiServer, clip_id: str) -> None:
    page.set_viewport_size(PHONE)
    for name, path, heading in [
        ("queue", "#/queue", "Queue"),
        ("accounts", "#/accounts", "Accounts"),
        ("clip", f"#/clips/{clip_id}", "Why short clips work"),
    ]:
        page.goto(f"{server.base_url}/{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.locator(".account-card, li.publication").first).to_be_visible()
        assert horizontal_overflow(page) <= 0, f"{name} scrolls sideways at 360 px"
        assert_accessible(page, f"{name} at phone width")
        screenshot(page, f"phone-{name}")
