"""The web app runs under the API's Content-Security-Policy: every view, a clip page with its video and thumbnail,
signed in, in headless Chromium, with no policy violation reported."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

from tests.api.conftest import PASSWORD, make_test_video
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, serve_api
from tests.e2e.test_publishing import register, seed_clip

INJECT_INLINE_SCRIPT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.injected = 1";
  document.body.append(script);
}"""
VIEWS = ("#/jobs", "#/jobs/new", "#/clips", "#/queue", "#/accounts", "#/analytics", "#/streams")
# Reported by the page itself, so nothing the browser logs differently from version to version is missed.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


def test_the_web_app_runs_under_its_content_security_policy(tmp_path: Path) -> None:
    with serve_api(tmp_path) as server, sync_playwright() as playwright:
        owner = register(server, "csp@example.com", "Cee Espy")
        clip_id = seed_clip(server, owner, make_test_video(tmp_path / "clip.mp4"))
        page_response = httpx.get(f"{server.base_url}/")
        assert "script-src 'self'" in page_response.headers["Content-Security-Policy"]
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            reported: list[str] = []
            page.on(
                "console",
                lambda message: (
                    reported.append(message.text)
                    if "Content Security Policy" in message.text or message.text.startswith("CSP violation")
                    else None
                ),
            )
            page.on("pageerror", lambda error: reported.append(f"page error: {error}"))
            page.add_init_script(REPORT_VIOLATIONS)
            page.goto(f"{server.base_url}/#/login")
            page.get_by_label("Email").fill("csp@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
            for view in VIEWS:
                page.goto(f"{server.base_url}/{view}")
                page.wait_for_load_state("networkidle")
            page.goto(f"{server.base_url}/#/clips/{clip_id}")
            video = page.locator("video").first
            expect(video).to_be_visible()
            page.wait_for_function("v => v.readyState >= 1", arg=video.element_handle())  # a function: CSP forbids eval
            page.wait_for_load_state("networkidle")
            assert reported == []
            # The check sees a violation when there is one: an injected inline script is blocked and reported.
            page.evaluate(INJECT_INLINE_SCRIPT)
            assert page.evaluate("() => window.injected") is None
            page.wait_for_timeout(500)
        finally:
            browser.close()
    assert len(reported) >= 1 and all("script-src" in line for line in reported), reported
