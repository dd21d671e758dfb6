"""The X adapter against a local fake of the X API v2: connecting, a chunked upload of a real MP4, posting exactly
once through rate limits, server errors and crashes, refreshing and losing the grant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from clipped.media.ffmpeg import run_ffmpeg
from clipped.publish.models import (
    NeedsReconnectError,
    PlatformRejectedError,
    PlatformUnavailableError,
    PostMetrics,
    PostRequest,
    ResumeState,
    TokenGrant,
)
from clipped.publish.oauth import code_challenge_s256, new_code_verifier, new_state
from clipped.publish.x import XAdapter
from tests.support.fake_x import (
    CLIENT_ID,
    CLIENT_SECRET,
    MAX_SEGMENT_BYTES,
    REDIRECT_URI,
    USER_ID,
    FakeX,
    fake_x_fixture,  # noqa: F401  (provides fake_x)
)

CHUNK_BYTES = 64 * 1024
ALL_SCOPES = {"tweet.read", "tweet.write", "users.read", "media.write", "offline.access"}


class Crash(RuntimeError):
    """The worker dying between two steps (raised from the checkpoint callback)."""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2.5 s H.264/AAC MP4 at a high bitrate, so that it spans several 64 KiB segments."""
    out = tmp_path_factory.mktemp("x_clip") / "clip.mp4"
    run_ffmpeg(
        [
            *("-f", "lavfi", "-i", "testsrc=size=360x640:rate=30:duration=2.5"),
            *("-f", "lavfi", "-i", "sine=frequency=440:duration=2.5"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-b:v", "2M", "-pix_fmt", "yuv420p"),
            *("-c:a", "aac", "-shortest", "-movflags", "+faststart", str(out)),
        ]
    )
    assert out.stat().st_size > 3 * CHUNK_BYTES
    return out


def make_adapter(fake: FakeX, sleeps: list[float] | None = None, **overrides: Any) -> XAdapter:
    record: Callable[[float], None] = sleeps.append if sleeps is not None else (lambda _seconds: None)
    settings: dict[str, Any] = {
        "authorize_url": f"{fake.url}/i/oauth2/authorize",
        "api_url": fake.url,
        "chunk_bytes": CHUNK_BYTES,
        "poll_interval_s": 1.0,
        "poll_timeout_s": 30.0,
        "sleep": record,
    }
    return XAdapter(CLIENT_ID, CLIENT_SECRET, **{**settings, **overrides})


def connect(fake: FakeX, adapter: XAdapter) -> TokenGrant:
    """The browser's part of the flow: open the authorize URL, follow X's redirect back, exchange the code."""
    verifier, state = new_code_verifier(), new_state()
    url = adapter.authorization_url(
        state=state, redirect_uri=REDIRECT_URI, code_challenge=code_challenge_s256(verifier)
    )
    consent = httpx.get(url, follow_redirects=False)
    assert consent.status_code == 302
    callback = urlsplit(consent.headers["location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == REDIRECT_URI
    query = parse_qs(callback.query)
    assert query["state"] == [state]
    return adapter.exchange_code(code=query["code"][0], redirect_uri=REDIRECT_URI, code_verifier=verifier)


def post_request(video: Path, caption: str = "A clip worth watching #clipped") -> PostRequest:
    return PostRequest(video_path=video, title="", caption=caption, idempotency_key="pub-1")


def persisted_resume(saved: list[dict[str, Any]], crash_when: Callable[[dict[str, Any]], bool] | None = None):
    """A ResumeState whose checkpoints land in ``saved`` (the store), crashing once when ``crash_when`` says so."""
    crashed: list[bool] = []

    def store(values: dict[str, Any]) -> None:
        if crash_when is not None and not crashed and crash_when(values):
            crashed.append(True)
            raise Crash("worker died")
        saved.append(values)

    return ResumeState().bind(store)


def bearer(grant: TokenGrant) -> dict[str, str]:
    return {"Authorization": f"Bearer {grant.access_token}"}


# --- connecting and posting ----------------------------------------------------------------------------------------


def test_connect_then_publish_a_real_mp4_in_segments(fake_x: FakeX, clip: Path) -> None:
    adapter = make_adapter(fake_x)
    grant = connect(fake_x, adapter)
    assert grant.account_id == USER_ID
    assert grant.display_name == "@clipped_test"
    assert grant.refresh_token
    assert grant.expires_at is not None
    assert timedelta(hours=1, minutes=59) < grant.expires_at - datetime.now(UTC) <= timedelta(hours=2)
    assert set(grant.scope.split()) == ALL_SCOPES

    progress: list[float] = []
    result = adapter.publish(post_request(clip), grant.access_token, ResumeState(), progress.append)

    assert result.state == "published"
    assert result.url == f"https://x.com/i/web/status/{result.post_id}"
    [post] = fake_x.posts
    assert post.id == result.post_id
    assert post.text == "A clip worth watching #clipped"
    [upload] = fake_x.uploads.values()
    assert post.media_ids == [upload.media_id]
    assert upload.media_category == "amplify_video"
    assert upload.content() == clip.read_bytes()
    segments = fake_x.accepted_segments(upload.media_id)
    assert len(segments) >= 3
    assert segments == list(range(len(segments)))
    assert progress == sorted(progress)
    assert progress[0] == 0.0
    assert progress[-1] == 1.0
    assert adapter.fetch_status(result.post_id, grant.access_token).state == "published"
    assert adapter.fetch_status("1999999999999999999", grant.access_token).state == "failed"


def test_code_exchange_checks_the_pkce_verifier(fake_x: FakeX) -> None:
    adapter = make_adapter(fake_x)
    verifier = new_code_verifier()
    url = adapter.authorization_url(
        state=new_state(), redirect_uri=REDIRECT_URI, code_challenge=code_challenge_s256(verifier)
    )
    code = parse_qs(urlsplit(httpx.get(url).headers["location"]).query)["code"][0]
    with pytest.raises(PlatformRejectedError, match="HTTP 400"):
        adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=new_code_verifier())
    # The code was spent by the failed attempt, as a stolen code would be.
    with pytest.raises(PlatformRejectedError, match="HTTP 400"):
        adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    assert fake_x.grants == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"client_id": "someone-else"}, "unknown client"),
        ({"redirect_uri": "http://127.0.0.1:9/elsewhere"}, "redirect_uri"),
        ({"state": None}, "state"),
        ({"code_challenge": None}, "code_challenge"),
    ],
)
def test_authorize_page_refuses_bad_requests(fake_x: FakeX, change: dict[str, str | None], expected: str) -> None:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "tweet.read tweet.write users.read media.write offline.access",
        "state": "s",
        "code_challenge": code_challenge_s256(new_code_verifier()),
        "code_challenge_method": "S256",
    }
    params.update(change)
    response = httpx.get(f"{fake_x.url}/i/oauth2/authorize", params={k: v for k, v in params.items() if v is not None})
    assert response.status_code == 400
    assert expected in response.text


def test_refresh_rotates_the_refresh_token(fake_x: FakeX) -> None:
    adapter = make_adapter(fake_x)
    first = connect(fake_x, adapter)

    second = adapter.refresh(first.refresh_token or "")

    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert second.expires_at is not None and second.expires_at > datetime.now(UTC) + timedelta(hours=1, minutes=59)
    assert httpx.get(f"{fake_x.url}/2/users/me", headers=bearer(second)).status_code == 200
    with pytest.raises(NeedsReconnectError) as spent:
        adapter.refresh(first.refresh_token or "")
    assert first.refresh_token not in str(spent.value)
    assert adapter.refresh(second.refresh_token).refresh_token not in (first.refresh_token, second.refresh_token)


def test_revoked_grant_needs_reconnect(fake_x: FakeX, clip: Path) -> None:
    adapter = make_adapter(fake_x)
    grant = connect(fake_x, adapter)
    fake_x.revoke_all_grants()

    with pytest.raises(NeedsReconnectError) as refreshing:
        adapter.refresh(grant.refresh_token or "")
    with pytest.raises(NeedsReconnectError) as publishing:
        adapter.publish(post_request(clip), grant.access_token, ResumeState(), lambda _fraction: None)

    for error in (refreshing.value, publishing.value):
        assert grant.access_token not in str(error)
        assert (grant.refresh_token or "") not in str(error)
    assert fake_x.posts == []


# --- rate limits and failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after_header", [True, False], ids=["retry-after", "x-rate-limit-reset"])
def test_rate_limit_waits_as_long_as_x_asks(fake_x: FakeX, clip: Path, retry_after_header: bool) -> None:
    sleeps: list[float] = []
    adapter = make_adapter(fake_x, sleeps)
    grant = fake_x.issue_grant(ALL_SCOPES)
    fake_x.rate_limit("append", count=2, retry_after_s=7, retry_after_header=retry_after_header)

    adapter.publish(post_request(clip), grant.access_token, ResumeState(), lambda _fraction: None)

    assert [seconds >= 7 for seconds in sleeps].count(True) == 2
    assert len(fake_x.posts) == 1
    [upload] = fake_x.uploads.values()
    assert upload.content() == clip.read_bytes()


def test_every_answer_carries_rate_limit_headers(fake_x: FakeX) -> None:
    grant = fake_x.issue_grant(ALL_SCOPES)
    first = httpx.get(f"{fake_x.url}/2/users/me", headers=bearer(grant))
    second = httpx.get(f"{fake_x.url}/2/users/me", headers=bearer(grant))
    for response in (first, second):
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(response.headers)
        assert int(response.headers["x-rate-limit-reset"]) > datetime.now(UTC).timestamp()
    assert int(second.headers["x-rate-limit-remaining"]) == int(first.headers["x-rate-limit-remaining"]) - 1


def test_server_errors_mid_upload_resume_without_resending_segments(fake_x: FakeX, clip: Path) -> None:
    grant = fake_x.issue_grant(ALL_SCOPES)
    saved: list[dict[str, Any]] = []
    fake_x.fail_appends(from_segment=2, count=3)

    with pytest.raises(PlatformUnavailableError, match="HTTP 503"):
        make_adapter(fake_x, attempts=3).publish(
            post_request(clip), grant.access_token, persisted_resume(saved), lambda _fraction: None
        )
    assert saved[-1]["segments_sent"] == 2
    assert saved[-1]["bytes_sent"] == 2 * CHUNK_BYTES
    assert fake_x.posts == []

    progress: list[float] = []
    resumed = ResumeState(values=dict(saved[-1])).bind(saved.append)
    result = make_adapter(fake_x).publish(post_request(clip), grant.access_token, resumed, progress.append)

    media_id = saved[-1]["media_id"]
    segments = fake_x.accepted_segments(media_id)
    assert segments == list(range(len(segments)))  # 0 and 1 once, before the failure; none sent twice
    assert fake_x.calls["initialize"] == 1
    assert fake_x.uploads[media_id].content() == clip.read_bytes()
    assert [post.id for post in fake_x.posts] == [result.post_id]
    assert progress[0] == pytest.approx(2 * CHUNK_BYTES / clip.stat().st_size)


def test_crash_after_upload_before_posting_posts_once(fake_x: FakeX, clip: Path) -> None:
    grant = fake_x.issue_grant(ALL_SCOPES)
    saved: list[dict[str, Any]] = []
    resume = persisted_resume(saved, crash_when=lambda values: bool(values.get("media_ready")))

    with pytest.raises(Crash):
        make_adapter(fake_x).publish(post_request(clip), grant.access_token, resume, lambda _fraction: None)
    assert fake_x.posts == []
    appends_before = len(fake_x.appends)

    rerun = ResumeState(values=dict(saved[-1]))
    result = make_adapter(fake_x).publish(post_request(clip), grant.access_token, rerun, lambda _fraction: None)

    assert [post.id for post in fake_x.posts] == [result.post_id]
    assert len(fake_x.appends) == appends_before
    assert fake_x.calls["initialize"] == 1


def test_crash_after_posting_before_recording_adopts_the_post(fake_x: FakeX, clip: Path) -> None:
    grant = fake_x.issue_grant(ALL_SCOPES)
    saved: list[dict[str, Any]] = []
    resume = persisted_resume(saved, crash_when=lambda values: "post_id" in values)

    with pytest.raises(Crash):
        make_adapter(fake_x).publish(post_request(clip), grant.access_token, resume, lambda _fraction: None)
    assert "post_id" not in saved[-1] and saved[-1]["post_sent_at"]
    assert len(fake_x.posts) == 1

    rerun = ResumeState(values=dict(saved[-1]))
    result = make_adapter(fake_x).publish(post_request(clip), grant.access_token, rerun, lambda _fraction: None)

    assert result.post_id == fake_x.posts[0].id
    assert len(fake_x.posts) == 1
    assert fake_x.calls["create_post"] == 1
    assert rerun.get("post_id") == result.post_id


def test_lost_post_response_is_found_instead_of_posted_again(fake_x: FakeX, clip: Path) -> None:
    grant = fake_x.issue_grant(ALL_SCOPES)
    fake_x.lose_post_responses(1)

    result = make_adapter(fake_x).publish(post_request(clip), grant.access_token, ResumeState(), lambda _f: None)

    assert [post.id for post in fake_x.posts] == [result.post_id]
    assert fake_x.calls["create_post"] == 1
    assert fake_x.calls["user_posts"] == 1


def test_recorded_post_is_returned_without_a_request(fake_x: FakeX, clip: Path) -> None:
    grant = fake_x.issue_grant(ALL_SCOPES)
    resume = ResumeState(values={"post_id": "1880000000000000042"})

    result = make_adapter(fake_x).publish(post_request(clip), grant.access_token, resume, lambda _fraction: None)

    assert result.post_id == "1880000000000000042"
    assert sum(fake_x.calls.values()) == 0


def test_media_x_cannot_process_is_refused(fake_x: FakeX, tmp_path: Path) -> None:
    grant = fake_x.issue_grant(ALL_SCOPES)
    not_a_video = tmp_path / "noise.mp4"
    not_a_video.write_bytes(b"\x00" * (CHUNK_BYTES + 10))

    with pytest.raises(PlatformRejectedError, match="Unsupported video format"):
        make_adapter(fake_x).publish(post_request(not_a_video), grant.access_token, ResumeState(), lambda _f: None)
    assert fake_x.posts == []


def test_private_posts_are_refused_before_any_request(fake_x: FakeX, clip: Path) -> None:
    grant = fake_x.issue_grant(ALL_SCOPES)
    request = post_request(clip).model_copy(update={"privacy": "unlisted"})

    with pytest.raises(PlatformRejectedError, match="unlisted"):
        make_adapter(fake_x).publish(request, grant.access_token, ResumeState(), lambda _fraction: None)
    assert sum(fake_x.calls.values()) == 0


# --- what the fake refuses, sent directly ------------------------------------------------------------------------


def _initialize(fake: FakeX, grant: TokenGrant, total_bytes: int) -> str:
    response = httpx.post(
        f"{fake.url}/2/media/upload/initialize",
        headers=bearer(grant),
        json={"media_type": "video/mp4", "total_bytes": total_bytes, "media_category": "amplify_video"},
    )
    assert response.status_code == 200
    return response.json()["data"]["id"]


def _append(fake: FakeX, grant: TokenGrant | None, media_id: str, segment: int, chunk: bytes) -> httpx.Response:
    return httpx.post(
        f"{fake.url}/2/media/upload/{media_id}/append",
        headers=bearer(grant) if grant else {},
        data={"segment_index": str(segment)},
        files={"media": ("chunk", chunk, "application/octet-stream")},
    )


def _assert_invalid_request(response: httpx.Response, message: str) -> None:
    assert response.status_code == 400
    body = response.json()
    assert body["title"] == "Invalid Request"
    assert message in body["errors"][0]["message"]


def test_fake_refuses_wrong_segments(fake_x: FakeX) -> None:
    grant = fake_x.issue_grant(ALL_SCOPES)
    media_id = _initialize(fake_x, grant, total_bytes=MAX_SEGMENT_BYTES + 3000)

    _assert_invalid_request(_append(fake_x, grant, media_id, 0, b"x" * (MAX_SEGMENT_BYTES + 1)), "5 MB")
    _assert_invalid_request(_append(fake_x, grant, media_id, 1000, b"x" * 1000), "between 0 and 999")
    _assert_invalid_request(_append(fake_x, grant, media_id, 0, b""), "must not be empty")
    assert _append(fake_x, None, media_id, 0, b"x" * 1000).status_code == 401

    assert _append(fake_x, grant, media_id, 0, b"x" * MAX_SEGMENT_BYTES).status_code == 200
    _assert_invalid_request(_append(fake_x, grant, media_id, 1, b"x" * 3001), "exceed the total_bytes")
    assert _append(fake_x, grant, media_id, 2, b"x" * 3000).status_code == 200  # leaves a gap at 1
    finalize = httpx.post(f"{fake_x.url}/2/media/upload/{media_id}/finalize", headers=bearer(grant))
    _assert_invalid_request(finalize, "do not add up")


def test_fake_refuses_malformed_requests(fake_x: FakeX) -> None:
    grant = fake_x.issue_grant(ALL_SCOPES)
    as_form = httpx.post(
        f"{fake_x.url}/2/media/upload/initialize",
        headers=bearer(grant),
        data={"media_type": "video/mp4", "total_bytes": "10"},
    )
    _assert_invalid_request(as_form, "application/json")
    no_size = httpx.post(
        f"{fake_x.url}/2/media/upload/initialize", headers=bearer(grant), json={"media_type": "video/mp4"}
    )
    _assert_invalid_request(no_size, "total_bytes")

    media_id = _initialize(fake_x, grant, total_bytes=1000)
    as_json = httpx.post(
        f"{fake_x.url}/2/media/upload/{media_id}/append", headers=bearer(grant), json={"segment_index": 0}
    )
    _assert_invalid_request(as_json, "multipart/form-data")

    unprocessed = httpx.post(
        f"{fake_x.url}/2/tweets", headers=bearer(grant), json={"text": "hi", "media": {"media_ids": [media_id]}}
    )
    _assert_invalid_request(unprocessed, "media IDs are invalid")

    anonymous = httpx.post(f"{fake_x.url}/2/tweets", json={"text": "hi"})
    assert anonymous.status_code == 401
    assert anonymous.json() == {"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank", "status": 401}

    no_basic_auth = httpx.post(
        f"{fake_x.url}/2/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": "r", "client_id": "c"}
    )
    assert no_basic_auth.status_code == 401
    assert no_basic_auth.json()["error"] == "unauthorized_client"


# --- engagement metrics ----------------------------------------------------------------------------------------------


def test_fetch_metrics_maps_public_and_owner_metrics(fake_x: FakeX) -> None:
    sleeps: list[float] = []
    adapter = make_adapter(fake_x, sleeps)
    grant = fake_x.issue_grant(ALL_SCOPES)
    post_id = fake_x.add_post(age=timedelta(days=2))
    fake_x.set_metrics(post_id, impressions=2500, likes=90, replies=14, reposts=20, quotes=5, bookmarks=33)
    expected = PostMetrics(views=2500, likes=90, comments=14, shares=25, saves=33)  # reposts + quotes are shares

    assert adapter.fetch_metrics(post_id, grant.access_token) == expected
    assert fake_x.calls["get_post"] == 1

    # Past 30 days X refuses non_public_metrics: the public ones (impressions included) are asked for instead.
    old = fake_x.add_post("An older post", age=timedelta(days=45))
    fake_x.set_metrics(old, impressions=900, likes=3)
    assert adapter.fetch_metrics(old, grant.access_token) == PostMetrics(
        views=900, likes=3, comments=0, shares=0, saves=0
    )
    assert adapter.fetch_metrics("1880000000000009999", grant.access_token) == PostMetrics()  # deleted

    fake_x.rate_limit("get_post", count=1, retry_after_s=5)
    assert adapter.fetch_metrics(post_id, grant.access_token) == expected
    assert any(seconds >= 5 for seconds in sleeps)

    fake_x.revoke_all_grants()
    with pytest.raises(NeedsReconnectError):
        adapter.fetch_metrics(post_id, grant.access_token)
