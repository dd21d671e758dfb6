"""The review app's Search page finds a moment by meaning, in headless Chromium against the real API, over a
seeded finished job whose sentences are in the moment index (real MiniLM + LanceDB; no pipeline run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from clipped.layout import SourceRef
from clipped.search.moment_store import MomentStore
from clipped.search.moments import MomentText, moment_rows
from clipped.understand.sentence_embedding import SentenceEmbedder
from clipped_resources.storage import LocalStorage
from tests.api.conftest import make_test_video
from tests.api.world import FAKE_JPEG
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import ApiServer, serve_api
from tests.e2e.test_downloads import seed_job, sign_in
from tests.e2e.users import register

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.slow]

SAID = [
    MomentText("speech", 0.5, 2.0, "Hello there, this is a short test.", "Hello there, this is a short test."),
    MomentText("speech", 2.0, 3.8, "Tomatoes need six hours of sunlight.", "Tomatoes need six hours of sunlight."),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    with serve_api(tmp_path) as api_server:
        yield api_server


def test_search_page_finds_a_moment_by_meaning(server: ApiServer, browser: Browser, tmp_path: Path) -> None:
    owner = register(server, "owner@example.com", "Olive Owner")
    job_id, _clip_id = seed_job(server, owner, make_test_video(tmp_path / "clip.mp4"))
    source = SourceRef(owner["workspace"]["id"], "talk-0123456789")
    thumbnail = source.key("moments/thumb_0000.jpg")
    LocalStorage(root=str(server.home / "storage")).write_bytes(thumbnail, FAKE_JPEG)
    rows = moment_rows(source, SAID, [(1.0, thumbnail)], SentenceEmbedder())
    MomentStore(str(server.home / "storage")).replace_source(source.workspace_id, source.partition_key, rows)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, server, "owner@example.com")
        page.get_by_role("link", name="Search").click()
        page.get_by_label("Find a moment").fill("growing vegetables in the sun")
        page.get_by_role("button", name="Search", exact=True).click()
        found = page.get_by_role("list", name="Moments found").get_by_role("listitem")
        expect(found.first).to_contain_text("Tomatoes need six hours of sunlight.")
        expect(found.first).to_contain_text("0:02–0:03")
        expect(found.first.get_by_role("link", name="talk.mp4")).to_have_attribute("href", f"#/jobs/{job_id}")
        expect(found.first.get_by_role("button", name="Make a clip")).to_be_enabled()
        assert "q=growing" in page.url
        assert_accessible(page, "search results")
        assert not errors, errors
    finally:
        page.context.close()
