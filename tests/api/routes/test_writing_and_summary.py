"""What the ranker wrote reaches the review API (hook, hashtags, captions per platform; the post text uses them), and
a job's source summary is served once its step has run; on a seeded source (no pipeline run)."""

from __future__ import annotations

from pathlib import Path

from api.models import Clip, Job
from api.services.clips import sync_clips
from clipped.layout import RENDERED_CLIPS_FILE, SUMMARY_FILE, SourceRef
from clipped.publish.metadata import compose_post_text
from clipped.render_manifest import RenderedClipsManifest
from clipped.types import ClipWriting
from clipped.understand.summary import Chapter, SourceSummary
from tests.api.conftest import ApiHarness
from tests.api.routes.test_accounts import connect
from tests.api.routes.test_publications import account_ids, api, schedule, seed_clip, video  # noqa: F401 - fixtures
from tests.support.fake_tiktok import fake_tiktok_fixture  # noqa: F401 - used by the publishing `api` fixture
from tests.support.fake_x import fake_x_fixture  # noqa: F401
from tests.support.rendered_source import seed_rendered_source

WRITING = ClipWriting(
    hook="Nobody tells you this",
    hashtags=["#Startups", "#Engines"],
    post_captions={"x": "The shortest answer to a long question.", "tiktok": "Wait for it"},
    written_by="claude:claude-sonnet-4-5",
)


def test_clip_writing_and_source_summary(sqlite_api: ApiHarness) -> None:
    harness = sqlite_api
    owner = harness.register()
    storage = harness.state.storage
    source = SourceRef(owner.workspace_id, "talk-0123456789")
    rendered = seed_rendered_source(storage, source).model_copy(update={"writing": WRITING})
    manifest = storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest)
    storage.write_model(source.key(RENDERED_CLIPS_FILE), manifest.model_copy(update={"clips": [rendered]}))
    with harness.state.sessions() as session:
        job = Job(
            workspace_id=owner.workspace_id, user_id=owner.user_id, partition_key=source.partition_key,
            source_kind="upload", source_location=source.key("upload.mp4"), display_name="My talk",
            settings={"max_clips": 1}, run_ids=[],
        )  # fmt: skip
        session.add(job)
        session.flush()
        sync_clips(harness.state, session, job, "run-1")
        job_id = job.id

    [clip] = harness.client.get(f"/api/clips?job_id={job_id}", headers=owner.headers).json()["items"]
    assert clip["hook"] == "Nobody tells you this" and clip["hashtags"] == ["Startups", "Engines"]
    assert clip["post_captions"]["x"] == "The shortest answer to a long question."
    expected = compose_post_text("x", clip["title"], "The shortest answer to a long question.", clip["hashtags"])
    assert expected.caption.endswith("#Startups #Engines")

    summary_url = f"/api/jobs/{job_id}/summary"
    assert harness.client.get(summary_url, headers=owner.headers).json() == {
        "ready": False, "method": None, "summary": "", "key_points": [], "chapters": [], "fallback_reason": None,
    }  # fmt: skip
    made = SourceSummary(
        summary="A talk about engines.",
        key_points=["Engines matter"],
        chapters=[Chapter(start_s=0.5, end_s=61.0, title="Engines"), Chapter(start_s=61.0, end_s=90.0, title="Q&A")],
        method="extractive",
    )
    storage.write_model(source.key(SUMMARY_FILE), made)
    body = harness.client.get(summary_url, headers=owner.headers).json()
    assert body["ready"] and body["method"] == "extractive" and body["summary"] == "A talk about engines."
    assert [(c["start_s"], c["title"]) for c in body["chapters"]] == [(0.5, "Engines"), (61.0, "Q&A")]
    stranger = harness.register()
    assert harness.client.get(summary_url, headers=stranger.headers).status_code == 404


def test_a_post_uses_the_written_caption_unless_the_editor_wrote_one(api: ApiHarness, video: Path) -> None:  # noqa: F811
    owner = api.register()
    connect(api, owner, "x")
    x_account = account_ids(api, owner)["x"]
    clip_id = seed_clip(api, owner, video, description="")
    with api.state.sessions() as session:
        session.get(Clip, clip_id).post_captions = {"x": "The shortest answer to a long question."}
        session.commit()
    [post] = schedule(api, owner, clip_id, [x_account]).json()
    assert post["caption"] == "The best minute of the talk The shortest answer to a long question.\n\n#talks #clipped"
    edited = seed_clip(api, owner, video, description="My own words")
    with api.state.sessions() as session:
        session.get(Clip, edited).post_captions = {"x": "The shortest answer to a long question."}
        session.commit()
    [post] = schedule(api, owner, edited, [x_account]).json()
    assert "My own words" in post["caption"] and "shortest answer" not in post["caption"]
