"""One real job through the API on the bundled sample (embedded launcher, real Dagster instance, real render).

The module shares one app and one finished job (the pipeline takes ~60-90 s on 2 cores), so its tests run in order
in one xdist group.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from api.services.launcher import PARTITION_TAG
from clipped.run_tags import TRIGGER_TAG, WORKSPACE_TAG
from tests.api.conftest import Account, ApiHarness, make_harness, use_api_env
from tests.conftest import SAMPLE, make_video

pytestmark = pytest.mark.xdist_group("api_e2e")
JOB_TIMEOUT_S = 420


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiHarness]:
    root = tmp_path_factory.mktemp("api-e2e")
    with pytest.MonkeyPatch.context() as monkeypatch:
        home, media = use_api_env(root, monkeypatch)
        harness = make_harness((home, media), f"sqlite:///{root / 'app.db'}", None)
        with harness.client:
            harness.register("editor@example.com")
            yield harness


def upload(api: ApiHarness, account: Account, path: Path) -> str:
    data = path.read_bytes()
    ticket = api.client.post(
        "/api/uploads",
        headers=account.headers,
        json={"filename": path.name, "content_type": "video/mp4", "size": len(data)},
    )
    assert ticket.status_code == 201, ticket.text
    ticket = ticket.json()
    assert ticket["method"] == "PUT"
    put = api.client.put(ticket["url"], content=data, headers=ticket["headers"])
    assert put.status_code == 200, put.text
    confirmed = api.client.post(f"/api/uploads/{ticket['upload_id']}/confirm", headers=account.headers)
    assert confirmed.status_code == 200 and confirmed.json()["size"] == len(data)
    return ticket["upload_id"]


def wait_for(api: ApiHarness, account: Account, job_id: str, statuses: set[str], timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = api.client.get(f"/api/jobs/{job_id}", headers=account.headers).json()
        if job["status"] in statuses or time.monotonic() > deadline:
            return job
        time.sleep(1.0)


def wait_for_versions(api: ApiHarness, headers: dict[str, str], clip_id: str, timeout_s: float) -> list[dict]:
    """The clip's versions once none is rendering (or at the deadline)."""
    deadline = time.monotonic() + timeout_s
    while True:
        versions = api.client.get(f"/api/clips/{clip_id}/versions", headers=headers).json()
        if all(v["status"] != "rendering" for v in versions) or time.monotonic() > deadline:
            return versions
        time.sleep(1.0)


@pytest.fixture(scope="module")
def finished_job(e2e: ApiHarness) -> dict:
    account = e2e.accounts[0]
    upload_id = upload(e2e, account, SAMPLE)
    body = {"upload_id": upload_id, "settings": {"max_clips": 1, "caption_style": "highlight_word"}}
    headers = {**account.headers, "Idempotency-Key": "sample-1"}
    created = e2e.client.post("/api/jobs", headers=headers, json=body)
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["status"] in ("queued", "running")
    assert job["source"] == {"kind": "upload", "display_name": "clipped_sample"}
    # Same key and body: the same job, not a second run.
    again = e2e.client.post("/api/jobs", headers=headers, json=body)
    assert again.status_code == 200 and again.json()["id"] == job["id"] and again.json()["run_id"] == job["run_id"]
    conflict = e2e.client.post("/api/jobs", headers=headers, json={**body, "settings": {"max_clips": 2}})
    assert conflict.status_code == 409
    return wait_for(e2e, account, job["id"], {"succeeded", "failed", "canceled"}, JOB_TIMEOUT_S)


def test_job_runs_to_success_with_steps_from_dagster(e2e: ApiHarness, finished_job: dict) -> None:
    job = finished_job
    assert job["status"] == "succeeded", job
    assert job["progress"] == 1.0 and job["clip_count"] == 1 and job["error"] is None
    # "updated" follows the run (its last event), not the moment the job was created.
    assert job["updated_at"] >= job["steps"][-1]["ended_at"] > job["created_at"] and job["seconds_left"] is None
    names = [step["name"] for step in job["steps"]]
    assert names == [
        "source_video", "transcript", "scenes", "audio_features", "candidates", "moment_index", "source_summary",
        "faces", "rendered_clips",
    ]  # fmt: skip
    for step in job["steps"]:
        assert step["status"] == "succeeded" and step["duration_s"] is not None and step["duration_s"] >= 0, step
    run = e2e.state.instance.get_run_by_id(job["run_id"])
    assert run is not None and run.job_name == "clip_job"
    assert run.tags[TRIGGER_TAG] == "api" and run.tags[WORKSPACE_TAG] == job["workspace_id"]
    assert run.tags[PARTITION_TAG].startswith(job["workspace_id"] + ".")
    listed = e2e.client.get("/api/jobs?status=succeeded", headers=e2e.accounts[0].headers).json()
    assert [j["id"] for j in listed["items"]] == [job["id"]] and listed["total"] == 1


def test_clip_listed_streamed_with_range_and_approved(e2e: ApiHarness, finished_job: dict) -> None:
    headers = e2e.accounts[0].headers
    clips = e2e.client.get(f"/api/clips?job_id={finished_job['id']}&sort=-score", headers=headers).json()
    assert clips["total"] == 1
    clip = clips["items"][0]
    assert clip["status"] == "proposed" and clip["version"] == 1 and clip["title"]
    # Why it was picked is the reviewer's, in its own field; the description is left for the editor to write.
    assert clip["reason"] and clip["description"] == ""
    assert 15 - 0.5 <= clip["duration_s"] <= 90 + 0.5

    full = e2e.client.get(clip["video_url"], headers=headers)
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4"
    assert full.content[4:8] == b"ftyp"
    size = len(full.content)
    part = e2e.client.get(clip["video_url"], headers={**headers, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == full.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    tail = e2e.client.get(clip["video_url"], headers={**headers, "Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == full.content[-10:]
    bad = e2e.client.get(clip["video_url"], headers={**headers, "Range": f"bytes={size}-"})
    assert bad.status_code == 416 and bad.json()["error"]["code"] == "range_not_satisfiable"
    # <video src> cannot send headers: video_url carries its own signed link; the access token never works there.
    by_link = e2e.client.get(clip["video_url"], headers={"Range": "bytes=0-9"})
    assert by_link.status_code == 206 and by_link.content == full.content[:10]
    token = headers["Authorization"].split()[1]
    by_access_token = e2e.client.get(f"/api/clips/{clip['id']}/video?version=1&access_token={token}")
    assert by_access_token.status_code == 401
    thumb = e2e.client.get(clip["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"

    approved = e2e.client.post(f"/api/clips/{clip['id']}/approve", headers=headers).json()
    assert approved["status"] == "approved"
    edited = e2e.client.patch(
        f"/api/clips/{clip['id']}", headers=headers, json={"title": " New title ", "hashtags": ["#clips", "demo"]}
    ).json()
    assert edited["title"] == "New title" and edited["hashtags"] == ["clips", "demo"]
    assert e2e.client.get("/api/clips?status=approved", headers=headers).json()["total"] == 1
    comment = e2e.client.post(
        f"/api/clips/{clip['id']}/comments", headers=headers, json={"body": "cut the intro", "at_s": 1.5}
    )
    assert comment.status_code == 201 and comment.json()["author"]["display_name"] == "editor"
    late = e2e.client.post(f"/api/clips/{clip['id']}/comments", headers=headers, json={"body": "x", "at_s": 500})
    assert late.status_code == 422
    assert [c["at_s"] for c in e2e.client.get(f"/api/clips/{clip['id']}/comments", headers=headers).json()] == [1.5]


def _decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def test_caption_preview_differs_by_style(e2e: ApiHarness, finished_job: dict) -> None:
    headers = e2e.accounts[0].headers
    clip = e2e.client.get(f"/api/clips?job_id={finished_job['id']}", headers=headers).json()["items"][0]
    styles = [s["id"] for s in e2e.client.get("/api/caption-styles", headers=headers).json()]
    assert styles == ["highlight_word", "karaoke", "pop_in", "typewriter", "bounce"]
    frames = {}
    for style in ("highlight_word", "karaoke"):
        response = e2e.client.get(f"/api/clips/{clip['id']}/preview?caption_style={style}", headers=headers)
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        frames[style] = _decode(response.content)
        assert frames[style].shape == (1920, 1080, 3)
    # Same frame, other caption colours: the caption band differs, the top of the picture does not.
    band = slice(int(1920 * 0.55), 1920)
    assert np.abs(frames["karaoke"][band].astype(int) - frames["highlight_word"][band].astype(int)).mean() > 0.5
    bad = e2e.client.get(f"/api/clips/{clip['id']}/preview?caption_style=comic-sans", headers=headers)
    assert bad.status_code == 422


def test_rerender_creates_a_new_version_and_keeps_the_old(e2e: ApiHarness, finished_job: dict) -> None:
    headers = e2e.accounts[0].headers
    clip = e2e.client.get(f"/api/clips?job_id={finished_job['id']}", headers=headers).json()["items"][0]
    # The review decision belongs to the clip, not to a version: it survives the re-render.
    assert e2e.client.post(f"/api/clips/{clip['id']}/approve", headers=headers).status_code == 200
    queued = e2e.client.post(f"/api/clips/{clip['id']}/rerender", headers=headers, json={"caption_style": "karaoke"})
    assert queued.status_code == 202 and queued.json()["version"] == 2 and queued.json()["status"] == "rendering"
    # The re-render is a clip_version_job run; the version settles when the API reads it after the run ends.
    versions = wait_for_versions(e2e, headers, clip["id"], JOB_TIMEOUT_S)
    assert [(v["version"], v["caption_style"], v["status"]) for v in versions] == [
        (1, "highlight_word", "ready"),
        (2, "karaoke", "ready"),
    ], versions
    current = e2e.client.get(f"/api/clips/{clip['id']}", headers=headers).json()
    assert current["version"] == 2 and current["caption_style"] == "karaoke" and current["status"] == "approved"
    old = e2e.client.get(f"/api/clips/{clip['id']}/video?version=1", headers=headers)
    new = e2e.client.get(f"/api/clips/{clip['id']}/video?version=2", headers=headers)
    assert old.status_code == new.status_code == 200 and old.content != new.content


def test_events_stream_the_finished_job(e2e: ApiHarness, finished_job: dict) -> None:
    account = e2e.accounts[0]
    link = e2e.client.post(f"/api/jobs/{finished_job['id']}/stream-token", headers=account.headers).json()
    with e2e.client.stream("GET", link["url"]) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    assert text.startswith("event: job\ndata: ") and '"status":"succeeded"' in text
    assert e2e.client.get(f"/api/jobs/{finished_job['id']}/events").status_code == 401
    by_access_token = f"/api/jobs/{finished_job['id']}/events?access_token={account.access_token}"
    assert e2e.client.get(by_access_token).status_code == 401


def test_bad_source_fails_with_its_reason_and_retry_starts_a_new_run(e2e: ApiHarness, finished_job: dict) -> None:
    account = e2e.accounts[0]
    silent = make_video(e2e.media / "no_audio.mp4", seconds=2, audio=None)
    job = e2e.client.post("/api/jobs", headers=account.headers, json={"upload_id": upload(e2e, account, silent)})
    assert job.status_code == 201
    failed = wait_for(e2e, account, job.json()["id"], {"failed", "succeeded"}, 180)
    assert failed["status"] == "failed" and failed["error"].startswith("source_video:"), failed
    steps = {s["name"]: s["status"] for s in failed["steps"]}
    assert steps["source_video"] == "failed" and steps["rendered_clips"] == "skipped"
    assert e2e.client.post(f"/api/jobs/{failed['id']}/cancel", headers=account.headers).status_code == 409
    retried = e2e.client.post(f"/api/jobs/{failed['id']}/retry", headers=account.headers).json()
    assert retried["run_id"] != failed["run_id"]
    again = wait_for(e2e, account, failed["id"], {"failed", "succeeded"}, 180)
    assert again["status"] == "failed" and again["run_id"] == retried["run_id"]
    assert e2e.client.post(f"/api/jobs/{finished_job['id']}/retry", headers=account.headers).status_code == 409


def test_cancel_a_running_job(e2e: ApiHarness, finished_job: dict) -> None:
    account = e2e.accounts[0]
    longer = make_video(e2e.media / "cancel_me.mp4", seconds=20)
    job = e2e.client.post("/api/jobs", headers=account.headers, json={"upload_id": upload(e2e, account, longer)}).json()
    running = wait_for(e2e, account, job["id"], {"running", "succeeded", "failed"}, 120)
    assert running["status"] == "running", running
    canceled = e2e.client.post(f"/api/jobs/{job['id']}/cancel", headers=account.headers)
    assert canceled.status_code == 200
    final = wait_for(e2e, account, job["id"], {"canceled"}, 60)
    assert final["status"] == "canceled", final
    assert e2e.state.instance.get_run_by_id(final["run_id"]).status.value == "CANCELED"
    assert all(s["status"] in ("succeeded", "failed", "skipped") for s in final["steps"])
