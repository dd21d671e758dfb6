"""The review web app in headless Chromium against the real API and pipeline.

One user story end to end: register, sign out and in, upload the bundled sample, watch the job's step bars
fill live, approve the clip, edit its title, comment at a playback time, all at desktop and phone width, with
accessibility smoke checks on every page and screenshots saved under test-artifacts/.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import SAMPLE
from tests.e2e.a11y import accessibility_problems, assert_accessible, focused, horizontal_overflow
from tests.e2e.conftest import ARTIFACTS, ApiServer

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}
PIPELINE_TIMEOUT_S = 6 * 60
JOB_PAGE = re.compile(r"#/jobs/(?!new$)[^/?]+$")
CLIP_PAGE = re.compile(r"#/clips/[^/?]+$")


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # The sticky status bar would be drawn mid-page in a full-page capture: show it where it sits in the flow.
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True, style=".status-bar{position:static}")


def bearer(page: Page) -> dict[str, str]:
    """The page's own access token (what the app stored after sign-in) as a request header."""
    token = page.evaluate("() => sessionStorage.getItem('clipped.access_token')")
    return {"Authorization": f"Bearer {token}"}


def api_get(page: Page, server: ApiServer, path: str) -> dict:
    response = page.request.get(f"{server.base_url}{path}", headers=bearer(page))
    assert response.ok, f"GET {path}: {response.status} {response.text()}"
    return response.json()


def job_snapshot(page: Page) -> dict:
    return page.evaluate(
        """() => ({
          status: document.querySelector('.job-status .badge')?.textContent,
          overall: document.querySelector('.overall progress')?.value,
          steps: Object.fromEntries([...document.querySelectorAll('ol.steps li')].map(
            (li) => [li.dataset.step, li.dataset.status])),
        })"""
    )


def test_accessibility_check_finds_unlabelled_controls(browser: Browser) -> None:
    """The smoke check itself must be able to fail: an unlabelled input and an empty button are reported."""
    page = browser.new_page()
    page.set_content('<html lang="en"><main><h1>x</h1><input name="q"><button></button></main></html>')
    problems = accessibility_problems(page)
    page.close()
    assert any("input[name=q]" in p for p in problems), problems
    assert any("button" in p and "no text" in p for p in problems), problems


def test_review_flow(api_server: ApiServer, browser: Browser) -> None:
    for stale in ARTIFACTS.glob("web-*"):
        stale.unlink()
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    event_streams: list[str] = []
    page.on("request", lambda request: "/events" in request.url and event_streams.append(request.url))
    # No URL the page opens may carry a bearer token (URLs end up in logs and history): every token the page sent
    # in an Authorization header is looked for, by value, in every URL it requested.
    urls_seen: list[str] = []
    bearer_tokens: set[str] = set()

    def note_request(request) -> None:
        urls_seen.append(request.url)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme == "Bearer" and token:
            bearer_tokens.add(token)

    page.on("request", note_request)
    console_errors: list[str] = []
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    try:
        _sign_in_page_is_keyboard_usable(page, api_server)
        _register_sign_out_and_sign_in(page)
        job_id = _submit_sample(page, api_server)
        _watch_job_complete(page, api_server, job_id)
        assert event_streams, "the job page never opened the SSE stream"
        assert all("token=" in url and "access_token" not in url for url in event_streams), event_streams
        clip_id = _approve_first_clip(page, api_server, job_id)
        _edit_title_and_comment(page, api_server, clip_id)
        _caption_style_and_versions(page, api_server, clip_id)
        _workspace_switcher(page, api_server)
        _refreshes_a_rejected_access_token(page)
        _phone_width(page, api_server, job_id, clip_id)
        assert not console_errors, f"uncaught errors in the page: {console_errors}"
        assert bearer_tokens, "the page never sent an Authorization header"
        leaked = [url for url in urls_seen if "access_token" in url or any(t in url for t in bearer_tokens)]
        assert not leaked, f"a bearer token went into a URL: {leaked}"
    except Exception:
        screenshot(page, "failure")
        raise
    finally:
        context.close()


def _sign_in_page_is_keyboard_usable(page: Page, server: ApiServer) -> None:
    page.goto(f"{server.base_url}/")
    expect(page).to_have_url(re.compile(r"#/login$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page, "sign-in")
    # From the top of the page, Tab goes: skip link, brand, then the form's controls in reading order.
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(focused(page))
    assert order == [
        "a:Skip to content",
        "a:Clipped",
        "input:email",
        "input:password",
        "button:Sign in",
        "a:Create one",
    ], order
    # The skip link moves focus into <main>.
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
    assert focused(page) == "a:Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    expect(page).to_have_url(re.compile(r"#/login$"))  # the hash router keeps its route
    screenshot(page, "desktop-sign-in")


def _register_sign_out_and_sign_in(page: Page) -> None:
    email, password = "editor@example.com", "correct horse battery"
    page.get_by_role("link", name="Create one").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    assert_accessible(page, "register")
    page.get_by_label("Name (optional)").fill("Eddie Editor")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    expect(page.locator(".account .user")).to_have_text("Eddie Editor")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('clipped.refresh_token')") is None
    # A wrong password is refused with the API's message in the alert region, and nothing is stored.
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('clipped.access_token')") is None
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_hidden()
    assert_accessible(page, "empty job list")


def _submit_sample(page: Page, server: ApiServer) -> str:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New job").click()
    expect(page.get_by_role("heading", name="New job")).to_be_focused()
    assert_accessible(page, "new job form")
    page.get_by_label("Upload a file").check()
    page.get_by_label("Video file").set_input_files(str(SAMPLE))
    page.get_by_label("Max clips").fill("1")
    page.get_by_role("button", name="Start job").click()
    # Upload, confirm and job creation: done when the job page opens, failed as soon as the alert shows.
    page.wait_for_function(
        "() => /#\\/jobs\\/(?!new$)[^/?]+$/.test(location.hash) || !document.getElementById('error').hidden",
        timeout=60_000,
    )
    alert = page.locator("#error")
    assert alert.is_hidden(), f"the job was refused: {alert.inner_text()}"
    expect(page).to_have_url(JOB_PAGE)
    job_id = page.url.rsplit("/", 1)[1]
    job = api_get(page, server, f"/api/jobs/{job_id}")
    assert job["settings"]["max_clips"] == 1
    assert job["source"]["kind"] == "upload"
    return job_id


def _watch_job_complete(page: Page, server: ApiServer, job_id: str) -> None:
    """Follow the bars without reloading: they must move through intermediate states to all-succeeded."""
    seen: list[dict] = []
    deadline = time.monotonic() + PIPELINE_TIMEOUT_S
    while time.monotonic() < deadline:
        snapshot = job_snapshot(page)
        if not seen or snapshot != seen[-1]:
            seen.append(snapshot)
        if snapshot["status"] in ("succeeded", "failed", "canceled"):
            break
        if len(seen) == 2:
            assert_accessible(page, "running job")
            screenshot(page, "desktop-job-running")
        time.sleep(0.5)
    (ARTIFACTS / "web-job-progress.json").write_text(json.dumps(seen, indent=1))
    final = seen[-1]
    assert final["status"] == "succeeded", (
        f"job ended {final}: {api_get(page, server, f'/api/jobs/{job_id}').get('error')}\n"
        f"{server.log.read_text()[-3000:]}"
    )
    assert final["overall"] == 1
    assert final["steps"] and set(final["steps"].values()) <= {"succeeded", "skipped"}, final
    # Live updates: the page showed states between queued and done, e.g. a step running while others waited.
    intermediate = [s for s in seen[:-1] if "running" in s["steps"].values() or 0 < (s["overall"] or 0) < 1]
    assert intermediate, f"never saw the job in progress: {seen}"
    expect(page.locator(".clip-card")).to_have_count(1, timeout=30_000)


def _approve_first_clip(page: Page, server: ApiServer, job_id: str) -> str:
    card = page.locator(".clip-card").first
    clip_id = card.get_attribute("data-clip-id")
    video = card.locator("video")
    src = video.get_attribute("src") or ""
    assert "token=" in src and "access_token" not in src, src
    # The player really loads the clip (a signed link in the query string, Range requests answered).
    page.wait_for_function("v => v.readyState >= 1 && v.duration > 0", arg=video.element_handle(), timeout=30_000)
    expect(card.get_by_text(re.compile(r"Score \d+"))).to_be_visible()
    assert_accessible(page, "finished job with clips")
    screenshot(page, "desktop-job-done")

    approve = card.get_by_role("button", name="Approve", exact=True)
    approve.click()
    expect(approve).to_have_attribute("aria-pressed", "true")
    expect(card.locator(".badge")).to_have_text("approved")
    expect(page.get_by_role("status")).to_contain_text("approved")
    assert api_get(page, server, f"/api/clips/{clip_id}")["status"] == "approved"
    return clip_id


def _edit_title_and_comment(page: Page, server: ApiServer, clip_id: str) -> None:
    page.locator(f'.clip-card[data-clip-id="{clip_id}"]').get_by_role("link", name="Review & edit").click()
    expect(page).to_have_url(CLIP_PAGE)
    title = page.get_by_label("Title")
    expect(title).to_be_visible()
    title.fill("The best minute of the talk")
    page.get_by_label("Hashtags").fill("#talks, demo clipped")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The best minute of the talk")
    saved = api_get(page, server, f"/api/clips/{clip_id}")
    assert saved["title"] == "The best minute of the talk"
    assert saved["hashtags"] == ["talks", "demo", "clipped"]

    # A comment anchored to the playback time; selecting it seeks back there.
    video = page.locator(".player video")
    page.wait_for_function("v => v.readyState >= 1", arg=video.element_handle(), timeout=30_000)
    video.evaluate("v => { v.currentTime = 2.5; }")
    expect(page.locator("output.at-time")).to_have_text("0:02")
    page.get_by_role("textbox", name="Comment").fill("Cut the pause here")
    page.get_by_role("button", name="Add comment").click()
    comment = page.locator("ol.comments button.comment").filter(has_text="Cut the pause here")
    expect(comment).to_contain_text("0:02")
    stored = api_get(page, server, f"/api/clips/{clip_id}/comments")
    assert [(c["body"], round(c["at_s"], 1)) for c in stored] == [("Cut the pause here", 2.5)]
    video.evaluate("v => { v.currentTime = 0; }")
    comment.click()
    page.wait_for_function("v => Math.abs(v.currentTime - 2.5) < 0.1", arg=video.element_handle())

    expect(page.get_by_role("heading", name="Caption style")).to_be_visible()
    assert_accessible(page, "clip page")
    screenshot(page, "desktop-clip")

    # Reloading shows what the API stored, not what the page remembered.
    page.reload()
    expect(page.get_by_label("Title")).to_have_value("The best minute of the talk")
    expect(page.locator("ol.comments button.comment")).to_have_count(1)


def _caption_style_and_versions(page: Page, server: ApiServer, clip_id: str) -> None:
    """Preview another caption style, re-render with it: a second version appears, renders, and plays."""
    preview = page.locator("img.preview")
    expect(preview).to_be_visible(timeout=30_000)
    page.get_by_label("Karaoke").check()
    expect(preview).to_have_attribute("alt", re.compile("Karaoke"), timeout=30_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    page.get_by_role("button", name="Re-render with these settings").click()
    rows = page.locator("section[aria-labelledby=versions-title] tbody tr")
    expect(rows).to_have_count(2)
    second = rows.filter(has_text="v2")
    expect(second).to_contain_text("karaoke")
    expect(second.locator(".badge")).to_have_text("ready", timeout=240_000)
    versions = {v["version"]: v for v in api_get(page, server, f"/api/clips/{clip_id}/versions")}
    assert versions[2]["status"] == "ready" and versions[2]["caption_style"] == "karaoke"
    # The finished version replaces the one in the player (links differ only by their expiry bucket).
    assert versions[2]["video_url"].startswith(f"/api/clips/{clip_id}/video?version=2&token=")
    video = page.locator(".player video")
    playing_v2 = re.compile(re.escape(f"/api/clips/{clip_id}/video?version=2&token="))
    expect(video).to_have_attribute("src", playing_v2)
    screenshot(page, "desktop-clip-versions")
    # A link that no longer works (a page left open past its expiry) is renewed, for the same version, and plays.
    video.evaluate("v => { v.src = v.src.replace(/token=[^&]+/, 'token=expired'); }")
    expect(video).not_to_have_attribute("src", re.compile("token=expired"), timeout=30_000)
    expect(video).to_have_attribute("src", playing_v2)
    page.wait_for_function("v => v.readyState >= 1 && v.duration > 0", arg=video.element_handle(), timeout=30_000)


def _workspace_switcher(page: Page, server: ApiServer) -> None:
    """With a second workspace the header offers a switcher; each workspace shows only its own jobs."""
    created = page.request.post(f"{server.base_url}/api/workspaces", data={"name": "Agency B"}, headers=bearer(page))
    assert created.ok, created.text()
    page.goto(f"{server.base_url}/#/jobs")
    page.reload()
    switcher = page.get_by_label("Workspace")
    switcher.select_option(label="Agency B (owner)")
    expect(page.get_by_role("status")).to_contain_text("Agency B")
    expect(page.locator(".job-list .empty")).to_be_visible()
    expect(page.locator(".job-card")).to_have_count(0)
    assert_accessible(page, "job list of an empty workspace")
    switcher.select_option(label="Eddie Editor's workspace (owner)")
    expect(page.locator(".job-card")).to_have_count(1)


def _refreshes_a_rejected_access_token(page: Page) -> None:
    """A 401 (expired or tampered access token) is answered by one rotation of the refresh token and a retry."""
    old_refresh = page.evaluate("() => sessionStorage.getItem('clipped.refresh_token')")
    page.evaluate("() => sessionStorage.setItem('clipped.access_token', 'not.a.valid-token')")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clips").click()
    expect(page.locator(".clip-card")).to_have_count(1)
    expect(page.get_by_role("alert")).to_be_hidden()
    tokens = page.evaluate(
        "() => [sessionStorage.getItem('clipped.access_token'), sessionStorage.getItem('clipped.refresh_token')]"
    )
    assert tokens[0] != "not.a.valid-token" and tokens[1] not in (None, old_refresh)


def _phone_width(page: Page, server: ApiServer, job_id: str, clip_id: str) -> None:
    page.set_viewport_size(PHONE)
    for name, path, heading in [
        ("jobs", "#/jobs", "Jobs"),
        ("job", f"#/jobs/{job_id}", None),
        ("clip", f"#/clips/{clip_id}", "The best minute of the talk"),
        ("new-job", "#/jobs/new", "New job"),
    ]:
        page.goto(f"{server.base_url}/{path}")
        if heading:
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        else:
            expect(page.locator(".clip-card")).to_have_count(1)
        assert horizontal_overflow(page) <= 0, f"{name} scrolls sideways at 360 px"
        assert_accessible(page, f"{name} at phone width")
        screenshot(page, f"phone-{name}")
