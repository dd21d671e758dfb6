"""Downloads in the web app, in headless Chromium against the real API (its own process), on a seeded finished job
(no pipeline run): a clip's Download menu gives its MP4, captions and NLE timelines as files named after its
title, and "Export approved (zip)" on the job gives the approved clips with their SRT and metadata."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import opentimelineio as otio
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from clipped.layout import SourceRef
from clipped_resources.storage import LocalStorage
from tests.api.conftest import PASSWORD, make_test_video
from tests.api.world import FAKE_JPEG, add_clip, add_finished_job
from tests.e2e.a11y import assert_accessible, horizontal_overflow
from tests.e2e.conftest import ARTIFACTS, ApiServer, serve_api
from tests.e2e.users import register
from tests.support.rendered_source import CLIP_END_S, CLIP_START_S, seed_rendered_source

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}
TITLE = "Hello there: a short test"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    with serve_api(tmp_path) as api_server:
        yield api_server


def seed_job(server: ApiServer, owner: dict, video: Path) -> tuple[str, str]:
    """A finished job whose one clip has its source records in storage (as the pipeline leaves them); (job id,
    clip id)."""
    ws, user_id = owner["workspace"]["id"], owner["user"]["id"]
    storage = LocalStorage(root=str(server.home / "storage"))
    source = SourceRef(ws, "talk-0123456789")
    rendered = seed_rendered_source(storage, source)
    storage.write_bytes(rendered.video_key, video.read_bytes())
    storage.write_bytes(rendered.thumbnail_key, FAKE_JPEG)
    engine = create_engine(f"sqlite:///{server.home / 'app.db'}")
    try:
        with Session(engine) as session:
            job = add_finished_job(session, ws, user_id, source.video_id, "talk.mp4")
            clip = add_clip(
                session,
                job.id,
                ws,
                rendered.clip_id,
                video_key=rendered.video_key,
                thumbnail_key=rendered.thumbnail_key,
                title=TITLE,
            )
            clip.start_s, clip.end_s, clip.hashtags = CLIP_START_S, CLIP_END_S, ["talks"]
            session.commit()
            return job.id, clip.id
    finally:
        engine.dispose()


def sign_in(page: Page, server: ApiServer, email: str) -> None:
    page.goto(f"{server.base_url}/#/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()


def download(page: Page, click, into: Path) -> tuple[str, Path]:
    with page.expect_download() as info:
        click()
    saved = into / info.value.suggested_filename
    info.value.save_as(saved)
    return info.value.suggested_filename, saved


def test_download_menu_and_export_of_approved_clips(server: ApiServer, browser: Browser, tmp_path: Path) -> None:
    owner = register(server, "owner@example.com", "Olive Owner")
    video = make_test_video(tmp_path / "clip.mp4")
    job_id, clip_id = seed_job(server, owner, video)
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    try:
        sign_in(page, server, "owner@example.com")
        page.goto(f"{server.base_url}/#/clips/{clip_id}")
        menu = page.locator("details.download-menu")
        menu.locator("summary").click()
        expect(menu.get_by_role("link", name="Captions (SRT)")).to_be_visible()
        assert_accessible(page, "clip download menu")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web-downloads-menu.png"), full_page=True)
        name, srt = download(page, menu.get_by_role("link", name="Captions (SRT)").click, tmp_path)
        assert name == "Hello there a short test.srt"
        assert re.match(r"1\n00:00:00,\d{3} --> 00:00:0\d,\d{3}\nhello there", srt.read_text())
        name, mp4 = download(page, menu.get_by_role("link", name="Video (MP4)").click, tmp_path)
        assert name == "Hello there a short test.mp4" and mp4.read_bytes() == video.read_bytes()
        name, fcpxml = download(page, menu.get_by_role("link", name=re.compile("FCPXML")).click, tmp_path)
        timeline = otio.adapters.read_from_file(str(fcpxml), adapter_name="fcpx_xml")
        timeline = timeline[0] if isinstance(timeline, otio.schema.SerializableCollection) else timeline
        (cut,) = timeline.video_tracks()[0].find_clips()
        assert cut.source_range.start_time.to_seconds() == pytest.approx(CLIP_START_S, abs=0.04)
        assert cut.source_range.end_time_exclusive().to_seconds() == pytest.approx(CLIP_END_S, abs=0.04)

        # Nothing approved yet: the export says so; after approval it downloads the zip.
        page.goto(f"{server.base_url}/#/jobs/{job_id}")
        export = page.get_by_role("button", name="Export approved (zip)")
        export.click()
        expect(page.locator("#error")).to_contain_text("no approved clips")
        approved = httpx.post(f"{server.base_url}/api/clips/{clip_id}/approve", headers=owner["headers"])
        assert approved.status_code == 200
        name, archive = download(page, export.click, tmp_path)
        assert name == "talk - approved clips.zip"
        with zipfile.ZipFile(archive) as read:
            stem = "talk/01 Hello there a short test"
            assert read.namelist() == [f"{stem}.mp4", f"{stem}.srt", "talk/metadata.json"]
            assert read.read(f"{stem}.mp4") == video.read_bytes()
            metadata = json.loads(read.read("talk/metadata.json"))
        assert metadata["clips"][0]["title"] == TITLE and metadata["clips"][0]["hashtags"] == ["talks"]

        page.set_viewport_size(PHONE)
        page.goto(f"{server.base_url}/#/clips/{clip_id}")
        page.locator("details.download-menu summary").click()
        expect(page.get_by_role("link", name="Captions (WebVTT)")).to_be_visible()
        assert horizontal_overflow(page) == 0
        page.screenshot(path=str(ARTIFACTS / "web-downloads-phone.png"), full_page=True)
        assert not errors, errors
        assert not [url for url in urls if "access_token" in url]
    finally:
        context.close()
