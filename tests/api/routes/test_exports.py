"""Downloads and exports: a clip's MP4, SRT/VTT and NLE timelines through signed links, and the streamed zip of a
job's approved clips, on a seeded source (no pipeline run)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

import opentimelineio as otio
import pytest
import webvtt

from api.models import Job
from clipped.export.cut_list import SourceSpan
from clipped.export.timelines import NLE_FORMATS, frame_range
from clipped.layout import RENDERED_CLIPS_FILE, SourceRef
from clipped.render_manifest import RenderedClipsManifest
from tests.api.conftest import Account, ApiHarness
from tests.api.world import FAKE_JPEG, FAKE_MP4, add_clip
from tests.support.rendered_source import seed_rendered_source

UNSAFE_TITLE = '../../etc/passwd: "ünïcode" <clip>'
SECOND_SPANS = [(0.5, 1.4), (2.0, 3.5)]  # the second clip keeps two stretches (a clean-up cut between)


def _filename(response) -> str:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and disposition.isascii()
    return unquote(re.search(r"filename\*=UTF-8''([^;\s]+)", disposition)[1])


@pytest.fixture
def seeded(sqlite_api: ApiHarness) -> tuple[ApiHarness, Account, str, list[str]]:
    """A finished job with two rendered clips (the second cut into two spans) and their files; (api, owner,
    job id, clip ids)."""
    api = sqlite_api
    owner = api.register()
    storage = api.state.storage
    source = SourceRef(owner.workspace_id, "talk-0123456789")
    first = seed_rendered_source(storage, source)
    second = first.model_copy(
        update={
            "rank": 2,
            "clip_id": f"{source.video_id}-02-0123abcd",
            "video_key": source.clip_key(f"{source.video_id}-02-0123abcd", "clip.mp4"),
            "thumbnail_key": source.clip_key(f"{source.video_id}-02-0123abcd", "thumbnail.jpg"),
            "start_s": SECOND_SPANS[0][0],
            "end_s": SECOND_SPANS[-1][1],
            "kept_spans_s": SECOND_SPANS,
            "title": UNSAFE_TITLE,
        }
    )
    manifest = storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest)
    storage.write_model(source.key(RENDERED_CLIPS_FILE), manifest.model_copy(update={"clips": [first, second]}))
    ids = []
    with api.state.sessions() as session:
        job = Job(
            workspace_id=owner.workspace_id,
            user_id=owner.user_id,
            partition_key=source.partition_key,
            source_kind="upload",
            source_location=source.key("upload.mp4"),
            display_name="My talk",
            settings={"max_clips": 2},
            run_ids=[],
        )
        session.add(job)
        session.flush()
        for rendered in (first, second):
            storage.write_bytes(rendered.video_key, FAKE_MP4 + rendered.clip_id.encode())
            storage.write_bytes(rendered.thumbnail_key, FAKE_JPEG)
            clip = add_clip(
                session,
                job.id,
                owner.workspace_id,
                rendered.clip_id,
                video_key=rendered.video_key,
                thumbnail_key=rendered.thumbnail_key,
                title=rendered.title,
                rank=rendered.rank,
            )
            clip.start_s, clip.end_s = rendered.start_s, rendered.end_s
            clip.hashtags, clip.description = ["#talk"], f"about {rendered.rank}"
            ids.append(clip.id)
        session.commit()
        return api, owner, job.id, ids


def test_clip_downloads_through_signed_links(seeded, tmp_path: Path) -> None:
    api, owner, _, (first_id, second_id) = seeded
    listed = api.client.get(f"/api/clips/{second_id}/downloads", headers=owner.headers)
    assert listed.status_code == 200, listed.text
    downloads = {item["format"]: item for item in listed.json()}
    assert set(downloads) == {"mp4", "srt", "vtt", *NLE_FORMATS}
    bodies = {}
    for format_id, item in downloads.items():
        response = api.client.get(item["url"])  # no header: the link alone
        assert response.status_code == 200, (format_id, response.text)
        name = _filename(response)
        assert name == item["filename"] and "/" not in name and "\\" not in name and not name.startswith(".")
        assert name.startswith("etc passwd") and "ünïcode" in name
        bodies[format_id] = response.content
    assert bodies["mp4"].startswith(FAKE_MP4)
    # Captions: on the clip's timeline, with nothing from the cut stretch (1.4–2.0 s of the source).
    srt = tmp_path / "clip.srt"
    srt.write_bytes(bodies["srt"])
    cues = webvtt.from_srt(str(srt))
    assert cues and all(cue.end_in_seconds <= 2.5 for cue in cues)
    assert bodies["vtt"].startswith(b"WEBVTT")
    # The NLE timelines reference the source with the clip's two spans.
    rate = 25.0  # the seeded source's frame rate
    expected = [frame_range(SourceSpan(*span), rate) for span in SECOND_SPANS]
    for format_id, nle in NLE_FORMATS.items():
        options = {"rate": rate} if format_id == "edl" else {}
        read = otio.adapters.read_from_string(bodies[format_id].decode(), adapter_name=nle.adapter, **options)
        timeline = read[0] if isinstance(read, otio.schema.SerializableCollection) else read
        clips = list(timeline.video_tracks()[0].find_clips())
        got = [(round(c.source_range.start_time.to_frames()), round(c.duration().to_frames())) for c in clips]
        assert got == [(first, end - first) for first, end in expected], format_id
        assert clips[0].media_reference.target_url.endswith("/sources/talk-0123456789/source.mp4")
    # A link names one file: it opens neither another format nor another clip.
    srt_link = downloads["srt"]["url"]
    assert api.client.get(srt_link.replace("/download/srt", "/download/vtt")).status_code == 401
    assert api.client.get(srt_link.replace(second_id, first_id)).status_code == 401
    assert api.client.get(f"/api/clips/{second_id}/download/edl").status_code == 401
    intruder = api.register()
    assert api.client.get(f"/api/clips/{second_id}/download/mp4", headers=intruder.headers).status_code == 404


def test_export_of_approved_clips_is_a_streamed_zip(seeded) -> None:
    api, owner, job_id, (_, second_id) = seeded
    none_yet = api.client.post(f"/api/jobs/{job_id}/export-link", headers=owner.headers)
    assert none_yet.status_code == 409 and "approve" in none_yet.json()["error"]["message"]
    assert api.client.post(f"/api/clips/{second_id}/approve", headers=owner.headers).status_code == 200
    link = api.client.post(f"/api/jobs/{job_id}/export-link", headers=owner.headers)
    assert link.status_code == 200, link.text
    assert link.json()["clips"] == 1 and link.json()["filename"] == "My talk - approved clips.zip"
    with api.client.stream("GET", link.json()["url"]) as response:
        assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
        assert "content-length" not in response.headers  # streamed, not built first
        assert _filename(response) == "My talk - approved clips.zip"
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.iter_bytes())))
    assert archive.testzip() is None
    stem = "My talk/01 etc passwd ünïcode clip"
    assert archive.namelist() == [f"{stem}.mp4", f"{stem}.srt", "My talk/metadata.json"]
    assert archive.read(f"{stem}.mp4").startswith(FAKE_MP4)
    assert archive.read(f"{stem}.srt").startswith(b"1\n00:00:0")
    metadata = json.loads(archive.read("My talk/metadata.json"))
    (entry,) = metadata["clips"]
    assert entry["id"] == second_id and entry["title"] == UNSAFE_TITLE and entry["hashtags"] == ["#talk"]
    assert entry["description"] == "about 2" and entry["file"] == "01 etc passwd ünïcode clip.mp4"
    assert (entry["start_s"], entry["end_s"], entry["score"]) == (0.5, 3.5, 0.5)
    # The zip link is the job's alone, and another workspace cannot mint one.
    assert api.client.get(f"/api/jobs/{job_id}/export").status_code == 401
    intruder = api.register()
    assert api.client.post(f"/api/jobs/{job_id}/export-link", headers=intruder.headers).status_code == 404
