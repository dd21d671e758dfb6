"""The brand kit and finishing options in headless Chromium against the real API: an editor sets the kit's font,
colour, logo and own words, finds them stored after a reload, and sees the finishing options on the new-job form
(what a job's settings carry). Screenshot under test-artifacts/brand-kit.png."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from tests.api.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, ApiServer
from tests.e2e.users import register
from tests.unit.test_bumpers import make_video

pytestmark = pytest.mark.xdist_group("e2e")


def test_an_editor_sets_the_brand_kit(api_server: ApiServer, browser: Browser, tmp_path: Path) -> None:
    user = register(api_server, "brand@example.com", "Brand")
    logo = tmp_path / "logo.png"
    Image.new("RGB", (90, 30), (250, 20, 20)).save(logo)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{api_server.base_url}/#/login")
    page.get_by_label("Email").fill("brand@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Brand kit").click()
    expect(page.get_by_role("heading", name="Brand kit", level=1)).to_be_visible()
    page.get_by_label("Caption font").select_option("DejaVu Serif")
    page.get_by_label("Spoken word").fill("#ff0066")
    page.get_by_label("Words to treat as profanity").fill("frobnicate, gadzooks")
    page.get_by_label("Logo", exact=True).set_input_files(str(logo))
    expect(page.get_by_role("img", name="Current logo")).to_be_visible()
    page.get_by_label("Intro", exact=True).set_input_files(
        str(make_video(tmp_path / "intro.mp4", 1.0, "320x180", tone_hz=880))
    )
    expect(page.get_by_text("Intro set")).to_be_visible()
    page.get_by_role("button", name="Save brand kit").click()
    expect(page.get_by_text("Brand kit saved")).to_be_visible()

    kit_url = f"{api_server.base_url}/api/workspaces/{user['workspace']['id']}/brand-kit"
    body = httpx.get(kit_url, headers=user["headers"]).json()
    assert body["caption_font"] == "DejaVu Serif" and body["highlight_colour"] == "#FF0066" and body["has_logo"]
    assert body["has_intro"] and not body["has_outro"]
    assert body["profanity_words"] == ["frobnicate", "gadzooks"]
    page.reload()
    expect(page.get_by_label("Caption font")).to_have_value("DejaVu Serif")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "brand-kit.png"), full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="New job").click()
    expect(page.get_by_role("group", name="Captions and finishing")).to_be_visible()
    page.get_by_label("Profanity").select_option("bleep")
    page.get_by_label("Platform").select_option("tiktok")
    expect(page.get_by_label("Emoji after keywords (love ❤, warning ⚠)")).to_be_checked()
    expect(page.get_by_label("Caption style")).to_contain_text("Typewriter")
