"""The Streams view in headless Chromium against the real API (its own process, which starts a real recorder
process): an editor starts a local live HLS stream with a planted moment from the form, watches its page, sees the
moment appear with its score and reason and then its rendered clip play, stops the stream, and finds it stopped in
the list with its badge; the pages hold at 360 px. Screenshots under test-artifacts/streams-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.api.conftest import PASSWORD
from tests.e2e.a11y import assert_accessible, horizontal_overflow
from tests.e2e.conftest import ARTIFACTS, ApiServer, serve_api
from tests.e2e.users import register
from tests.support.live_hls import KEYWORD, LiveHlsServer, make_live_media

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.slow]

PHONE = {"width": 360, "height": 780}
# The planted phrase, loud burst and flash, in the source. The energy baseline needs half a minute of stream
# before a burst stands out of it (the recorder starts at the live edge, 2 s behind the server's clock), and the
# clip's 22 s of pre-roll must be recorded: the recorder process took 27 s to start on 2 cores at a load of 10.
MOMENT_AT_S = 60.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    (tmp_path / "api").mkdir()
    with serve_api(tmp_path / "api", {"CLIPPED_TEST_LOOPBACK_STREAMS": "1"}) as api_server:
        yield api_server


def sign_in(page: Page, server: ApiServer, email: str) -> None:
    page.goto(f"{server.base_url}/#/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"streams-{name}.png"), full_page=True)


def test_a_live_moment_appears_with_its_clip(server: ApiServer, browser: Browser, tmp_path: Path) -> None:
    media = make_live_media(tmp_path / "live", duration_s=100, moments=[MOMENT_AT_S])
    register(server, "streamer@example.com", "Streamer")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, server, "streamer@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Streams").click()
    expect(page.get_by_role("heading", name="Streams", level=1)).to_be_focused()
    expect(page.get_by_text("No streams yet.")).to_be_visible()
    assert_accessible(page, "streams list")
    with LiveHlsServer(media, ends=False) as hls:  # its clock starts now
        page.get_by_label("Stream URL").fill(hls.url)
        page.get_by_label("Keywords (optional)").fill(KEYWORD)
        page.get_by_role("button", name="Start recording").click()

        expect(page.get_by_role("heading", name="live", level=1)).to_be_visible()  # the playlist's folder
        expect(page.locator(".stream-status .badge")).to_have_text("recording", timeout=60_000)
        expect(page.get_by_role("button", name="Stop recording")).to_be_visible()
        moment = page.locator(".moment").first
        expect(moment).to_be_visible(timeout=90_000)
        expect(moment).to_contain_text("Score")
        expect(moment).to_contain_text("keyword")
        screenshot(page, "moment")
        clip = page.locator(".live-clip video").first
        expect(clip).to_be_visible(timeout=90_000)
        # A function, not an expression: Playwright evaluates expressions with `new Function`, which our CSP forbids.
        page.wait_for_function("v => v.readyState >= 1", arg=clip.element_handle(), timeout=30_000)
        duration = page.evaluate("document.querySelector('.live-clip video').duration")
        assert 25 <= duration <= 35, duration
        assert horizontal_overflow(page) == 0
        assert_accessible(page, "stream page")
        screenshot(page, "clip")

        page.get_by_role("button", name="Stop recording").click()
        expect(page.locator(".stream-status .badge")).to_have_text("stopped", timeout=45_000)
        expect(page.get_by_role("button", name="Stop recording")).to_be_hidden()
    page.get_by_role("link", name="Streams", exact=True).first.click()
    card = page.locator(".stream-card").first
    expect(card.locator(".badge")).to_have_text("stopped")
    expect(card).to_contain_text("1 clip")
    assert horizontal_overflow(page) == 0
    context.close()
