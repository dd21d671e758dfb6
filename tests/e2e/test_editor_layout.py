"""The review app at phone and desktop sizes on a seeded finished job (no pipeline run): a compact header, job cards
that leave room for others, a versions table that fits, and a status bar that never contradicts an error.
Screenshots under test-artifacts/web-editor-*.png."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.models import ClipVersion
from clipped.layout import RENDERED_CLIPS_FILE, TRANSCRIPT_FILE, ClipVersionRef, SourceRef
from clipped.render.variation_set import MomentVariations, Variant, variations_key
from clipped.render.versions import ClipVersionRequest, read_version_request
from clipped.render_manifest import RenderedClipsManifest
from clipped.types import Segment, Transcript
from clipped_resources.storage import LocalStorage
from tests.api.conftest import PASSWORD, make_test_video
from tests.api.world import add_clip, add_finished_job
from tests.e2e.a11y import assert_accessible, horizontal_overflow
from tests.e2e.conftest import ARTIFACTS, ApiServer, serve_api
from tests.e2e.users import register
from tests.support.rendered_source import seed_rendered_source

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.slow]

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 30_000  # for what waits on the server, which shares 2 cores with the rest of the suite


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with serve_api(tmp_path_factory.mktemp("editor")) as api_server:
        yield api_server


@pytest.fixture(scope="module")
def seeded(server: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A user with a finished job (its source, transcript and rendered_clips written as the pipeline leaves them)
    whose one clip has two rendered versions."""
    owner = register(server, "editor@example.com", "Eddie Editor")
    video = make_test_video(tmp_path_factory.mktemp("media") / "clip.mp4")
    ws, user_id = owner["workspace"]["id"], owner["user"]["id"]
    storage = LocalStorage(root=str(server.home / "storage"))
    source = SourceRef(ws, "talk-0123456789")
    original = seed_rendered_source(storage, source)
    words = original.words
    segment = Segment(
        start_s=words[0].start_s, end_s=words[-1].end_s, text=" ".join(w.word for w in words), words=words
    )
    storage.write_model(source.key(TRANSCRIPT_FILE), Transcript(language="en", duration_s=4.0, model="seeded",
                                                                 segments=[segment]))  # fmt: skip
    storage.write_bytes(original.video_key, video.read_bytes())
    storage.write_bytes(original.thumbnail_key, _jpeg())
    engine = create_engine(f"sqlite:///{server.home / 'app.db'}")
    try:
        with Session(engine) as session:
            job = add_finished_job(session, ws, user_id, source.video_id, "A long conference talk.mp4")
            clip = add_clip(
                session, job.id, ws, original.clip_id,
                video_key=original.video_key, thumbnail_key=original.thumbnail_key, title="Why short clips work",
            )  # fmt: skip
            clip.start_s, clip.end_s = original.start_s, original.end_s
            clip.scores = {"hook": 0.82, "flow": 0.55, "value": 0.61, "energy": 0.3}
            session.add(
                ClipVersion(
                    clip_id=clip.id, version=2, caption_style="karaoke", status="ready",
                    video_key=original.video_key, thumbnail_key=original.thumbnail_key,
                )
            )  # fmt: skip
            second = add_clip(
                session, job.id, ws, f"{source.video_id}-02-0123abcd", rank=2,
                video_key=original.video_key, thumbnail_key=original.thumbnail_key, title="The second idea",
            )  # fmt: skip
            session.commit()
            return {
                "job_id": job.id,
                "clip_id": clip.id,
                "second_clip_id": second.id,
                "source": source,
                "manifest_clip_id": original.clip_id,
            }
    finally:
        engine.dispose()


def _jpeg() -> bytes:
    """A small real JPEG (a 9:16 gradient), which a browser can decode."""
    image = np.tile(np.linspace(0, 255, 90, dtype=np.uint8)[None, :, None], (160, 1, 3))
    return cv2.imencode(".jpg", image)[1].tobytes()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-editor-{name}.png"), full_page=True)


def sign_in(page: Page, server: ApiServer) -> None:
    page.goto(f"{server.base_url}/#/login")
    page.get_by_label("Email").fill("editor@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible(timeout=WAIT_MS)


def box_height(page: Page, selector: str) -> float:
    return page.locator(selector).first.bounding_box()["height"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_layout_leaves_room_for_the_work(server: ApiServer, seeded: dict, browser: Browser, viewport: dict) -> None:
    name = "phone" if viewport is PHONE else "desktop"
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, server)
        expect(page.locator(".job-card")).to_have_count(1, timeout=WAIT_MS)
        # The job's picture: its best clip's thumbnail, through a signed link.
        thumb = page.locator(".job-card img.job-thumb")
        assert "token=" in (thumb.get_attribute("src") or "")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        # The header is a bar, not a third of a phone's screen; a job card leaves room for the next ones.
        assert box_height(page, ".site-header") <= 0.15 * viewport["height"], box_height(page, ".site-header")
        assert box_height(page, ".job-card") <= 0.35 * viewport["height"], box_height(page, ".job-card")
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Streams")).to_be_attached()
        assert horizontal_overflow(page) <= 0
        assert_accessible(page, f"job list ({name})")
        screenshot(page, f"{name}-jobs")

        page.goto(f"{server.base_url}/#/clips/{seeded['clip_id']}")
        rows = page.locator(".versions-table tbody tr")
        expect(rows).to_have_count(2, timeout=WAIT_MS)
        # Every column shown fits: the table never needs a sideways scroll to reach "Watch".
        fits = page.evaluate(
            "() => { const w = document.querySelector('.versions-table').parentElement;"
            " return w.scrollWidth <= w.clientWidth; }"
        )
        assert fits, "the versions table is cut off"
        watch = rows.filter(has_text="v2").get_by_role("button", name="Watch v2")
        watch.scroll_into_view_if_needed()
        expect(watch).to_be_in_viewport(ratio=1)
        assert horizontal_overflow(page) <= 0
        assert_accessible(page, f"clip page ({name})")
        screenshot(page, f"{name}-clip")
    finally:
        context.close()
    assert not errors, errors


def test_a_refused_upload_leaves_no_stale_status(
    server: ApiServer, seeded: dict, browser: Browser, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        sign_in(page, server)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="New job").click()
        page.get_by_label("Upload a file").check()
        not_a_video = tmp_path / "notes.mp4"
        not_a_video.write_text("these are my notes, not a video\n" * 20)
        page.get_by_label("Video file").set_input_files(str(not_a_video))
        page.get_by_role("button", name="Start job").click()
        expect(page.get_by_role("alert")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(300)  # past the status bar's own delay: nothing may appear after the error
        expect(page.locator("#status")).to_have_text("")
        screenshot(page, "phone-refused-upload")
    finally:
        context.close()


def test_scores_transcript_and_an_edited_rerender(server: ApiServer, seeded: dict, browser: Browser) -> None:
    """The sub-scores with their why, the transcript with its hook, a trim chosen on a word and a fixed caption
    word, queued as a new version whose request carries the edits (clip_version_job renders it)."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        sign_in(page, server)
        page.goto(f"{server.base_url}/#/clips/{seeded['clip_id']}")
        bars = page.locator(".score-bars meter")
        expect(bars).to_have_count(4, timeout=WAIT_MS)
        expect(page.get_by_role("meter", name="Hook")).to_have_attribute("value", "0.82")
        expect(page.locator(".score-bars")).to_contain_text("opening seconds grab attention")
        transcript = page.locator(".transcript")
        expect(transcript.locator("mark.hook button").first).to_have_text("hello", timeout=WAIT_MS)
        page.get_by_label("end", exact=True).check()
        transcript.get_by_role("button", name="short", exact=True).click()
        expect(page.get_by_label("End (s in the source)")).to_have_value("3.10")
        caption = page.get_by_label("Caption text")
        expect(caption).to_have_value("hello there this is a short test")
        caption.fill("hello there this is a shirt")
        assert_accessible(page, "clip page with the transcript editor")
        screenshot(page, "desktop-clip-edit")
        page.get_by_role("button", name="Re-render with these edits").click()
        expect(page.locator("#status")).to_contain_text("Edits queued as version 3", timeout=WAIT_MS)
        expect(page.locator(".versions-table tbody tr")).to_have_count(3, timeout=WAIT_MS)
    finally:
        context.close()
    storage = LocalStorage(root=str(server.home / "storage"))
    request = read_version_request(storage, ClipVersionRef(seeded["source"], seeded["manifest_clip_id"], 3))
    assert isinstance(request, ClipVersionRequest)
    assert (request.start_s, request.end_s, request.caption_text) == (None, 3.1, "hello there this is a shirt")


def test_keyboard_review_dark_theme_and_a_dropped_video(server: ApiServer, seeded: dict, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, server)
        first, second = seeded["clip_id"], seeded["second_clip_id"]
        page.goto(f"{server.base_url}/#/clips/{second}")
        expect(page.get_by_role("heading", level=1)).to_have_text("The second idea", timeout=WAIT_MS)
        # Keyboard only: R rejects, A approves, P and N move between the job's clips by rank.
        page.locator("body").press("r")
        expect(page.get_by_role("button", name="Reject", exact=True)).to_have_attribute("aria-pressed", "true")
        page.keyboard.press("a")
        expect(page.get_by_role("button", name="Approve", exact=True)).to_have_attribute("aria-pressed", "true")
        page.keyboard.press("p")
        expect(page).to_have_url(re.compile(f"#/clips/{first}$"), timeout=WAIT_MS)
        expect(page.get_by_role("heading", level=1)).to_have_text("Why short clips work", timeout=WAIT_MS)
        page.keyboard.press("n")
        expect(page).to_have_url(re.compile(f"#/clips/{second}$"), timeout=WAIT_MS)
        expect(page.get_by_role("heading", level=1)).to_have_text("The second idea", timeout=WAIT_MS)
        page.keyboard.press("n")
        expect(page.locator("#status")).to_contain_text("last clip", timeout=WAIT_MS)
        # Typing in a field is typing, not a shortcut.
        page.get_by_label("Title").press("r")
        expect(page.get_by_role("button", name="Approve", exact=True)).to_have_attribute("aria-pressed", "true")
        approved = page.request.get(f"{server.base_url}/api/clips/{second}", headers=_bearer(page)).json()
        assert approved["status"] == "approved"

        # The dark theme: picked in the footer, kept across a reload, still passing the contrast checks.
        toggle = page.get_by_role("button", name="Dark theme")
        light_bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("The second idea", timeout=WAIT_MS)
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") != light_bg
        assert_accessible(page, "clip page, dark theme")
        screenshot(page, "desktop-clip-dark")

        # A video dropped on the new-job form is the file to upload.
        page.goto(f"{server.base_url}/#/jobs/new")
        page.get_by_label("From a URL").check()
        page.locator("form").first.evaluate(
            """form => {
                const data = new DataTransfer();
                data.items.add(new File(["not really a video"], "talk.mp4", { type: "video/mp4" }));
                form.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
                form.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
            }"""
        )
        expect(page.get_by_label("Upload a file")).to_be_checked()
        assert page.get_by_label("Video file").evaluate("input => input.files[0].name") == "talk.mp4"
        expect(page.locator("#status")).to_contain_text("talk.mp4 is ready to upload")
    finally:
        context.close()
    assert not errors, errors


def _bearer(page: Page) -> dict[str, str]:
    token = page.evaluate("() => sessionStorage.getItem('clipped.access_token')")
    return {"Authorization": f"Bearer {token}"}


def test_variations_are_listed_under_their_moment(server: ApiServer, seeded: dict, browser: Browser) -> None:
    """The clip page's Variations card lists the latest set (as clip_version_job stores it) with each variant's
    window, hook, style and layout, uniqueness, and a button that plays it."""
    storage = LocalStorage(root=str(server.home / "storage"))
    source, clip_id = seeded["source"], seeded["manifest_clip_id"]
    original = storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest).clips[0]
    variants = [
        Variant(index=0, version=2, hook="Watch this", caption_style="karaoke", layout="auto", clip=original,
                uniqueness={"frames": 0.1, "audio": 0.3, "overall": 0.2}),
        Variant(index=1, version=1, hook="Why short clips work", caption_style="pop_in", layout="single",
                clip=original.model_copy(update={"end_s": original.end_s - 0.5}),
                uniqueness={"frames": 0.1, "audio": 0.3, "overall": 0.2}),
    ]  # fmt: skip
    storage.write_model(variations_key(source, clip_id), MomentVariations(clip_id=clip_id, variants=variants))
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        sign_in(page, server)
        page.goto(f"{server.base_url}/#/clips/{seeded['clip_id']}")
        rows = page.locator(".variations-table tbody tr")
        expect(rows).to_have_count(2, timeout=WAIT_MS)
        expect(rows.first).to_contain_text("Watch this")
        expect(rows.first).to_contain_text("karaoke · auto")
        expect(rows.first).to_contain_text("40 %")  # overall 0.2 of the ~0.5 an unrelated clip gives
        assert_accessible(page, "clip page with variations")
        rows.nth(1).get_by_role("button", name="Watch v1").click()
        expect(page.locator("video").first).to_have_attribute("data-version", "1")
    finally:
        context.close()


def test_rerender_takes_the_finishing_options(server: ApiServer, seeded: dict, browser: Browser) -> None:
    """The clip page's re-render offers the new-job form's finishing options plus layout and clean-up cuts; the
    queued version's request carries what was chosen."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        sign_in(page, server)
        page.goto(f"{server.base_url}/#/clips/{seeded['clip_id']}")
        wait_for_rerenders_to_finish(page)  # one re-render of a clip at a time; an earlier test queued one
        finishing = page.get_by_role("group", name="Captions and finishing")
        expect(finishing.get_by_label("Layout")).to_have_value("auto", timeout=WAIT_MS)
        finishing.get_by_label("Profanity").select_option("bleep")
        finishing.get_by_label("Layout").select_option("speaker")
        finishing.get_by_label("Shorten long pauses").check()
        finishing.get_by_label("Longest pause kept (seconds)").fill("1.2")
        assert_accessible(page, "clip page with finishing options")
        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/rerender")) as sent:
            page.get_by_role("button", name="Re-render with these settings").click()
        assert sent.value.status == 202, sent.value.text()
        version = sent.value.json()["version"]
    finally:
        context.close()
    storage = LocalStorage(root=str(server.home / "storage"))
    request = read_version_request(storage, ClipVersionRef(seeded["source"], seeded["manifest_clip_id"], version))
    assert isinstance(request, ClipVersionRequest) and request.effects is not None
    effects = request.effects
    assert (effects.profanity, effects.layout) == ("bleep", "speaker")
    assert (effects.cleanup.remove_pauses, effects.cleanup.max_pause_s, effects.cleanup.remove_fillers) == (
        True,
        1.2,
        False,
    )


def wait_for_rerenders_to_finish(page: Page, timeout_s: float = 180.0) -> None:
    """Reload the clip page until its versions table shows no unfinished version."""
    unfinished = page.locator(".versions-table").locator(
        ".badge-queued, .badge-pending, .badge-running, .badge-rendering"
    )
    deadline = time.monotonic() + timeout_s
    while True:
        expect(page.locator(".versions-table tbody tr").first).to_be_visible(timeout=WAIT_MS)
        if unfinished.count() == 0:
            return
        assert time.monotonic() < deadline, "an earlier re-render of the clip never finished"
        page.wait_for_timeout(3000)
        page.reload()
