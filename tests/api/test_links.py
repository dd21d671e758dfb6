"""Signed links in URLs: each opens exactly its one file or stream, expires, cannot be forged, and is never an
access token (nor an access token a link)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from api.links import EVENTS, MEDIA, MEDIA_ROUND_S, clip_media_resource, job_events_resource
from api.models import Clip, ClipVersion
from api.tokens import LinkGrant, decode_link_token, issue_link_token
from tests.api.conftest import ApiHarness, s3_harness
from tests.api.members import add_member
from tests.api.routes_table import CASES, call
from tests.api.test_auth import assert_error
from tests.api.world import FAKE_JPEG, FAKE_MP4, World, add_clip, seed_world

OTHER_MP4 = FAKE_MP4[:24] + b"version two" * 40


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def add_version_and_clip(api: ApiHarness, world: World) -> str:
    """A second, ready version of the world's clip, and a second clip in the same workspace; that clip's id."""
    storage = api.state.storage
    with api.state.sessions() as session:
        clip = session.get(Clip, world.clip_id)
        folder = f"{world.workspace_id}/clips/extra-{clip.id}"
        storage.write_bytes(f"{folder}/v2.mp4", OTHER_MP4)
        storage.write_bytes(f"{folder}/v2.jpg", FAKE_JPEG)
        session.add(
            ClipVersion(
                clip_id=clip.id,
                version=2,
                caption_style="karaoke",
                status="ready",
                video_key=f"{folder}/v2.mp4",
                thumbnail_key=f"{folder}/v2.jpg",
            )
        )
        other = add_clip(
            session,
            clip.job_id,
            clip.workspace_id,
            "other-02",
            video_key=f"{folder}/v2.mp4",
            thumbnail_key=f"{folder}/v2.jpg",
            title="other clip",
            rank=2,
        )
        session.commit()
        return other.id


def test_media_link_opens_exactly_its_file(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    world = seed_world(api)
    other_clip = add_version_and_clip(api, world)
    clip = api.client.get(f"/api/clips/{world.clip_id}", headers=world.owner.headers).json()
    assert "access_token" not in clip["video_url"] and world.owner.access_token not in clip["video_url"]

    # No header: the link alone opens its file (Range included) and its thumbnail link opens the thumbnail.
    video = api.client.get(clip["video_url"])
    assert video.status_code == 200 and video.content == FAKE_MP4
    part = api.client.get(clip["video_url"], headers={"Range": "bytes=4-7"})
    assert part.status_code == 206 and part.content == b"ftyp"
    thumbnail = api.client.get(clip["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.content == FAKE_JPEG

    link = token_of(clip["video_url"])
    elsewhere = {
        "thumbnail of the same version": f"/api/clips/{world.clip_id}/thumbnail?version=1&token={link}",
        "another version": f"/api/clips/{world.clip_id}/video?version=2&token={link}",
        "no version (the current one)": f"/api/clips/{world.clip_id}/video?token={link}",
        "another clip": f"/api/clips/{other_clip}/video?version=1&token={link}",
        "the caption preview": f"/api/clips/{world.clip_id}/preview?token={link}",
        "the job's event stream": f"/api/jobs/{world.job_id}/events?token={link}",
        "the upload PUT": f"/api/uploads/{world.pending_upload_id}/content?token={link}",
    }
    for name, url in elsewhere.items():
        method = "PUT" if "/uploads/" in url else "GET"
        response = api.client.request(method, url, content=FAKE_MP4 if method == "PUT" else None)
        assert response.status_code == 401, (name, response.status_code, response.text)
        assert_error(response, 401, "unauthorized")

    # Each version has its own link: the versions list hands out the one for version 2.
    versions = api.client.get(f"/api/clips/{world.clip_id}/versions", headers=world.owner.headers).json()
    second = next(v for v in versions if v["version"] == 2)
    assert api.client.get(second["video_url"]).content == OTHER_MP4


def test_expired_tampered_and_foreign_links_are_refused(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    world = seed_world(api)
    secret = api.state.settings.jwt_secret
    resource = clip_media_resource(world.clip_id, 1, "video")
    grant = LinkGrant(resource=resource, user_id=world.owner.user_id)
    good = issue_link_token(grant, MEDIA, secret, 3600)
    head, body, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    cases = {
        "expired": issue_link_token(grant, MEDIA, secret, 3600, now=datetime.now(UTC) - timedelta(hours=2)),
        "tampered signature": f"{head}.{body}.{flipped}",
        "signed with the access-token key": jwt.encode(claims, secret, algorithm="HS256"),
        "signed with a guessed key": jwt.encode(claims, "guessed-" + "s" * 40, algorithm="HS256"),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "an event-stream link for the same resource": issue_link_token(grant, EVENTS, secret, 3600),
        "the owner's access token": world.owner.access_token,
        "garbage": "not-a-token",
    }
    url = f"/api/clips/{world.clip_id}/video?version=1&token="
    for name, token in cases.items():
        response = api.client.get(url + token)
        assert response.status_code == 401, name
        assert_error(response, 401, "unauthorized")
    assert api.client.get(url + good).status_code == 200
    # The old way is gone: an access token in the query string opens nothing.
    old_way = f"/api/clips/{world.clip_id}/video?version=1&access_token={world.owner.access_token}"
    assert_error(api.client.get(old_way), 401, "unauthorized")


def test_a_link_is_never_a_bearer_token(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    world = seed_world(api)
    clip = api.client.get(f"/api/clips/{world.clip_id}", headers=world.owner.headers).json()
    stream = api.client.post(f"/api/jobs/{world.job_id}/stream-token", headers=world.owner.headers).json()
    upload = api.client.post(
        "/api/uploads",
        headers=world.owner.headers,
        json={"filename": "a.mp4", "content_type": "video/mp4", "size": len(FAKE_MP4)},
    ).json()
    links = [token_of(clip["video_url"]), token_of(clip["thumbnail_url"]), stream["token"], token_of(upload["url"])]
    for link in links:
        bearer = {"Authorization": f"Bearer {link}"}
        for case in CASES:
            response = call(api.client, case, world, bearer)
            assert response.status_code == 401, (case.name, response.status_code, response.text)
            assert response.json()["error"]["code"] == "unauthorized"
        for path in ("/api/me", "/api/workspaces", "/api/caption-styles"):
            assert_error(api.client.get(path, headers=bearer), 401, "unauthorized")


def test_links_follow_the_callers_access(sqlite_api: ApiHarness) -> None:
    """A link stands for whoever asked for it: a member removed, or an API token revoked, since then gets nothing."""
    api = sqlite_api
    world = seed_world(api)
    viewer = api.register()
    members = f"/api/workspaces/{world.workspace_id}/members"
    add_member(api, world.owner, world.workspace_id, viewer, "viewer")
    viewer_clip = api.client.get(f"/api/clips/{world.clip_id}", headers=viewer.headers).json()
    assert api.client.get(viewer_clip["video_url"]).status_code == 200
    api.client.delete(f"{members}/{viewer.user_id}", headers=world.owner.headers)
    assert_error(api.client.get(viewer_clip["video_url"]), 404, "not_found")

    tokens = f"/api/workspaces/{world.workspace_id}/tokens"
    created = api.client.post(tokens, headers=world.owner.headers, json={"name": "b", "scopes": ["read"]}).json()
    machine = {"Authorization": f"Bearer {created['token']}"}
    machine_clip = api.client.get(f"/api/clips/{world.clip_id}", headers=machine).json()
    assert api.client.get(machine_clip["thumbnail_url"]).status_code == 200
    api.client.delete(f"{tokens}/{created['id']}", headers=world.owner.headers)
    assert_error(api.client.get(machine_clip["thumbnail_url"]), 401, "unauthorized")


def test_stream_token_opens_only_its_jobs_events(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    world, elsewhere = seed_world(api), seed_world(api)
    issued = api.client.post(f"/api/jobs/{world.job_id}/stream-token", headers=world.owner.headers)
    assert issued.status_code == 200
    stream = issued.json()
    assert stream["url"] == f"/api/jobs/{world.job_id}/events?token={stream['token']}"
    expires_at = datetime.fromisoformat(stream["expires_at"])
    remaining = (expires_at - datetime.now(UTC)).total_seconds()
    assert api.state.settings.stream_token_ttl_s - 5 <= remaining <= api.state.settings.stream_token_ttl_s + 1
    grant = decode_link_token(stream["token"], EVENTS, api.state.settings.jwt_secret)
    assert grant.resource == job_events_resource(world.job_id) and grant.user_id == world.owner.user_id

    with api.client.stream("GET", stream["url"]) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    assert text.startswith("event: job\ndata: ") and '"status":"canceled"' in text

    # The same owner's token for one job does not open another job's stream, and a stranger cannot get one.
    foreign = api.client.get(f"/api/jobs/{elsewhere.job_id}/events?token={stream['token']}")
    assert_error(foreign, 401, "unauthorized")
    stranger = api.client.post(f"/api/jobs/{world.job_id}/stream-token", headers=elsewhere.owner.headers)
    assert_error(stranger, 404, "not_found")
    expired = issue_link_token(
        LinkGrant(job_events_resource(world.job_id), world.owner.user_id),
        EVENTS,
        api.state.settings.jwt_secret,
        60,
        now=datetime.now(UTC) - timedelta(minutes=5),
    )
    assert_error(api.client.get(f"/api/jobs/{world.job_id}/events?token={expired}"), 401, "unauthorized")
    by_access_token = api.client.get(f"/api/jobs/{world.job_id}/events?access_token={world.owner.access_token}")
    assert_error(by_access_token, 401, "unauthorized")


def test_media_link_expiry_is_bucketed_so_urls_stay_stable() -> None:
    grant = LinkGrant(resource=clip_media_resource("c_1", 1, "video"), user_id="u_1")
    start = datetime(2030, 1, 1, 12, 0, 1, tzinfo=UTC)

    def link_at(seconds: int) -> str:
        now = start + timedelta(seconds=seconds)
        return issue_link_token(grant, MEDIA, "k" * 48, 3600, round_s=MEDIA_ROUND_S, now=now)

    first = link_at(0)
    assert link_at(200) == first
    expiry = jwt.decode(first, options={"verify_signature": False})["exp"]
    assert 3600 <= expiry - start.timestamp() <= 3600 + MEDIA_ROUND_S and expiry % MEDIA_ROUND_S == 0
    assert link_at(300) != first


def test_media_link_redirects_to_a_presigned_get_on_s3(api_env, tmp_path: Path, s3_bucket, monkeypatch) -> None:
    harness = s3_harness(api_env, tmp_path, s3_bucket, monkeypatch)
    with harness.client:
        world = seed_world(harness)
        clip = harness.client.get(f"/api/clips/{world.clip_id}", headers=world.owner.headers).json()
        redirect = harness.client.get(clip["video_url"], follow_redirects=False)
        assert redirect.status_code == 307
        presigned = redirect.headers["location"]
        assert presigned.startswith(s3_bucket.endpoint_url) and "token=" not in presigned
        fetched = httpx.get(presigned, headers={"Range": "bytes=4-7"})
        assert fetched.status_code == 206 and fetched.content == b"ftyp"
        wrong_kind = f"/api/clips/{world.clip_id}/thumbnail?version=1&token={token_of(clip['video_url'])}"
        assert_error(harness.client.get(wrong_kind, follow_redirects=False), 401, "unauthorized")
