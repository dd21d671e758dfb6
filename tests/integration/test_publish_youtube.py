"""The YouTube adapter against the local fake of Google OAuth and the Data API: connect with PKCE, publish a real MP4
in 256 KiB chunks, refresh, rate limits and quota, resuming after a failure or a crash without a second video."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from clipped.media.ffmpeg import run_ffmpeg
from clipped.publish.models import (
    NeedsReconnectError,
    PlatformUnavailableError,
    PostMetrics,
    PostRequest,
    RateLimitedError,
    ResumeState,
)
from clipped.publish.oauth import code_challenge_s256, new_code_verifier, new_state
from clipped.publish.youtube import ANALYTICS_SCOPE, READONLY_SCOPE, UPLOAD_SCOPE, YouTubeAdapter
from tests.support.fake_youtube import CHUNK_MULTIPLE, FakeYouTube, fake_youtube  # noqa: F401

CHUNK = 256 * 1024
REDIRECT_URI = "http://127.0.0.1:8765/accounts/youtube/callback"


class Crash(Exception):
    """Stands for the process dying at a checkpoint."""


class SavedState:
    """What the publishing store would persist: the last checkpointed values, and every checkpoint in order."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []

    def save(self, values: dict[str, Any]) -> None:
        self.values = dict(values)
        self.history.append(dict(values))

    def resume(self) -> ResumeState:
        """A ResumeState as a new attempt would load it."""
        return ResumeState(values=dict(self.values)).bind(self.save)


@pytest.fixture(scope="module")
def vertical_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s vertical H.264/AAC clip at a constant 4 Mb/s (CBR with filler: ~1.5 MB), so that it spans several
    256 KiB chunks."""
    out = tmp_path_factory.mktemp("youtube") / "short.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=size=360x640:rate=30:duration=3",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-b:v", "4M", "-minrate", "4M", "-maxrate", "4M", "-bufsize", "1M", "-x264-params", "nal-hrd=cbr",
         "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(out)]
    )  # fmt: skip
    assert out.stat().st_size > 3 * CHUNK
    return out


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def adapter(fake_youtube: FakeYouTube, sleeps: list[float]) -> Iterator[YouTubeAdapter]:  # noqa: F811
    yield make_adapter(fake_youtube, sleeps)


def make_adapter(fake: FakeYouTube, sleeps: list[float]) -> YouTubeAdapter:
    """An adapter pointed at the fake whose waits are recorded instead of slept."""
    return YouTubeAdapter(
        fake.client_id,
        fake.client_secret,
        **fake.adapter_urls(),
        chunk_size=CHUNK,
        poll_interval_s=5,
        poll_timeout_s=30,
        sleep=sleeps.append,
    )


def post_request(video: Path) -> PostRequest:
    return PostRequest(
        video_path=video,
        title="Why the sky is blue #Shorts",
        caption="Rayleigh scattering in thirty seconds.\n\n#science #Shorts",
        privacy="unlisted",
        idempotency_key="publication-42",
    )


def connect(adapter: YouTubeAdapter) -> tuple[str, str]:
    """Run the consent flow against the fake: (code, verifier) for the redirect it sent back."""
    verifier, state = new_code_verifier(), new_state()
    url = adapter.authorization_url(
        state=state, redirect_uri=REDIRECT_URI, code_challenge=code_challenge_s256(verifier)
    )
    consent = httpx.get(url)
    assert consent.status_code == 302
    location = urlsplit(consent.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    params = parse_qs(location.query)
    assert params["state"] == [state]
    return params["code"][0], verifier


def upload_requests(fake: FakeYouTube) -> list[str]:
    return [f"{r.method} {r.url}" for r in fake.requests if r.url.startswith("/upload/")]


def test_connect_then_publish_a_real_mp4_in_chunks_until_processed(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
    vertical_mp4: Path,
) -> None:
    url = adapter.authorization_url(state="s", redirect_uri=REDIRECT_URI, code_challenge="challenge")
    query = parse_qs(urlsplit(url).query)
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert set(query["scope"][0].split()) == {UPLOAD_SCOPE, READONLY_SCOPE, ANALYTICS_SCOPE}
    assert query["code_challenge_method"] == ["S256"]

    code, verifier = connect(adapter)
    grant = adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    assert grant.account_id == fake_youtube.channel_id
    assert grant.display_name == fake_youtube.channel_title
    assert grant.refresh_token  # only sent because of access_type=offline
    assert grant.expires_at is not None
    assert abs((grant.expires_at - datetime.now(UTC)) - timedelta(seconds=3599)) < timedelta(seconds=30)

    fake_youtube.processing_polls = 2
    saved, progress = SavedState(), []
    chunks_sent_at_checkpoint: list[int] = []

    def save(values: dict[str, Any]) -> None:
        chunks_sent_at_checkpoint.append(len(fake_youtube.chunks))
        saved.save(values)

    result = adapter.publish(post_request(vertical_mp4), grant.access_token, ResumeState().bind(save), progress.append)

    assert result.state == "published"
    assert result.url == f"https://youtube.com/shorts/{result.post_id}"
    assert list(fake_youtube.videos) == [result.post_id]
    video = fake_youtube.videos[result.post_id]
    assert video.content == vertical_mp4.read_bytes()
    assert (video.title, video.category_id, video.privacy_status) == ("Why the sky is blue #Shorts", "22", "unlisted")
    assert video.description.endswith("#science #Shorts")
    (session,) = fake_youtube.sessions.values()
    assert session.metadata["status"] == {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False}
    assert session.content_type == "video/mp4"

    chunks = fake_youtube.chunks
    assert len(chunks) >= 3
    assert [chunk.status for chunk in chunks] == [308] * (len(chunks) - 1) + [201]
    assert all(chunk.size == CHUNK for chunk in chunks[:-1])
    # A checkpoint after the session opened and after each acknowledged chunk, each before the next request.
    assert chunks_sent_at_checkpoint == list(range(len(chunks) + 1))
    assert [state.get("upload_offset") for state in saved.history[:-1]] == [i * CHUNK for i in range(len(chunks))]
    assert saved.values["video_id"] == result.post_id
    assert progress[0] == 0.0 and progress[-1] == 1.0 and progress == sorted(progress)
    assert len({fraction for fraction in progress if 0 < fraction < 1}) == len(chunks) - 1  # one step per chunk

    for request in fake_youtube.requests:
        assert grant.access_token not in request.url
        assert grant.refresh_token not in request.url
    assert adapter.fetch_status(result.post_id, grant.access_token).state == "published"


def test_pkce_verifier_is_checked_and_a_code_works_once(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
) -> None:
    code, verifier = connect(adapter)
    with pytest.raises(NeedsReconnectError, match="invalid_grant"):
        adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=new_code_verifier())
    adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    with pytest.raises(NeedsReconnectError, match="invalid_grant"):
        adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)


def test_connecting_again_still_yields_a_refresh_token(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
) -> None:
    # Google sends a refresh token on a repeat consent only when prompt=consent asks for one.
    grants = []
    for _ in range(2):
        code, verifier = connect(adapter)
        grants.append(adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier))
    assert all(grant.refresh_token for grant in grants)
    assert grants[0].refresh_token != grants[1].refresh_token


def test_a_consent_without_the_upload_permission_asks_to_connect_again(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
) -> None:
    fake_youtube.unticked_scopes = {UPLOAD_SCOPE}
    code, verifier = connect(adapter)
    with pytest.raises(NeedsReconnectError, match="upload permission"):
        adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)


def test_refresh_gives_a_working_token_and_keeps_the_refresh_token(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
) -> None:
    old_access, refresh_token = fake_youtube.issue_tokens()
    fake_youtube.expire_access_tokens()
    with pytest.raises(NeedsReconnectError):
        adapter.fetch_status("any-video", old_access)

    grant = adapter.refresh(refresh_token)

    assert grant.access_token != old_access
    assert grant.refresh_token == refresh_token  # Google does not rotate refresh tokens
    assert grant.expires_at is not None and grant.expires_at > datetime.now(UTC) + timedelta(minutes=55)
    assert adapter.fetch_status("any-video", grant.access_token).detail == "video not found"


def test_a_revoked_grant_needs_reconnect_and_says_no_secret(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
    vertical_mp4: Path,
) -> None:
    access_token, refresh_token = fake_youtube.issue_tokens()
    fake_youtube.revoke_all()

    with pytest.raises(NeedsReconnectError, match="invalid_grant") as refreshing:
        adapter.refresh(refresh_token)
    with pytest.raises(NeedsReconnectError) as publishing:
        adapter.publish(post_request(vertical_mp4), access_token, ResumeState(), lambda _: None)

    for error in (refreshing.value, publishing.value):
        assert refresh_token not in str(error) and access_token not in str(error)
    assert not fake_youtube.sessions


def test_429_waits_at_least_retry_after_then_publishes_once(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
    sleeps: list[float],
    vertical_mp4: Path,
) -> None:
    access_token, _ = fake_youtube.issue_tokens()
    fake_youtube.fail_next("videos.insert", status=429, times=2, retry_after=7)

    result = adapter.publish(post_request(vertical_mp4), access_token, ResumeState(), lambda _: None)

    assert result.state == "published"
    assert len([r for r in upload_requests(fake_youtube) if r.startswith("POST")]) == 3
    assert len([seconds for seconds in sleeps if seconds >= 7]) >= 2
    assert len(fake_youtube.sessions) == 1 and len(fake_youtube.videos) == 1


def test_quota_exceeded_is_a_rate_limit_until_the_daily_reset_not_a_rejection(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
    vertical_mp4: Path,
) -> None:
    access_token, _ = fake_youtube.issue_tokens()
    fake_youtube.quota_limit = 1000  # less than one upload (1,600 units)

    with pytest.raises(RateLimitedError, match="quotaExceeded") as raised:
        adapter.publish(post_request(vertical_mp4), access_token, ResumeState(), lambda _: None)

    assert raised.value.retryable
    assert raised.value.retry_after_s is not None and 60 <= raised.value.retry_after_s <= 25 * 3600
    assert len(upload_requests(fake_youtube)) == 1  # retrying before the reset cannot help
    assert not fake_youtube.sessions


def test_a_5xx_mid_upload_resumes_from_the_saved_state_without_resending(
    fake_youtube: FakeYouTube,  # noqa: F811
    sleeps: list[float],
    vertical_mp4: Path,
) -> None:
    access_token, _ = fake_youtube.issue_tokens()
    fake_youtube.fail_chunk(2, status=503, times=5)  # every retry of the first attempt fails
    saved = SavedState()

    with pytest.raises(PlatformUnavailableError):
        make_adapter(fake_youtube, sleeps).publish(
            post_request(vertical_mp4), access_token, saved.resume(), lambda _: None
        )
    assert saved.values["upload_offset"] == CHUNK and "video_id" not in saved.values
    requests_before = len(fake_youtube.requests)

    result = make_adapter(fake_youtube, sleeps).publish(
        post_request(vertical_mp4), access_token, saved.resume(), lambda _: None
    )

    assert result.state == "published" and saved.values["video_id"] == result.post_id
    assert len(fake_youtube.sessions) == 1 and list(fake_youtube.videos) == [result.post_id]
    assert fake_youtube.videos[result.post_id].content == vertical_mp4.read_bytes()
    # The new attempt first asked the session what it held, then sent only the bytes it lacked.
    first_upload_call = next(r for r in fake_youtube.requests[requests_before:] if r.url.startswith("/upload/"))
    assert first_upload_call.method == "PUT" and first_upload_call.headers["content-range"].startswith("bytes */")
    assert fake_youtube.bytes_received() == vertical_mp4.stat().st_size
    assert [chunk.status for chunk in fake_youtube.chunks if chunk.start == CHUNK].count(503) == 5


def test_a_lost_chunk_answer_is_followed_by_a_status_query_not_a_resend(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
    vertical_mp4: Path,
) -> None:
    access_token, _ = fake_youtube.issue_tokens()
    fake_youtube.fail_chunk(2, status=503, persist=True)  # stored by the server, the 503 is all the client sees

    result = adapter.publish(post_request(vertical_mp4), access_token, ResumeState(), lambda _: None)

    assert fake_youtube.videos[result.post_id].content == vertical_mp4.read_bytes()
    assert fake_youtube.bytes_sent() == vertical_mp4.stat().st_size
    assert len([chunk for chunk in fake_youtube.chunks if chunk.start == CHUNK]) == 1


def test_a_session_expiring_mid_upload_is_replaced_within_the_attempt(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
    vertical_mp4: Path,
) -> None:
    access_token, _ = fake_youtube.issue_tokens()
    fake_youtube.fail_chunk(3, status=404)
    saved = SavedState()

    result = adapter.publish(post_request(vertical_mp4), access_token, saved.resume(), lambda _: None)

    assert len(fake_youtube.sessions) == 2 and list(fake_youtube.videos) == [result.post_id]
    assert fake_youtube.videos[result.post_id].content == vertical_mp4.read_bytes()
    assert saved.values["session_url"] != saved.history[0]["session_url"]


def test_an_expired_session_without_a_video_starts_a_new_one(
    fake_youtube: FakeYouTube,  # noqa: F811
    sleeps: list[float],
    vertical_mp4: Path,
) -> None:
    access_token, _ = fake_youtube.issue_tokens()
    fake_youtube.fail_chunk(3, times=5)
    saved = SavedState()
    with pytest.raises(PlatformUnavailableError):
        make_adapter(fake_youtube, sleeps).publish(
            post_request(vertical_mp4), access_token, saved.resume(), lambda _: None
        )
    fake_youtube.expire_sessions()

    result = make_adapter(fake_youtube, sleeps).publish(
        post_request(vertical_mp4), access_token, saved.resume(), lambda _: None
    )

    assert len(fake_youtube.sessions) == 2 and list(fake_youtube.videos) == [result.post_id]
    assert fake_youtube.videos[result.post_id].content == vertical_mp4.read_bytes()
    assert saved.values["session_url"] != saved.history[0]["session_url"]


def test_a_crash_before_the_video_id_is_saved_recovers_it_from_the_session(
    fake_youtube: FakeYouTube,  # noqa: F811
    sleeps: list[float],
    vertical_mp4: Path,
) -> None:
    access_token, _ = fake_youtube.issue_tokens()
    saved = SavedState()

    def die_before_saving_the_video(values: dict[str, Any]) -> None:
        if "video_id" in values:
            raise Crash
        saved.save(values)

    with pytest.raises(Crash):
        make_adapter(fake_youtube, sleeps).publish(
            post_request(vertical_mp4), access_token, ResumeState().bind(die_before_saving_the_video), lambda _: None
        )
    assert len(fake_youtube.videos) == 1 and "video_id" not in saved.values
    assert not [r for r in fake_youtube.requests if r.url.startswith("/youtube/v3/videos")]  # saved before polling
    chunks_before = len(fake_youtube.chunks)

    result = make_adapter(fake_youtube, sleeps).publish(
        post_request(vertical_mp4), access_token, saved.resume(), lambda _: None
    )

    assert list(fake_youtube.videos) == [result.post_id] and len(fake_youtube.sessions) == 1
    assert saved.values["video_id"] == result.post_id
    assert fake_youtube.chunks[chunks_before:] == []  # the status query answered with the video; nothing resent


def test_a_crash_after_the_video_id_is_saved_returns_it_without_uploading(
    fake_youtube: FakeYouTube,  # noqa: F811
    sleeps: list[float],
    vertical_mp4: Path,
) -> None:
    access_token, _ = fake_youtube.issue_tokens()
    saved = SavedState()

    def die_after_saving_the_video(values: dict[str, Any]) -> None:
        saved.save(values)
        if "video_id" in values:
            raise Crash

    with pytest.raises(Crash):
        make_adapter(fake_youtube, sleeps).publish(
            post_request(vertical_mp4), access_token, ResumeState().bind(die_after_saving_the_video), lambda _: None
        )
    uploads_before = len(upload_requests(fake_youtube))

    result = make_adapter(fake_youtube, sleeps).publish(
        post_request(vertical_mp4), access_token, saved.resume(), lambda _: None
    )

    assert result.post_id == saved.values["video_id"] and result.state == "published"
    assert list(fake_youtube.videos) == [result.post_id]
    assert len(upload_requests(fake_youtube)) == uploads_before


def test_a_rejected_video_is_reported_failed_with_the_reason(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
    vertical_mp4: Path,
) -> None:
    access_token, _ = fake_youtube.issue_tokens()
    fake_youtube.processing_outcome, fake_youtube.processing_polls = "rejected", 0

    result = adapter.publish(post_request(vertical_mp4), access_token, ResumeState(), lambda _: None)

    assert result.state == "failed" and result.detail == "rejected: duplicate"


def test_chunk_sizes_must_be_whole_256_kib_blocks(fake_youtube: FakeYouTube) -> None:  # noqa: F811
    with pytest.raises(ValueError, match="multiple of 262144"):
        make_adapter_with_chunk(fake_youtube, 1000 * 1000)


def make_adapter_with_chunk(fake: FakeYouTube, chunk_size: int) -> YouTubeAdapter:
    return YouTubeAdapter(fake.client_id, fake.client_secret, api_base_url=fake.base_url, chunk_size=chunk_size)


def test_the_fake_refuses_wrong_chunk_sizes_and_ranges(fake_youtube: FakeYouTube) -> None:  # noqa: F811
    access_token, _ = fake_youtube.issue_tokens()
    auth = {"Authorization": f"Bearer {access_token}"}
    total = 3 * CHUNK_MULTIPLE
    opened = httpx.post(
        f"{fake_youtube.base_url}/upload/youtube/v3/videos",
        params={"uploadType": "resumable", "part": "snippet,status"},
        json={"snippet": {"title": "t"}, "status": {"privacyStatus": "private"}},
        headers={**auth, "X-Upload-Content-Length": str(total), "X-Upload-Content-Type": "video/*"},
    )
    assert opened.status_code == 200
    session_url = opened.headers["location"]

    def put(data: bytes, content_range: str) -> httpx.Response:
        return httpx.put(session_url, content=data, headers={**auth, "Content-Range": content_range})

    too_small = put(b"x" * 1000, f"bytes 0-999/{total}")
    assert too_small.status_code == 400
    assert "required to be equal or greater than 262144" in too_small.text
    assert "contained 1000 bytes" in too_small.text
    assert put(b"x" * 10, f"bytes 0-9/{total + 1}").status_code == 400  # total differs from the session's
    assert put(b"x" * 10, f"bytes 0-19/{total}").status_code == 400  # range longer than the body
    gap = put(b"x" * CHUNK_MULTIPLE, f"bytes {CHUNK_MULTIPLE}-{2 * CHUNK_MULTIPLE - 1}/{total}")
    assert gap.status_code == 400

    # A non-final chunk off the 256 KiB grid is kept only up to the last whole block.
    unaligned = put(b"x" * (CHUNK_MULTIPLE + 100), f"bytes 0-{CHUNK_MULTIPLE + 99}/{total}")
    assert unaligned.status_code == 308 and unaligned.headers["range"] == f"bytes=0-{CHUNK_MULTIPLE - 1}"
    query = httpx.put(session_url, headers={**auth, "Content-Range": f"bytes */{total}"})
    assert query.status_code == 308 and query.headers["range"] == f"bytes=0-{CHUNK_MULTIPLE - 1}"
    done = put(b"y" * (2 * CHUNK_MULTIPLE), f"bytes {CHUNK_MULTIPLE}-{total - 1}/{total}")
    assert done.status_code == 201 and done.json()["status"]["uploadStatus"] == "uploaded"


def test_the_fake_rejects_malformed_requests_like_google(fake_youtube: FakeYouTube) -> None:  # noqa: F811
    base = fake_youtube.base_url
    access_token, _ = fake_youtube.issue_tokens()
    auth = {"Authorization": f"Bearer {access_token}"}

    anonymous = httpx.get(f"{base}/youtube/v3/channels", params={"part": "snippet", "mine": "true"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["errors"][0]["reason"] == "required"

    def insert(metadata: dict[str, Any], **headers: str) -> httpx.Response:
        return httpx.post(
            f"{base}/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": "snippet,status"},
            json=metadata,
            headers={**auth, "X-Upload-Content-Length": "100", **headers},
        )

    untitled = insert({"snippet": {"description": "d"}})
    assert untitled.status_code == 400 and untitled.json()["error"]["errors"][0]["reason"] == "invalidTitle"
    not_video = insert({"snippet": {"title": "t"}}, **{"X-Upload-Content-Type": "text/plain"})
    assert not_video.status_code == 400 and "video/*" in not_video.json()["error"]["message"]
    as_text = httpx.post(
        f"{base}/upload/youtube/v3/videos?uploadType=resumable&part=snippet",
        content=b"title",
        headers={**auth, "Content-Type": "text/plain", "X-Upload-Content-Length": "100"},
    )
    assert as_text.status_code == 400 and as_text.json()["error"]["errors"][0]["reason"] == "badContent"

    no_grant_type = httpx.post(
        f"{base}/token", data={"client_id": fake_youtube.client_id, "client_secret": fake_youtube.client_secret}
    )
    assert no_grant_type.status_code == 400 and no_grant_type.json()["error"] == "invalid_request"
    wrong_secret = httpx.post(
        f"{base}/token", data={"client_id": fake_youtube.client_id, "client_secret": "nope", "grant_type": "x"}
    )
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"

    consent = {"client_id": fake_youtube.client_id, "response_type": "code", "scope": UPLOAD_SCOPE}
    no_state = httpx.get(f"{base}/o/oauth2/v2/auth", params={**consent, "redirect_uri": REDIRECT_URI})
    assert no_state.status_code == 400
    foreign = httpx.get(
        f"{base}/o/oauth2/v2/auth", params={**consent, "redirect_uri": "https://evil.example/cb", "state": "s"}
    )
    assert foreign.status_code == 400 and "redirect_uri_mismatch" in foreign.text


# --- engagement metrics ----------------------------------------------------------------------------------------------


def test_fetch_metrics_maps_statistics_and_leaves_what_youtube_does_not_report_null(
    adapter: YouTubeAdapter,
    fake_youtube: FakeYouTube,  # noqa: F811
    sleeps: list[float],
) -> None:
    access_token, _ = fake_youtube.issue_tokens()
    video_id = fake_youtube.add_video()
    fake_youtube.set_statistics(video_id, views=1200, likes=None, comments=7)  # the owner hid the like count

    metrics = adapter.fetch_metrics(video_id, access_token)

    # The Data API has no share or save count: NULL, never 0. No watch time yet: YouTube Analytics has no row.
    assert metrics == PostMetrics(views=1200, likes=None, comments=7)
    [lookup] = [r for r in fake_youtube.requests if r.url.startswith("/youtube/v3/videos")]
    assert parse_qs(urlsplit(lookup.url).query)["part"] == ["statistics"]
    assert adapter.fetch_metrics("deleted0000", access_token) == PostMetrics()  # gone from the list: no counts

    # Once YouTube Analytics has the video's watch time, it comes with the counts (a looping Short passes 100 %).
    fake_youtube.set_watch_time(video_id, average_view_duration_s=21, average_view_percentage=112.5)
    watched = adapter.fetch_metrics(video_id, access_token)
    assert (watched.views, watched.avg_view_duration_s, watched.retention) == (1200, 21.0, 1.125)
    [report] = [r for r in fake_youtube.requests if r.url.startswith("/v2/reports")][-1:]
    asked = parse_qs(urlsplit(report.url).query)
    assert asked["ids"] == ["channel==MINE"] and asked["filters"] == [f"video=={video_id}"]
    assert asked["metrics"] == ["averageViewDuration,averageViewPercentage"]
    # An account connected before Clipped asked for yt-analytics.readonly: its counts, and no watch time.
    older_token, _ = fake_youtube.issue_tokens({UPLOAD_SCOPE, READONLY_SCOPE})
    assert adapter.fetch_metrics(video_id, older_token) == PostMetrics(views=1200, likes=None, comments=7)

    fake_youtube.fail_next("videos.list", status=429, retry_after=9)
    assert adapter.fetch_metrics(video_id, access_token).views == 1200
    assert any(seconds >= 9 for seconds in sleeps)

    fake_youtube.quota_limit = fake_youtube.quota_used
    with pytest.raises(RateLimitedError, match="quotaExceeded"):
        adapter.fetch_metrics(video_id, access_token)
    fake_youtube.quota_limit = 10_000
    fake_youtube.revoke_all()
    with pytest.raises(NeedsReconnectError):
        adapter.fetch_metrics(video_id, access_token)
