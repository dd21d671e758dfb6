"""Posting a clip to X through the X API v2: OAuth 2.0 with PKCE, the chunked media upload, then a post.

Exactly once: X takes no idempotency key, so the adapter checkpoints the media id when the upload session opens,
every segment X acknowledges, the end of processing, a marker just before the post request, and the post id right
after it. A resumed attempt returns a recorded post id without a request; when the marker is there but no post id,
it first looks through the account's recent posts for one carrying our media and adopts it.

Residual window: the timeline is read a moment after a lost response, and X indexes new posts within seconds; a post
created but not yet visible there (or hidden by the timeline's limits) would be posted a second time. X refuses a
second post with the same text as a recent one (403 duplicate content), which closes most of that window.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from clipped.progress import ProgressCallback
from clipped.publish.http import MAX_BACKOFF_S, error_for, send_with_retries
from clipped.publish.metadata import LIMITS, PlatformLimits
from clipped.publish.models import (
    NeedsReconnectError,
    Platform,
    PlatformRejectedError,
    PlatformUnavailableError,
    PostMetrics,
    PostRequest,
    PostResult,
    PublishError,
    RateLimitedError,
    ResumeState,
    TokenGrant,
)
from clipped.publish.oauth import expires_at

X_AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
X_API_URL = "https://api.x.com"
X_SCOPES = "tweet.read tweet.write users.read media.write offline.access"
# The upload docs: each APPEND segment is at most 5 MB and segment_index runs 0..999.
MAX_SEGMENT_BYTES = 5 * 1024 * 1024
MAX_SEGMENTS = 1000
DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024
# How far before our post request the recovery search starts (clock skew between us and X).
RECOVERY_LOOKBACK = timedelta(minutes=2)
# A post's counts: public ones for any post, non-public ones (the owner's impression count) for the owner's own posts
# of the last 30 days.
METRIC_FIELDS = "public_metrics,non_public_metrics"
PUBLIC_METRIC_FIELDS = "public_metrics"
# Token endpoint answers that mean the refresh token is used, revoked or expired.
_DEAD_GRANT_ERRORS = {"invalid_grant", "invalid_request"}


class XAdapter:
    """The :class:`~clipped.publish.adapter.PlatformAdapter` for X (X API v2, OAuth 2.0 user context)."""

    platform: Platform = "x"
    limits: PlatformLimits = LIMITS["x"]
    uses_pkce: bool = True

    def __init__(
        self,
        client_id: str,
        client_secret: str | None = None,
        *,
        authorize_url: str = X_AUTHORIZE_URL,
        api_url: str = X_API_URL,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        poll_interval_s: float = 5.0,
        poll_timeout_s: float = 600.0,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 5,
    ) -> None:
        if not 0 < chunk_bytes <= MAX_SEGMENT_BYTES:
            raise ValueError(f"X takes upload segments of 1..{MAX_SEGMENT_BYTES} bytes, not {chunk_bytes}")
        self._client_id = client_id
        # A confidential client authenticates at the token endpoint with HTTP Basic; a public one sends client_id.
        self._client_secret = client_secret
        self._authorize_url = authorize_url
        self._api_url = api_url.rstrip("/")
        self._chunk_bytes = chunk_bytes
        self._poll_interval_s = poll_interval_s
        self._poll_timeout_s = poll_timeout_s
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=httpx.Timeout(30.0, read=120.0))
        self._sleep = sleep
        self._attempts = attempts

    def close(self) -> None:
        """Close the HTTP client if this adapter opened it."""
        if self._owns_http:
            self._http.close()

    # --- connecting an account -------------------------------------------------------------------------------

    def authorization_url(self, *, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        """X's consent page for our scopes; X requires a PKCE challenge (S256)."""
        if not code_challenge:
            raise ValueError("X requires a PKCE code challenge")
        query = {
            "response_type": "code",
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "scope": X_SCOPES,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self._authorize_url}?{urlencode(query)}"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        """Trade the authorization code (valid 30 s on X) for tokens, then name the account from ``users/me``."""
        if not code_verifier:
            raise ValueError("X requires the PKCE code verifier")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        response = self._token_request(form, "X code exchange")
        if not response.is_success:
            raise error_for(response, "X code exchange")
        grant = _grant_from(response.json())
        me = self._send("GET", "/2/users/me", "X account lookup", token=grant.access_token).json()["data"]
        return grant.model_copy(update={"account_id": me["id"], "display_name": f"@{me['username']}"})

    def refresh(self, refresh_token: str) -> TokenGrant:
        """A new grant; X rotates the refresh token on every use, so the returned one replaces the old."""
        response = self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, "X token refresh"
        )
        if response.status_code == 400 and _oauth_error(response) in _DEAD_GRANT_ERRORS:
            raise NeedsReconnectError(f"X token refresh: HTTP 400 ({_oauth_error(response)})")
        if not response.is_success:
            raise error_for(response, "X token refresh")  # 401 maps to NeedsReconnectError there
        return _grant_from(response.json())

    def _token_request(self, form: dict[str, str], what: str) -> httpx.Response:
        """POST to the token endpoint, retrying only 429/5xx; 400 and 401 come back for the caller to read."""
        auth: tuple[str, str] | None = None
        if self._client_secret:
            auth = (self._client_id, self._client_secret)
        else:
            form = {**form, "client_id": self._client_id}
        return send_with_retries(
            lambda: self._http.post(
                f"{self._api_url}/2/oauth2/token", data=form, auth=auth or httpx.USE_CLIENT_DEFAULT
            ),
            what,
            attempts=self._attempts,
            sleep=self._sleep,
            ok=lambda response: response.is_success or response.status_code in (400, 401),
        )

    # --- publishing ------------------------------------------------------------------------------------------

    def publish(
        self, request: PostRequest, access_token: str, resume: ResumeState, on_progress: ProgressCallback
    ) -> PostResult:
        """Upload the video in segments, wait for X to process it, post it with the caption; resumable throughout.

        ``request.idempotency_key`` is not sent: X has none. Exactly-once rests on the checkpoints instead (module
        docstring).
        """
        recorded = resume.get("post_id")
        if recorded:
            return _published(recorded)
        if request.privacy != "public":
            # Every post on X is public (for a public account); refuse rather than publish what was meant private.
            raise PlatformRejectedError(f"X has no {request.privacy} posts")
        if resume.get("post_sent_at"):
            found = self._find_post_with_media(resume, access_token)
            if found:
                resume.checkpoint(post_id=found)
                on_progress(1.0)
                return _published(found)
        media_id = self._upload(request.video_path, access_token, resume, on_progress)
        self._wait_until_processed(media_id, access_token, resume)
        resume.checkpoint(post_sent_at=datetime.now(UTC).isoformat())
        post_id = self._create_post(request.caption or request.title, media_id, access_token, resume)
        resume.checkpoint(post_id=post_id)
        on_progress(1.0)
        return _published(post_id)

    def fetch_status(self, post_id: str, access_token: str) -> PostResult:
        """``published`` while X serves the post; ``failed`` once it is gone (deleted, or removed by X)."""
        body = self._send("GET", f"/2/tweets/{post_id}", "X post lookup", token=access_token).json()
        if body.get("data"):
            return _published(post_id)
        errors = body.get("errors") or [{}]
        return PostResult(post_id=post_id, url=post_url(post_id), state="failed", detail=errors[0].get("title", ""))

    def fetch_metrics(self, post_id: str, access_token: str) -> PostMetrics:
        """The post's counts from ``GET /2/tweets/{id}``: impressions as views, likes, replies as comments, reposts
        and quotes as shares, bookmarks as saves. X serves ``non_public_metrics`` only for the owner's posts of the
        last 30 days; an older post is asked again for its public metrics alone. A deleted post has no counts."""
        try:
            body = self._metrics_lookup(post_id, access_token, METRIC_FIELDS)
        except PlatformRejectedError:
            body = self._metrics_lookup(post_id, access_token, PUBLIC_METRIC_FIELDS)
        data = body.get("data")
        if not isinstance(data, dict):
            return PostMetrics()
        public = data.get("public_metrics") or {}
        private = data.get("non_public_metrics") or {}
        impressions = _count(private.get("impression_count"))
        reposts, quotes = _count(public.get("retweet_count")), _count(public.get("quote_count"))
        return PostMetrics(
            views=impressions if impressions is not None else _count(public.get("impression_count")),
            likes=_count(public.get("like_count")),
            comments=_count(public.get("reply_count")),
            shares=reposts + quotes if reposts is not None and quotes is not None else reposts,
            saves=_count(public.get("bookmark_count")),
        )

    def _metrics_lookup(self, post_id: str, token: str, fields: str) -> dict[str, Any]:
        response = self._send(
            "GET", f"/2/tweets/{post_id}", "X post metrics", token=token, params={"tweet.fields": fields}
        )
        body = response.json()
        return body if isinstance(body, dict) else {}

    def _upload(self, video: Path, token: str, resume: ResumeState, on_progress: ProgressCallback) -> str:
        """The media id of ``video`` uploaded and finalized, continuing an upload ``resume`` holds if still valid."""
        total = video.stat().st_size
        if total == 0:
            raise PlatformRejectedError("X upload: the video file is empty")
        if not self._can_continue_upload(resume, total):
            self._open_upload(total, token, resume)
        media_id: str = resume.get("media_id")
        if resume.get("finalized"):
            return media_id
        offset, segment = int(resume.get("bytes_sent", 0)), int(resume.get("segments_sent", 0))
        if segment + math.ceil((total - offset) / self._chunk_bytes) > MAX_SEGMENTS:
            raise PlatformRejectedError(f"X upload: {total} bytes need more than {MAX_SEGMENTS} segments")
        on_progress(offset / total)
        with video.open("rb") as source:
            source.seek(offset)
            while offset < total:
                chunk = source.read(self._chunk_bytes)
                # Re-sending a segment index replaces that segment, so a retry after a lost answer is harmless.
                self._send(
                    "POST",
                    f"/2/media/upload/{media_id}/append",
                    f"X upload segment {segment}",
                    token=token,
                    data={"segment_index": str(segment)},
                    files={"media": ("chunk", chunk, "application/octet-stream")},
                )
                offset, segment = offset + len(chunk), segment + 1
                resume.checkpoint(bytes_sent=offset, segments_sent=segment)
                on_progress(offset / total)
        finalized = self._send("POST", f"/2/media/upload/{media_id}/finalize", "X upload finalize", token=token)
        resume.checkpoint(finalized=True, processing=_processing_info(finalized.json()))
        return media_id

    def _can_continue_upload(self, resume: ResumeState, total: int) -> bool:
        """Whether ``resume`` holds an upload session of this file that X still keeps."""
        if not resume.get("media_id"):
            return False
        same_file = resume.get("total_bytes") == total
        # X forgets a media id after expires_after_secs (finalized or not); a minute's margin to use it.
        alive = float(resume.get("media_expires_at", 0)) > time.time() + 60
        return same_file and alive

    def _open_upload(self, total: int, token: str, resume: ResumeState) -> None:
        body = {"media_type": "video/mp4", "total_bytes": total, "media_category": "amplify_video"}
        data = self._send("POST", "/2/media/upload/initialize", "X upload initialize", token=token, json=body)
        session = data.json()["data"]
        resume.checkpoint(
            media_id=str(session["id"]),
            media_key=session.get("media_key", ""),
            media_expires_at=time.time() + float(session.get("expires_after_secs") or 3600),
            total_bytes=total,
            bytes_sent=0,
            segments_sent=0,
            finalized=False,
            processing=None,
            media_ready=False,
        )

    def _wait_until_processed(self, media_id: str, token: str, resume: ResumeState) -> None:
        """Poll STATUS (``check_after_secs`` apart) until X has transcoded the video; failed media is refused."""
        if resume.get("media_ready"):
            return
        info = resume.get("processing")
        # Counted in the seconds slept, not by the clock, so an injected sleep keeps the timeout meaningful.
        waited = 0.0
        while True:
            state = (info or {}).get("state", "succeeded")  # no processing_info: the media is ready as is
            if state == "succeeded":
                resume.checkpoint(media_ready=True, processing=None)
                return
            if state == "failed":
                reason = (info.get("error") or {}).get("message") or "unknown reason"
                raise PlatformRejectedError(f"X could not process the video: {str(reason)[:200]}")
            delay = float(info.get("check_after_secs") or self._poll_interval_s)
            if waited + delay > self._poll_timeout_s:
                raise PlatformUnavailableError(
                    f"X still processing the video after {waited:.0f} s", retry_after_s=delay
                )
            self._sleep(delay)
            waited += delay
            status = self._send(
                "GET",
                "/2/media/upload",
                "X upload status",
                token=token,
                params={"command": "STATUS", "media_id": media_id},
            )
            info = _processing_info(status.json())

    def _create_post(self, text: str, media_id: str, token: str, resume: ResumeState) -> str:
        """POST the post; after a 5xx or a dropped connection X may have created it, so look before posting again."""
        body = {"text": text, "media": {"media_ids": [media_id]}}
        for attempt in range(self._attempts):
            try:
                response = send_with_retries(
                    lambda: self._request("POST", "/2/tweets", token=token, json=body),
                    "X create post",
                    attempts=1,
                )
                return str(response.json()["data"]["id"])
            except PublishError as error:
                if not error.retryable or attempt == self._attempts - 1:
                    raise
                self._sleep(_backoff(attempt, error))
                if not isinstance(error, RateLimitedError):  # a 429 never created anything
                    found = self._find_post_with_media(resume, token)
                    if found:
                        return found
        raise AssertionError("unreachable")

    def _find_post_with_media(self, resume: ResumeState, token: str) -> str | None:
        """The id of our post carrying this upload's media, among the account's posts since the post was sent."""
        media_id, media_key = resume.get("media_id"), resume.get("media_key")
        if not media_id:
            return None
        sent_at = datetime.fromisoformat(resume.get("post_sent_at"))
        user_id = self._send("GET", "/2/users/me", "X account lookup", token=token).json()["data"]["id"]
        params = {
            "max_results": 100,
            "start_time": (sent_at - RECOVERY_LOOKBACK).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expansions": "attachments.media_keys",
            "tweet.fields": "attachments,created_at",
        }
        timeline = self._send("GET", f"/2/users/{user_id}/tweets", "X timeline lookup", token=token, params=params)
        for post in timeline.json().get("data") or []:
            keys = (post.get("attachments") or {}).get("media_keys") or []
            if any(key == media_key or key.endswith(f"_{media_id}") for key in keys):
                return str(post["id"])
        return None

    # --- HTTP ------------------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, token: str, **kwargs: Any) -> httpx.Response:
        # The token travels only in the Authorization header, never in a URL that httpx or a proxy might log.
        headers = {"Authorization": f"Bearer {token}"}
        return self._http.request(method, f"{self._api_url}{path}", headers=headers, **kwargs)

    def _send(self, method: str, path: str, what: str, *, token: str, **kwargs: Any) -> httpx.Response:
        return send_with_retries(
            lambda: self._request(method, path, token=token, **kwargs),
            what,
            attempts=self._attempts,
            sleep=self._sleep,
        )


def post_url(post_id: str) -> str:
    """The public address of an X post."""
    return f"https://x.com/i/web/status/{post_id}"


def _published(post_id: str) -> PostResult:
    return PostResult(post_id=post_id, url=post_url(post_id), state="published")


def _processing_info(body: dict[str, Any]) -> dict[str, Any] | None:
    return (body.get("data") or {}).get("processing_info")


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _grant_from(body: dict[str, Any]) -> TokenGrant:
    return TokenGrant(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token"),
        expires_at=expires_at(body.get("expires_in")),
        scope=body.get("scope", ""),
    )


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _backoff(attempt: int, error: PublishError) -> float:
    """Full-jitter exponential backoff, never shorter than what the platform asked for."""
    return max(random.uniform(0, min(MAX_BACKOFF_S, 2.0**attempt)), error.retry_after_s or 0.0)
