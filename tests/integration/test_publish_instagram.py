"""The Instagram adapter against the local fake Instagram: connecting, a real MP4 posted as a Reel in chunks, token
refresh, rate limits, and interrupted attempts that resume without re-sending acknowledged chunks or posting twice."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from clipped.media.ffmpeg import run_ffmpeg
from clipped.publish.instagram import InstagramAdapter, StillProcessingError
from clipped.publish.models import (
    NeedsReconnectError,
    PlatformRejectedError,
    PlatformUnavailableError,
    PostMetrics,
    PostRequest,
    RateLimitedError,
    ResumeState,
    TokenGrant,
)
from clipped.publish.oauth import new_state
from tests.support.fake_instagram import (
    API_VERSION,
    CLIENT_ID,
    CLIENT_SECRET,
    IG_USER_ID,
    REDIRECT_URI,
    USERNAME,
    FakeInstagram,
    fake_instagram_fixture,  # noqa: F401  (provides fake_instagram)
)

CHUNK_BYTES = 16 * 1024
DAY_S = 24 * 3600


class SimulatedCrash(Exception):
    """The process died at a checkpoint."""


class SavedState:
    """What the publication store holds between attempts: the values of the last checkpoint it persisted.

    ``crash_when`` picks the checkpoint at which the process dies, once: after persisting it, or (``persist=False``)
    before, as when the platform acknowledged a step whose record never reached the store.
    """

    def __init__(self, crash_when: Callable[[dict[str, Any]], bool] | None = None, *, persist: bool = True) -> None:
        self.values: dict[str, Any] = {}
        self.saves: list[dict[str, Any]] = []
        self._crash_when = crash_when
        self._persist = persist

    def resume(self) -> ResumeState:
        return ResumeState(values=dict(self.values)).bind(self._save)

    def _save(self, values: dict[str, Any]) -> None:
        crash = self._crash_when is not None and self._crash_when(values)
        if crash:
            self._crash_when = None
        if self._persist or not crash:
            self.values = dict(values)
            self.saves.append(dict(values))
        if crash:
            raise SimulatedCrash


@pytest.fixture(scope="module")
def reel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 2.5 s vertical MP4 (test pattern and a tone), several upload chunks long."""
    out = tmp_path_factory.mktemp("instagram") / "reel.mp4"
    seconds = 2.5
    run_ffmpeg(
        [
            *("-f", "lavfi", "-i", f"testsrc=size=360x640:rate=30:duration={seconds}"),
            *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"),
            str(out),
        ]
    )
    assert out.stat().st_size > 3 * CHUNK_BYTES, "the test video must span at least three chunks"
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[httpx.Client]:
    """The person's browser, and the client for requests a test sends straight to the fake."""
    with httpx.Client() as client:
        yield client


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def adapter(fake_instagram: FakeInstagram, sleeps: list[float]) -> Iterator[InstagramAdapter]:
    adapter = make_adapter(fake_instagram, sleeps)
    yield adapter
    adapter.close()


def make_adapter(fake: FakeInstagram, sleeps: list[float], **options: Any) -> InstagramAdapter:
    settings: dict[str, Any] = {"chunk_bytes": CHUNK_BYTES, "poll_interval_s": 2.0, "poll_timeout_s": 60.0}
    return InstagramAdapter(CLIENT_ID, CLIENT_SECRET, **fake.adapter_urls(), sleep=sleeps.append, **settings | options)


def authorize(adapter: InstagramAdapter, browser: httpx.Client) -> tuple[str, str]:
    """Open the consent page the way a browser would and read the code from the redirect; returns (code, state)."""
    state = new_state()
    consent = browser.get(
        adapter.authorization_url(state=state, redirect_uri=REDIRECT_URI, code_challenge=None), follow_redirects=False
    )
    assert consent.status_code == 302
    location = urlsplit(consent.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0], state


def connect(adapter: InstagramAdapter, browser: httpx.Client) -> TokenGrant:
    code, _state = authorize(adapter, browser)
    return adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=None)


def post_request(video: Path, *, privacy: str = "public") -> PostRequest:
    return PostRequest(
        video_path=video,
        title="",
        caption="Three seconds of test pattern #clipped",
        privacy=privacy,  # type: ignore[arg-type]
        idempotency_key="publication-1",
    )


def assert_contiguous(fake: FakeInstagram, size: int) -> None:
    """Every byte was accepted exactly once, in order (no acknowledged chunk was sent again)."""
    accepted = fake.accepted_chunks()
    assert [chunk.offset for chunk in accepted] == list(range(0, size, CHUNK_BYTES))
    assert sum(chunk.length for chunk in accepted) == size


def test_connect_gives_a_long_lived_grant_for_the_professional_account(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, browser: httpx.Client
) -> None:
    url = urlsplit(adapter.authorization_url(state="s1", redirect_uri=REDIRECT_URI, code_challenge=None))
    query = parse_qs(url.query)
    assert query["scope"] == [
        "instagram_business_basic,instagram_business_content_publish,instagram_business_manage_insights"
    ]
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert "code_challenge" not in query and adapter.uses_pkce is False

    code, _state = authorize(adapter, browser)
    grant = adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=None)

    stored = fake_instagram.grants[grant.access_token]
    assert stored.long_lived, "the one-hour token must be traded for the 60-day one"
    assert grant.refresh_token == grant.access_token
    assert grant.account_id == IG_USER_ID and grant.display_name == USERNAME
    assert grant.expires_at is not None
    assert timedelta(days=59) < grant.expires_at - datetime.now(UTC) < timedelta(days=61)
    assert "instagram_business_content_publish" in grant.scope
    with pytest.raises(PlatformRejectedError, match="already used"):
        adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=None)


def test_consent_and_exchange_hold_to_the_registered_redirect_uri(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, browser: httpx.Client
) -> None:
    elsewhere = "https://attacker.test/callback"
    refused = browser.get(adapter.authorization_url(state="s", redirect_uri=elsewhere, code_challenge=None))
    assert refused.status_code == 400 and refused.json()["error_message"] == "Invalid redirect_uri"
    without_state = browser.get(adapter.authorization_url(state="", redirect_uri=REDIRECT_URI, code_challenge=None))
    assert without_state.status_code == 400

    code, _state = authorize(adapter, browser)
    fake_instagram.redirect_uris.add(elsewhere)
    with pytest.raises(PlatformRejectedError, match="redirect_uri"):
        adapter.exchange_code(code=code, redirect_uri=elsewhere, code_verifier=None)
    assert fake_instagram.calls["exchange"] == 0


def test_publishes_a_real_mp4_as_a_reel_in_chunks(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, reel: Path, browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)
    saved, progress = SavedState(), list[float]()

    result = adapter.publish(post_request(reel), grant.access_token, saved.resume(), progress.append)

    [post] = fake_instagram.published_posts()
    assert (result.post_id, result.url, result.state) == (post.id, post.permalink, "published")
    assert post.video == reel.read_bytes()
    assert post.caption == "Three seconds of test pattern #clipped"
    assert_contiguous(fake_instagram, reel.stat().st_size)
    assert len(fake_instagram.accepted_chunks()) >= 3
    assert progress[0] == 0.0 and progress[-1] == 1.0 and progress == sorted(progress)
    # The container is recorded before the first chunk, each chunk's offset as it is acknowledged, the post last.
    opened = next(values for values in saved.saves if "container_id" in values)
    assert opened["offset"] == 0
    offsets = [values["offset"] for values in saved.saves if "media_id" not in values and values.get("offset")]
    assert offsets == [
        min(n, reel.stat().st_size) for n in range(CHUNK_BYTES, reel.stat().st_size + CHUNK_BYTES, CHUNK_BYTES)
    ]
    assert saved.saves[-1]["media_id"] == post.id
    assert fake_instagram.calls["publishing_limit"] == 1
    status = adapter.fetch_status(result.post_id, grant.access_token)
    assert (status.state, status.url) == ("published", post.permalink)


def test_refresh_rotates_a_day_old_long_lived_token(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)
    fake_instagram.advance(DAY_S + 3600)

    refreshed = adapter.refresh(grant.refresh_token or "")

    assert refreshed.access_token != grant.access_token
    assert refreshed.refresh_token == refreshed.access_token
    assert fake_instagram.grants[refreshed.access_token].long_lived
    assert refreshed.expires_at is not None
    assert timedelta(days=59) < refreshed.expires_at - datetime.now(UTC) < timedelta(days=61)
    assert refreshed.account_id == IG_USER_ID


def test_refresh_of_a_token_under_a_day_old_is_refused_without_disconnecting(
    adapter: InstagramAdapter, browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)

    with pytest.raises(PlatformRejectedError, match="24 hours") as refused:
        adapter.refresh(grant.refresh_token or "")
    assert not isinstance(refused.value, NeedsReconnectError)


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_an_expired_or_revoked_token_needs_a_new_connection(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, reel: Path, how: str, browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)
    if how == "expired":
        fake_instagram.advance(61 * DAY_S)
    else:
        fake_instagram.revoke_all()

    with pytest.raises(NeedsReconnectError) as refresh_error:
        adapter.refresh(grant.refresh_token or "")
    with pytest.raises(NeedsReconnectError):
        adapter.publish(post_request(reel), grant.access_token, SavedState().resume(), lambda _f: None)
    assert grant.access_token not in str(refresh_error.value)
    assert not fake_instagram.containers


def test_a_429_waits_at_least_its_retry_after(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, reel: Path, sleeps: list[float], browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)
    fake_instagram.queue_error("create_container", count=2, status=429, retry_after=7)
    fake_instagram.queue_error("upload", count=1, status=429, retry_after=11)

    result = adapter.publish(post_request(reel), grant.access_token, SavedState().resume(), lambda _f: None)

    assert result.state == "published"
    assert sleeps[0] >= 7 and sleeps[1] >= 7 and sleeps[2] >= 11
    assert fake_instagram.calls["create_container"] == 3
    assert len(fake_instagram.containers) == 1 and len(fake_instagram.published_posts()) == 1
    assert_contiguous(fake_instagram, reel.stat().st_size)


def test_a_graph_rate_limit_defers_with_the_usage_header_wait_then_posts_once(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, reel: Path, browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)
    fake_instagram.queue_error("media_publish", status=400, code=4, regain_access_minutes=5)
    saved = SavedState()

    with pytest.raises(RateLimitedError) as limited:
        adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    assert limited.value.retry_after_s == 300
    assert not fake_instagram.published_posts()
    chunks_sent = len(fake_instagram.chunks)

    result = adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)

    assert [post.id for post in fake_instagram.published_posts()] == [result.post_id]
    assert len(fake_instagram.chunks) == chunks_sent, "the finished upload is not sent again"


def test_the_daily_publishing_limit_is_checked_before_publishing(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, reel: Path, browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)
    fake_instagram.quota_used_elsewhere = 50
    saved = SavedState()

    with pytest.raises(RateLimitedError, match="50 of 50"):
        adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    assert fake_instagram.calls["media_publish"] == 0

    fake_instagram.quota_used_elsewhere = 10
    adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    assert len(fake_instagram.published_posts()) == 1
    assert_contiguous(fake_instagram, reel.stat().st_size)


@pytest.mark.parametrize("reports_upload_progress", [True, False])
def test_a_5xx_mid_upload_resumes_without_resending_acknowledged_chunks(
    adapter: InstagramAdapter,
    fake_instagram: FakeInstagram,
    reel: Path,
    sleeps: list[float],
    browser: httpx.Client,
    reports_upload_progress: bool,
) -> None:
    fake_instagram.reports_upload_progress = reports_upload_progress
    grant = connect(adapter, browser)
    fake_instagram.fail_chunks(2, times=5)  # outlasts the adapter's retries
    saved = SavedState()

    with pytest.raises(PlatformUnavailableError):
        adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    assert saved.values["offset"] == CHUNK_BYTES
    assert not fake_instagram.published_posts()
    requests_before = len(fake_instagram.chunks)

    second = make_adapter(fake_instagram, sleeps)
    result = second.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    second.close()

    assert result.state == "published"
    assert min(chunk.offset for chunk in fake_instagram.chunks[requests_before:]) == CHUNK_BYTES
    assert_contiguous(fake_instagram, reel.stat().st_size)
    assert len(fake_instagram.containers) == 1
    [post] = fake_instagram.published_posts()
    assert post.video == reel.read_bytes()


def test_a_crash_after_the_upload_and_before_publishing_posts_once(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, reel: Path, sleeps: list[float], browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)
    size = reel.stat().st_size
    saved = SavedState(crash_when=lambda values: values.get("offset") == size)

    with pytest.raises(SimulatedCrash):
        adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    assert not fake_instagram.published_posts()
    chunks_sent = len(fake_instagram.chunks)

    rerun = make_adapter(fake_instagram, sleeps)
    result = rerun.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    rerun.close()

    assert [post.id for post in fake_instagram.published_posts()] == [result.post_id]
    assert len(fake_instagram.chunks) == chunks_sent
    assert len(fake_instagram.containers) == 1


def test_a_chunk_acknowledged_but_never_recorded_is_not_sent_again(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, reel: Path, browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)
    saved = SavedState(crash_when=lambda values: values.get("offset") == 2 * CHUNK_BYTES, persist=False)

    with pytest.raises(SimulatedCrash):
        adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    assert saved.values["offset"] == CHUNK_BYTES  # Instagram holds two chunks, the store knows of one
    requests_before = len(fake_instagram.chunks)

    adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)

    assert fake_instagram.chunks[requests_before].offset == 2 * CHUNK_BYTES
    assert_contiguous(fake_instagram, reel.stat().st_size)
    assert len(fake_instagram.published_posts()) == 1


@pytest.mark.parametrize("reports_upload_progress", [True, False])
def test_a_lost_publish_answer_is_adopted_not_posted_again(
    adapter: InstagramAdapter,
    fake_instagram: FakeInstagram,
    reel: Path,
    browser: httpx.Client,
    reports_upload_progress: bool,
) -> None:
    fake_instagram.reports_upload_progress = reports_upload_progress
    grant = connect(adapter, browser)
    saved = SavedState(crash_when=lambda values: "media_id" in values, persist=False)

    with pytest.raises(SimulatedCrash):
        adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    [post] = fake_instagram.published_posts()
    assert "media_id" not in saved.values

    adopted = adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    assert (adopted.post_id, adopted.url) == (post.id, post.permalink)
    assert saved.values["media_id"] == post.id

    again = adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    assert again.post_id == post.id
    assert fake_instagram.calls["media_publish"] == 1 and fake_instagram.calls["create_container"] == 1
    assert len(fake_instagram.published_posts()) == 1


def test_processing_that_outlasts_the_poll_timeout_continues_on_the_next_attempt(
    fake_instagram: FakeInstagram, reel: Path, sleeps: list[float], browser: httpx.Client
) -> None:
    adapter = make_adapter(fake_instagram, sleeps, poll_interval_s=2.0, poll_timeout_s=6.0)
    grant = connect(adapter, browser)
    fake_instagram.processing_polls = 10
    saved = SavedState()

    with pytest.raises(StillProcessingError):
        adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    assert sleeps == [2.0, 2.0], "polls are spaced by the poll interval"
    chunks_sent = len(fake_instagram.chunks)

    fake_instagram.processing_polls = 0
    adapter.publish(post_request(reel), grant.access_token, saved.resume(), lambda _f: None)
    adapter.close()
    assert len(fake_instagram.published_posts()) == 1 and len(fake_instagram.chunks) == chunks_sent


def test_a_video_instagram_cannot_process_fails_without_posting(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, reel: Path, browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)
    fake_instagram.processing_error = "Unsupported video codec"

    with pytest.raises(PlatformRejectedError, match="Unsupported video codec"):
        adapter.publish(post_request(reel), grant.access_token, SavedState().resume(), lambda _f: None)
    assert fake_instagram.calls["media_publish"] == 0 and not fake_instagram.published_posts()


def test_a_private_clip_is_refused_before_any_upload(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, reel: Path, browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)

    with pytest.raises(PlatformRejectedError, match="private"):
        adapter.publish(
            post_request(reel, privacy="private"), grant.access_token, SavedState().resume(), lambda _f: None
        )
    assert not fake_instagram.containers


def test_the_fake_refuses_malformed_uploads_and_graph_calls(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, browser: httpx.Client
) -> None:
    token = connect(adapter, browser).access_token
    graph = f"{fake_instagram.base_url}/{API_VERSION}/{IG_USER_ID}/media"
    bearer = {"Authorization": f"Bearer {token}"}
    container = browser.post(graph, headers=bearer, data={"media_type": "REELS", "upload_type": "resumable"}).json()
    upload_uri = container["uri"]

    def chunk(body: bytes, **headers: str) -> httpx.Response:
        return browser.post(upload_uri, content=body, headers={"Authorization": f"OAuth {token}", **headers})

    overrun = chunk(b"x" * 20, offset="0", file_size="10")
    assert overrun.status_code == 400
    assert overrun.json()["debug_info"]["type"] == "InvalidRequest"
    assert "overruns" in overrun.json()["debug_info"]["message"]
    assert chunk(b"x" * 10, offset="0", file_size="20").json() == {"success": True, "message": "Upload successful."}
    assert "expected 10" in chunk(b"x" * 5, offset="15", file_size="20").json()["debug_info"]["message"]
    assert chunk(b"x" * 10, offset="10", file_size="30").status_code == 400  # file_size changed mid-upload
    assert chunk(b"x" * 10, offset="10").status_code == 400  # no file_size
    assert chunk(b"", offset="10", file_size="20").status_code == 400
    assert chunk(b"x" * 10, offset="10", file_size="20", **{"Content-Type": "application/json"}).status_code == 400
    assert browser.post(upload_uri, content=b"x" * 10, headers={"offset": "10", "file_size": "20"}).status_code == 401
    assert [(c.offset, c.length) for c in fake_instagram.accepted_chunks()] == [(0, 10)]

    missing_type = browser.post(graph, headers=bearer, data={"upload_type": "resumable"})
    assert missing_type.status_code == 400
    error = missing_type.json()["error"]
    assert (error["type"], error["code"]) == ("OAuthException", 100) and error["fbtrace_id"]
    assert browser.post(graph, data={"media_type": "REELS"}).json()["error"]["code"] == 104
    wrong_type = browser.post(graph, headers={**bearer, "Content-Type": "text/plain"}, content=b"media_type=REELS")
    assert wrong_type.status_code == 400 and wrong_type.json()["error"]["code"] == 100
    token_as_json = browser.post(f"{fake_instagram.base_url}/oauth/access_token", json={"client_id": CLIENT_ID})
    assert token_as_json.status_code == 400 and "Content-Type" in token_as_json.json()["error_message"]
    token_without_code = browser.post(
        f"{fake_instagram.base_url}/oauth/access_token", data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert token_without_code.json()["error_message"] == "Missing required field grant_type"


def test_tokens_stay_out_of_logs_and_errors(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, caplog: pytest.LogCaptureFixture, browser: httpx.Client
) -> None:
    caplog.set_level(logging.DEBUG, logger="httpx")
    grant = connect(adapter, browser)
    fake_instagram.advance(DAY_S + 60)
    refreshed = adapter.refresh(grant.refresh_token or "")
    fake_instagram.revoke_all()
    with pytest.raises(NeedsReconnectError) as revoked:
        adapter.refresh(refreshed.access_token)

    assert "refresh_access_token" in caplog.text and "access_token=[redacted]" in caplog.text
    secrets = [CLIENT_SECRET, *fake_instagram.grants]
    assert len(secrets) == 4  # the app secret, the one-hour token and both 60-day tokens
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in str(revoked.value)


# --- engagement metrics ----------------------------------------------------------------------------------------------


def test_fetch_metrics_reads_the_reel_insights_with_views_not_plays(
    adapter: InstagramAdapter, fake_instagram: FakeInstagram, sleeps: list[float], browser: httpx.Client
) -> None:
    grant = connect(adapter, browser)
    media_id = fake_instagram.add_post()
    fake_instagram.set_insights(
        media_id, views=8000, likes=640, comments=31, shares=87, saved=120, ig_reels_avg_watch_time=6400
    )

    metrics = adapter.fetch_metrics(media_id, grant.access_token)

    assert metrics == PostMetrics(views=8000, likes=640, comments=31, shares=87, saves=120, avg_view_duration_s=6.4)
    assert fake_instagram.calls["insights"] == 1

    fake_instagram.set_insights(media_id, views=8100, shares=None)  # a metric left out of the answer stays NULL
    partial = adapter.fetch_metrics(media_id, grant.access_token)
    assert partial.views == 8100 and partial.shares is None and partial.likes == 0
    assert adapter.fetch_metrics("17999999999999999", grant.access_token) == PostMetrics()  # deleted

    fake_instagram.queue_error("insights", status=429, retry_after=8)
    assert adapter.fetch_metrics(media_id, grant.access_token).views == 8100
    assert any(seconds >= 8 for seconds in sleeps)

    fake_instagram.revoke_all()
    with pytest.raises(NeedsReconnectError):
        adapter.fetch_metrics(media_id, grant.access_token)


def test_the_fake_refuses_the_retired_plays_metric(fake_instagram: FakeInstagram, browser: httpx.Client) -> None:
    adapter = make_adapter(fake_instagram, [])
    grant = connect(adapter, browser)
    media_id = fake_instagram.add_post()

    answer = browser.get(
        f"{fake_instagram.base_url}/{API_VERSION}/{media_id}/insights",
        params={"metric": "plays"},
        headers={"Authorization": f"Bearer {grant.access_token}"},
    )

    assert answer.status_code == 400 and "metric[0]" in answer.json()["error"]["message"]
