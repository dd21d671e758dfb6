"""The TikTok adapter against the local fake TikTok: connect, post a real MP4 in chunks, refresh with rotation,
429s, a failed chunk resumed, a crash between upload and publish, and the fake's refusals of malformed requests."""

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
    ResumeState,
)
from clipped.publish.oauth import code_challenge_s256, new_code_verifier, new_state
from clipped.publish.tiktok import MIN_CHUNK_BYTES, TikTokAdapter, plan_chunks
from tests.support.fake_tiktok import FakeTikTok, fake_tiktok_fixture  # noqa: F401  (provides fake_tiktok)

REDIRECT_URI = "http://127.0.0.1:8765/connect/tiktok/callback"
CHUNKS = 3


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s MP4 (test pattern + tone) of 15–20 MiB: noise keeps it incompressible, so it needs three 5 MiB chunks,
    TikTok's smallest."""
    out = tmp_path_factory.mktemp("tiktok") / "clip.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=size=480x270:rate=25:duration=3",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
         "-vf", "noise=alls=100:allf=t+u", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out)]
    )  # fmt: skip
    assert CHUNKS * MIN_CHUNK_BYTES <= out.stat().st_size < (CHUNKS + 1) * MIN_CHUNK_BYTES
    return out


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def adapter(fake_tiktok: FakeTikTok, sleeps: list[float]) -> Iterator[TikTokAdapter]:
    tiktok = TikTokAdapter(
        fake_tiktok.client_key,
        fake_tiktok.client_secret,
        auth_base_url=fake_tiktok.base_url,
        api_base_url=fake_tiktok.base_url,
        chunk_size=MIN_CHUNK_BYTES,
        poll_interval_s=2.0,
        poll_timeout_s=60.0,
        sleep=sleeps.append,
    )
    yield tiktok
    tiktok.close()


class SimulatedCrash(RuntimeError):
    """The worker died while saving a checkpoint."""


class SavedState:
    """A stand-in for the database row a ResumeState persists to; can crash at a chosen checkpoint."""

    def __init__(self, crash_when_saving: str | None = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self.crash_when_saving = crash_when_saving

    def save(self, values: dict[str, Any]) -> None:
        if self.crash_when_saving is not None and self.crash_when_saving in values:
            self.crash_when_saving = None
            raise SimulatedCrash(f"crashed before saving {sorted(values)}")
        self.rows.append(dict(values))

    def fresh(self) -> ResumeState:
        """The state a new worker loads: the last row that reached the database."""
        return ResumeState(values=dict(self.rows[-1]) if self.rows else {}).bind(self.save)


def post_request(video: Path, privacy: str = "public") -> PostRequest:
    return PostRequest(
        video_path=video, title="", caption="Three seconds of test pattern #clipped", privacy=privacy,
        idempotency_key="pub-0001",
    )  # fmt: skip


def connect(adapter: TikTokAdapter) -> tuple[str, str]:
    """The browser leg of OAuth: open the authorize URL, follow the fake's consent redirect; (code, verifier)."""
    verifier, state = new_code_verifier(), new_state()
    url = adapter.authorization_url(
        state=state, redirect_uri=REDIRECT_URI, code_challenge=code_challenge_s256(verifier)
    )
    consent = httpx.get(url, follow_redirects=False)
    assert consent.status_code == 302
    callback = urlsplit(consent.headers["location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == REDIRECT_URI
    params = {key: values[0] for key, values in parse_qs(callback.query).items()}
    assert params["state"] == state
    return params["code"], verifier


def accepted_puts(fake: FakeTikTok) -> list[tuple[int, int]]:
    return [(put.first, put.last) for put in fake.chunk_puts if put.status in (201, 206)]


def test_connect_then_post_in_chunks_until_published(
    adapter: TikTokAdapter,
    fake_tiktok: FakeTikTok,
    video: Path,
) -> None:
    url = urlsplit(adapter.authorization_url(state="s", redirect_uri=REDIRECT_URI, code_challenge="c"))
    query = parse_qs(url.query)
    assert url.path == "/v2/auth/authorize/"
    assert query["client_key"] == [fake_tiktok.client_key] and "client_id" not in query
    assert query["scope"] == ["user.info.basic,video.publish,video.list"] and query["code_challenge_method"] == ["S256"]

    code, verifier = connect(adapter)
    grant = adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    assert (grant.account_id, grant.display_name) == (fake_tiktok.open_id, fake_tiktok.display_name)
    now = datetime.now(UTC)
    assert abs(grant.expires_at - (now + timedelta(hours=24))) < timedelta(minutes=1)
    assert abs(grant.refresh_expires_at - (now + timedelta(days=365))) < timedelta(minutes=1)

    saved, progress = SavedState(), []
    result = adapter.publish(post_request(video), grant.access_token, saved.fresh(), progress.append)

    assert result.state == "published" and result.post_id == saved.rows[-1]["publish_id"]
    # Unaudited app: asked for public, posted SELF_ONLY; a private post has no public URL.
    assert [post.privacy_level for post in fake_tiktok.posts] == ["SELF_ONLY"]
    assert result.url == ""
    assert fake_tiktok.posts[0].video == video.read_bytes()
    assert fake_tiktok.posts[0].title == "Three seconds of test pattern #clipped"
    plan = plan_chunks(video.stat().st_size, MIN_CHUNK_BYTES)
    assert accepted_puts(fake_tiktok) == [plan.byte_range(index) for index in range(CHUNKS)]
    assert [put.status for put in fake_tiktok.chunk_puts] == [206, 206, 201]
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(set(progress)) >= CHUNKS
    # Every acknowledged chunk was saved before the next request went out.
    offsets = [row["uploaded_bytes"] for row in saved.rows]
    assert offsets == [0, plan.byte_range(0)[1] + 1, plan.byte_range(1)[1] + 1, plan.video_size, plan.video_size]
    assert saved.rows[-1]["published"] is True
    assert not any(grant.access_token in line for line in fake_tiktok.request_lines)

    # Run again with the saved state: the recorded post comes back and TikTok hears nothing.
    requests_before = len(fake_tiktok.request_lines)
    again = adapter.publish(post_request(video), grant.access_token, saved.fresh(), progress.append)
    assert again == result and len(fake_tiktok.request_lines) == requests_before


def test_audited_public_post_gets_its_public_url(
    adapter: TikTokAdapter,
    fake_tiktok: FakeTikTok,
    video: Path,
) -> None:
    fake_tiktok.audited = adapter.audited = True
    token = fake_tiktok.issue_tokens().access_token

    result = adapter.publish(post_request(video), token, SavedState().fresh(), lambda _: None)

    public_id = fake_tiktok.publishes[result.post_id].public_post_id
    assert fake_tiktok.posts[0].privacy_level == "PUBLIC_TO_EVERYONE"
    assert result.url == f"https://www.tiktok.com/@{fake_tiktok.username}/video/{public_id}"
    assert adapter.fetch_status(result.post_id, token) == result


def test_pkce_verifier_must_match_the_challenge(adapter: TikTokAdapter) -> None:
    code, _ = connect(adapter)
    with pytest.raises(NeedsReconnectError, match=r"invalid_grant|code_verifier"):
        adapter.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=new_code_verifier())


def test_refresh_rotates_the_refresh_token(adapter: TikTokAdapter, fake_tiktok: FakeTikTok) -> None:
    first = fake_tiktok.issue_tokens()
    old_refresh = first.refresh_token

    renewed = adapter.refresh(old_refresh)

    assert renewed.refresh_token and renewed.refresh_token != old_refresh
    assert renewed.access_token != first.access_token and renewed.account_id == fake_tiktok.open_id
    assert abs(renewed.expires_at - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=1)
    with pytest.raises(NeedsReconnectError) as rejected:
        adapter.refresh(old_refresh)
    assert old_refresh not in str(rejected.value)
    assert adapter.refresh(renewed.refresh_token).refresh_token != renewed.refresh_token


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_dead_refresh_token_needs_reconnect(adapter: TikTokAdapter, fake_tiktok: FakeTikTok, how: str) -> None:
    grant = fake_tiktok.issue_tokens()
    if how == "revoked":
        fake_tiktok.revoke_all_grants()
    else:
        fake_tiktok.advance_clock(366 * 24 * 3600)

    with pytest.raises(NeedsReconnectError) as raised:
        adapter.refresh(grant.refresh_token)
    assert "invalid_grant" in str(raised.value) or "invalid or expired" in str(raised.value)
    assert grant.refresh_token not in str(raised.value)


def test_429_waits_at_least_retry_after(
    adapter: TikTokAdapter,
    fake_tiktok: FakeTikTok,
    video: Path,
    sleeps: list[float],
) -> None:
    token = fake_tiktok.issue_tokens().access_token
    fake_tiktok.queue_rate_limits("init", 2, retry_after_s=7)

    result = adapter.publish(post_request(video), token, SavedState().fresh(), lambda _: None)

    assert result.state == "published"
    assert len([seconds for seconds in sleeps if seconds >= 7]) == 2
    assert fake_tiktok.init_calls == 1 and len(fake_tiktok.posts) == 1


def test_init_is_limited_to_six_per_minute_per_token(fake_tiktok: FakeTikTok) -> None:
    token = fake_tiktok.issue_tokens().access_token
    body = {
        "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
        "source_info": {"source": "FILE_UPLOAD", "video_size": 1000, "chunk_size": 1000, "total_chunk_count": 1},
    }
    with httpx.Client(base_url=fake_tiktok.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        statuses = [client.post("/v2/post/publish/video/init/", json=body).status_code for _ in range(7)]
        limited = client.post("/v2/post/publish/video/init/", json=body)
        fake_tiktok.advance_clock(61)
        after_a_minute = client.post("/v2/post/publish/video/init/", json=body)

    assert statuses == [200] * 6 + [429]
    assert limited.json()["error"]["code"] == "rate_limit_exceeded" and int(limited.headers["retry-after"]) > 0
    assert after_a_minute.status_code == 200


def test_5xx_mid_upload_resumes_from_the_saved_state(
    adapter: TikTokAdapter,
    fake_tiktok: FakeTikTok,
    video: Path,
) -> None:
    token = fake_tiktok.issue_tokens().access_token
    fake_tiktok.fail_chunk(1, status=503, times=adapter.attempts)
    saved = SavedState()

    with pytest.raises(PlatformUnavailableError) as failed:
        adapter.publish(post_request(video), token, saved.fresh(), lambda _: None)
    assert "upload_token" not in str(failed.value) and token not in str(failed.value)
    assert saved.rows[-1]["uploaded_bytes"] == MIN_CHUNK_BYTES and not saved.rows[-1].get("upload_complete")

    progress: list[float] = []
    result = adapter.publish(post_request(video), token, saved.fresh(), progress.append)

    assert result.state == "published"
    plan = plan_chunks(video.stat().st_size, MIN_CHUNK_BYTES)
    # Chunk 0 went once; chunk 1 was refused `attempts` times, then accepted on the second run.
    assert accepted_puts(fake_tiktok) == [plan.byte_range(index) for index in range(CHUNKS)]
    assert [put.status for put in fake_tiktok.chunk_puts] == [206] + [503] * adapter.attempts + [206, 201]
    assert progress[0] == pytest.approx(MIN_CHUNK_BYTES / plan.video_size)
    assert fake_tiktok.init_calls == 1 and len(fake_tiktok.posts) == 1
    assert fake_tiktok.posts[0].video == video.read_bytes()


@pytest.mark.parametrize("crash_when_saving", ["upload_complete", "published"])
def test_crash_between_upload_and_publish_posts_once(
    adapter: TikTokAdapter,
    fake_tiktok: FakeTikTok,
    video: Path,
    crash_when_saving: str,
) -> None:
    token = fake_tiktok.issue_tokens().access_token
    saved = SavedState(crash_when_saving=crash_when_saving)

    with pytest.raises(SimulatedCrash):
        adapter.publish(post_request(video), token, saved.fresh(), lambda _: None)
    # "upload_complete" never reached the database: the new worker must learn from TikTok that the upload is done.
    assert saved.rows[-1].get("upload_complete") is (True if crash_when_saving == "published" else None)

    result = adapter.publish(post_request(video), token, saved.fresh(), lambda _: None)

    assert result.state == "published" and result.post_id == saved.rows[-1]["publish_id"]
    assert fake_tiktok.init_calls == 1 and len(fake_tiktok.posts) == 1
    assert len(fake_tiktok.chunk_puts) == CHUNKS


def test_fake_refuses_wrong_chunking_and_malformed_requests(fake_tiktok: FakeTikTok) -> None:
    token = fake_tiktok.issue_tokens().access_token
    size = 17 * 1024 * 1024

    def init(chunk_size: int, count: int, privacy: str = "SELF_ONLY") -> httpx.Response:
        body = {
            "post_info": {"title": "t", "privacy_level": privacy},
            "source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk_size,
                            "total_chunk_count": count},
        }  # fmt: skip
        return client.post("/v2/post/publish/video/init/", json=body)

    with httpx.Client(base_url=fake_tiktok.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        too_small = init(1024 * 1024, 17)
        wrong_count = init(MIN_CHUNK_BYTES, 4)
        public = init(MIN_CHUNK_BYTES, 3, privacy="PUBLIC_TO_EVERYONE")
        upload_url = init(MIN_CHUNK_BYTES, 3).json()["data"]["upload_url"]
        one_mib = b"\0" * (1024 * 1024)
        short_chunk = client.put(
            upload_url,
            content=one_mib,
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{len(one_mib) - 1}/{size}"},
        )
        chunk = b"\0" * MIN_CHUNK_BYTES
        second_first = {"Content-Type": "video/mp4", "Content-Range": f"bytes {len(chunk)}-{2 * len(chunk) - 1}/{size}"}
        out_of_order = client.put(upload_url, content=chunk, headers=second_first)
        octet_stream = {"Content-Type": "application/octet-stream", "Content-Range": f"bytes 0-{len(chunk) - 1}/{size}"}
        not_video = client.put(upload_url, content=chunk, headers=octet_stream)
        no_range = client.put(upload_url, content=chunk, headers={"Content-Type": "video/mp4"})
        form_body = client.post("/v2/post/publish/video/init/", data={"post_info": "x"})
    no_auth = httpx.post(f"{fake_tiktok.base_url}/v2/post/publish/creator_info/query/", json={})

    for response in (too_small, wrong_count):
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_params"
        assert response.json()["data"] == {} and response.json()["error"]["log_id"]
    assert public.status_code == 403
    assert public.json()["error"]["code"] == "unaudited_client_can_only_post_to_private_accounts"
    assert short_chunk.status_code == 416 and out_of_order.status_code == 416
    assert not_video.status_code == 400 and no_range.status_code == 400
    assert form_body.status_code == 400 and form_body.json()["error"]["code"] == "invalid_params"
    assert no_auth.status_code == 401 and no_auth.json()["error"]["code"] == "access_token_invalid"
    assert fake_tiktok.posts == []


def test_fake_authorize_and_token_endpoints_validate(fake_tiktok: FakeTikTok) -> None:
    authorize = f"{fake_tiktok.base_url}/v2/auth/authorize/"
    good = {"client_key": fake_tiktok.client_key, "scope": "video.publish", "response_type": "code",
            "redirect_uri": REDIRECT_URI, "state": "xyz"}  # fmt: skip

    unknown_client = httpx.get(authorize, params=good | {"client_key": "someone-else"})
    no_state = httpx.get(authorize, params={k: v for k, v in good.items() if k != "state"})
    foreign_redirect = httpx.get(authorize, params=good | {"redirect_uri": "https://evil.example/cb"})
    assert unknown_client.status_code == 400 and unknown_client.json()["error"] == "invalid_client"
    assert no_state.status_code == 400 and "location" not in no_state.headers
    assert foreign_redirect.status_code == 400 and "location" not in foreign_redirect.headers

    code = parse_qs(urlsplit(httpx.get(authorize, params=good).headers["location"]).query)["code"][0]
    token_url = f"{fake_tiktok.base_url}/v2/oauth/token/"
    form = {"client_key": fake_tiktok.client_key, "client_secret": fake_tiktok.client_secret, "code": code,
            "grant_type": "authorization_code", "redirect_uri": REDIRECT_URI}  # fmt: skip
    as_json = httpx.post(token_url, json=form)
    wrong_secret = httpx.post(token_url, data=form | {"client_secret": "nope"})
    exchanged = httpx.post(token_url, data=form)
    replayed = httpx.post(token_url, data=form)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    assert exchanged.status_code == 200 and exchanged.json()["scope"] == "video.publish"
    assert exchanged.json()["expires_in"] == 24 * 3600
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("video_size", "preferred", "expected"),
    [
        (3_000_000, 10 * 1024 * 1024, (3_000_000, 1)),  # under 5 MB: one whole chunk
        (50_000_123, 10_000_000, (10_000_000, 5)),  # the Media Transfer Guide's example: the 123 bytes ride along
        (20 * 1024 * 1024, 1024, (5 * 1024 * 1024, 4)),  # below the floor: raised to 5 MiB
        (8 * 1024**3, 5 * 1024 * 1024, (8_589_935, 999)),  # at most 1,000 chunks: the chunk grows instead
    ],
)
def test_chunk_plan_follows_the_documented_rules(video_size: int, preferred: int, expected: tuple[int, int]) -> None:
    plan = plan_chunks(video_size, preferred)
    assert (plan.chunk_size, plan.count) == expected
    assert plan.byte_range(plan.count - 1)[1] == video_size - 1


# Engagement metrics

METRICS_SCOPE = "user.info.basic,video.publish,video.list"


def test_fetch_metrics_queries_the_video_by_its_public_id(
    adapter: TikTokAdapter, fake_tiktok: FakeTikTok, sleeps: list[float]
) -> None:
    token = fake_tiktok.issue_tokens(METRICS_SCOPE).access_token
    publish_id = fake_tiktok.add_published_post()
    public_id = fake_tiktok.publishes[publish_id].public_post_id
    fake_tiktok.set_video_counts(public_id, views=5400, likes=310, comments=12, shares=44)
    expected = PostMetrics(views=5400, likes=310, comments=12, shares=44)  # no saves or watch time from TikTok

    assert adapter.fetch_metrics(str(public_id), token) == expected
    # Given the publish_id (what a publication records), the public id comes from the publish status first.
    assert adapter.fetch_metrics(publish_id, token) == expected
    query = [line for line in fake_tiktok.request_lines if "/v2/video/query/" in line][-1]
    assert "fields=id%2Cview_count%2Clike_count%2Ccomment_count%2Cshare_count" in query

    private = fake_tiktok.add_published_post(public=False)
    assert adapter.fetch_metrics(private, token) == PostMetrics()  # no public id: no counts, not zeros

    fake_tiktok.queue_rate_limits("video_query", 1, retry_after_s=6)
    assert adapter.fetch_metrics(str(public_id), token).views == 5400
    assert any(seconds >= 6 for seconds in sleeps)

    without_scope = fake_tiktok.issue_tokens().access_token  # connected before video.list was asked for
    with pytest.raises(NeedsReconnectError):
        adapter.fetch_metrics(str(public_id), without_scope)
