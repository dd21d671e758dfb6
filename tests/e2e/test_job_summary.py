"""A job's page shows its source's summary, key points and chapters, and a clip's page what the ranker wrote (hook,
captions per platform), in headless Chromium against the real API, on a seeded finished job (no pipeline run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.models import Clip
from clipped.layout import SUMMARY_FILE, SourceRef
from clipped.understand.summary import Chapter, SourceSummary
from clipped_resources.storage import LocalStorage
from tests.api.conftest import make_test_video
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import ApiServer, serve_api
from tests.e2e.test_downloads import seed_job, sign_in
from tests.e2e.users import register

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.slow]

SUMMARY = SourceSummary(
    summary="A short talk on why defaults matter.",
    key_points=["Nobody checks the defaults", "Two in a hundred startups get there"],
    chapters=[Chapter(start_s=0.5, end_s=75.0, title="Defaults"), Chapter(start_s=75.0, end_s=130.0, title="Startups")],
    method="extractive",
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    with serve_api(tmp_path) as api_server:
        yield api_server


def test_job_page_shows_the_summary_and_chapters(server: ApiServer, browser: Browser, tmp_path: Path) -> None:
    owner = register(server, "owner@example.com", "Olive Owner")
    job_id, clip_id = seed_job(server, owner, make_test_video(tmp_path / "clip.mp4"))
    engine = create_engine(f"sqlite:///{server.home / 'app.db'}")
    with Session(engine) as session:
        clip = session.get(Clip, clip_id)
        clip.hook, clip.post_captions = "Nobody tells you this", {"x": "The shortest answer.", "tiktok": "Wait for it"}
        session.commit()
    engine.dispose()
    storage = LocalStorage(root=str(server.home / "storage"))
    storage.write_model(SourceRef(owner["workspace"]["id"], "talk-0123456789").key(SUMMARY_FILE), SUMMARY)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, server, "owner@example.com")
        page.goto(f"{server.base_url}/#/jobs/{job_id}")
        section = page.get_by_role("region", name="Summary")
        # The first job read opens the Dagster instance: seconds on a busy machine.
        expect(section).to_contain_text("A short talk on why defaults matter.", timeout=30_000)
        expect(section.locator("ul.key-points li")).to_have_count(2)
        expect(section.locator("ol.chapters li")).to_have_text(["0:00 Defaults", "1:15 Startups"])
        expect(section).to_contain_text("Extracted from the transcript")
        assert_accessible(page, "job summary")

        page.goto(f"{server.base_url}/#/clips/{clip_id}")
        expect(page.locator("p.hook")).to_have_text("Hook overlay: Nobody tells you this")
        captions = page.locator("details.written-captions")
        captions.locator("summary").click()
        expect(captions.locator("dd")).to_have_text(["The shortest answer.", "Wait for it"])
        assert_accessible(page, "clip writing")
        assert not errors, errors
    finally:
        page.context.close()
