"""GET /api/search, POST /api/search/clips and removing a job: over a real moment index (MiniLM + LanceDB)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.models import ClipVersion, Job
from clipped.layout import REQUEST_FILE, TRANSCRIPT_FILE, SourceRef
from clipped.render.versions import VERSION_REQUEST_FILE
from clipped.search.moment_clip import MomentClipRequest
from clipped.search.moments import moment_rows, speech_moments
from clipped.select.sentences import split_sentences
from clipped.sources import SourceRequest
from clipped.types import ClipSettings, Segment, Transcript, Word
from tests.api.conftest import ApiHarness

SENTENCES = [
    "Welcome to the garden club.",
    "Tomatoes need six hours of sunlight every day.",
    "Water them deeply at the roots.",
    "Next week we will talk about compost.",
]
JPEG = b"\xff\xd8\xff\xe0 a tiny stand-in thumbnail \xff\xd9"


def seed_indexed_source(api: ApiHarness, workspace_id: str, user_id: str) -> tuple[str, SourceRef]:
    """A finished job whose source has a transcript (4 sentences, 5 s each) and is in the moment index."""
    source = SourceRef(workspace_id, "garden-0123456789")
    storage = api.state.storage
    words = []
    for index, sentence in enumerate(SENTENCES):
        tokens = sentence.split()
        words += [
            Word(word=t, start_s=index * 5.0 + i * 0.5, end_s=index * 5.0 + i * 0.5 + 0.4) for i, t in enumerate(tokens)
        ]
    transcript = Transcript(
        language="en",
        duration_s=20.0,
        model="seeded",
        segments=[Segment(start_s=0.0, end_s=20.0, text=" ".join(SENTENCES), words=words)],
    )
    storage.write_model(source.key(TRANSCRIPT_FILE), transcript)
    settings = ClipSettings(min_duration_s=7.0, max_duration_s=30.0, caption_style="pop_in")
    storage.write_model(
        source.key(REQUEST_FILE),
        SourceRequest(kind="upload", location="x", display_name="Garden talk", settings=settings),
    )
    thumbnail = source.key("moments/thumb_0000.jpg")
    storage.write_bytes(thumbnail, JPEG)
    rows = moment_rows(
        source, speech_moments(split_sentences(transcript.words)), [(5.0, thumbnail)], api.state.vector_store.embedder()
    )
    api.state.vector_store.store().replace_source(workspace_id, source.partition_key, rows)
    with api.state.sessions() as session:
        job = Job(
            workspace_id=workspace_id,
            user_id=user_id,
            partition_key=source.partition_key,
            source_kind="upload",
            source_location="x",
            display_name="Garden talk",
            settings=settings.model_dump(),
            run_ids=[],
            canceled_at=datetime.now(UTC),
        )
        session.add(job)
        session.commit()
        return job.id, source


def test_search_finds_moments_makes_a_clip_and_forgets_a_removed_source(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    owner, stranger = api.register(), api.register()
    job_id, source = seed_indexed_source(api, owner.workspace_id, owner.user_id)

    found = api.client.get("/api/search", params={"q": "how much sun do tomatoes want"}, headers=owner.headers)
    assert found.status_code == 200, found.text
    best = found.json()["results"][0]
    assert (best["job_id"], best["source"], best["kind"], best["start_s"]) == (job_id, "Garden talk", "speech", 5.0)
    assert best["context"] == " ".join(SENTENCES[:3]) and 0 < best["score"] <= 1
    assert best["thumbnail"].startswith("data:image/jpeg;base64,")
    assert api.client.get("/api/search", params={"q": "tomatoes"}, headers=stranger.headers).json()["results"] == []
    assert api.client.get("/api/search", headers=owner.headers).json() == {"query": "", "results": []}

    # A clip from the moment: whole sentences around it, at least the source's 7 s, rendered by clip_version_job.
    asked = {"job_id": job_id, "start_s": best["start_s"], "end_s": best["end_s"], "query": "tomato sun"}
    made = api.client.post("/api/search/clips", json=asked, headers=owner.headers)
    assert made.status_code == 201, made.text
    clip = made.json()
    assert (clip["job_id"], clip["start_s"], clip["status"]) == (job_id, 5.0, "proposed")
    assert clip["end_s"] == 12.9 and clip["title"].startswith("Tomatoes need six hours")
    [(partition, _run)] = api.launcher.launched_versions
    folder, partition_source = partition.split("|")
    assert partition_source == source.partition_key and folder.startswith("moment-") and folder.endswith("-v1")
    stored = api.state.storage.read_model(source.clip_key(folder, VERSION_REQUEST_FILE), MomentClipRequest)
    assert (stored.start_s, stored.end_s, stored.caption_style, stored.query) == (5.0, 12.9, "pop_in", "tomato sun")
    again = api.client.post("/api/search/clips", json=asked, headers=owner.headers)
    assert (again.status_code, again.json()["id"]) == (200, clip["id"]) and len(api.launcher.launched_versions) == 1
    versions = api.client.get(f"/api/clips/{clip['id']}/versions", headers=owner.headers).json()
    assert [(v["version"], v["status"]) for v in versions] == [(1, "rendering")]
    # Once rendered, another caption style keeps the moment's window.
    with api.state.sessions() as session:
        session.query(ClipVersion).filter(ClipVersion.clip_id == clip["id"]).update({"status": "ready"})
        session.commit()
    rerendered = api.client.post(
        f"/api/clips/{clip['id']}/rerender", json={"caption_style": "karaoke"}, headers=owner.headers
    )
    assert rerendered.status_code in (200, 201, 202), rerendered.text
    v2 = api.state.storage.read_model(
        source.clip_key(folder.replace("-v1", "-v2"), VERSION_REQUEST_FILE), MomentClipRequest
    )
    assert (v2.version, v2.caption_style, v2.start_s, v2.end_s) == (2, "karaoke", 5.0, 12.9)
    not_yours = api.client.post("/api/search/clips", json=asked, headers=stranger.headers)
    assert not_yours.status_code == 404

    # Removing the job removes its source's moments from search.
    assert api.client.delete(f"/api/jobs/{job_id}", headers=owner.headers).status_code == 204
    assert api.client.get("/api/search", params={"q": "tomatoes"}, headers=owner.headers).json()["results"] == []
    assert api.state.vector_store.store().count(owner.workspace_id) == 0
    assert api.client.get(f"/api/clips/{clip['id']}", headers=owner.headers).status_code == 404
