"""YouTube Shorts through the YouTube Data API v3: Google OAuth 2 (offline access, PKCE), the channel of the grant,
the resumable upload protocol (a session URL, 256 KiB-aligned chunks, 308 Resume Incomplete) and the video's
processing status. A post's watch time comes from the YouTube Analytics API (``reports.query``), which has it and the
Data API does not.

A YouTube "post" is the video itself: it exists once the last chunk is accepted, so exactly-once publishing rests on
the upload session (its URL is checkpointed and queried on every resumed attempt, and a completed session answers
with the video it created) and on the video id, checkpointed before anything else is sent. The Data API takes no
idempotency key, so ``PostRequest.idempotency_key`` has nowhere to go.
"""

from __future__ import annotations

import math
import mimetypes
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from clipped.progress import ProgressCallback
from clipped.publish.http import error_for, send_with_retries
from clipped.publish.metadata import LIMITS
from clipped.publish.models import (
    NeedsReconnectError,
    Platform,
    PlatformRejectedError,
    PlatformUnavailableError,
    PostMetrics,
    PostRequest,
    PostResult,
    PostState,
    PublishError,
    RateLimitedError,
    ResumeState,
    TokenGrant,
)
from clipped.publish.oauth import expires_at

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
API_BASE_URL = "https://www.googleapis.com"
ANALYTICS_BASE_URL = "https://youtubeanalytics.googleapis.com"

UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"
READONLY_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"
# Watch time of the channel's videos (YouTube Analytics); reports.query also wants READONLY_SCOPE.
ANALYTICS_SCOPE = "https://www.googleapis.com/auth/yt-analytics.readonly"
# reports.query needs a date range: a lifetime value runs from before any upload to today (YouTube's days are
# Pacific Time). Analytics figures arrive a day or two after the views; until then a video has no row.
ANALYTICS_SINCE = "2005-04-01"
WATCH_METRICS = ("averageViewDuration", "averageViewPercentage")

# Every chunk but the last must be a multiple of this (the upload server refuses smaller ones).
CHUNK_ALIGNMENT = 256 * 1024
DEFAULT_CHUNK_SIZE = 32 * CHUNK_ALIGNMENT  # 8 MiB: few requests, little to resend after a failure
# "People & Blogs", YouTube's default category for uploads.
DEFAULT_CATEGORY_ID = "22"

# Quota answers: retrying the same day cannot succeed (daily project quota, or the channel's daily upload cap).
_DAILY_QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"}
# Short-term rate limits Google sends as 403 instead of 429.
_RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
# Daily quotas reset at midnight Pacific Time.
_QUOTA_RESET_ZONE = "America/Los_Angeles"
# How many 308 answers in a row may confirm no new bytes before the upload is called stuck.
_MAX_STALLED_CHUNKS = 3

_RANGE = re.compile(r"bytes=(\d+)-(\d+)")
# What an upload session URL answers and the upload handles itself: done (200/201), go on (308), expired (404/410).
_SESSION_ANSWERS = (200, 201, 308, 404, 410)


class YouTubeAdapter:
    """Publishes Shorts to a YouTube channel with the Data API v3 (see the module docstring for the protocol)."""

    platform: Platform = "youtube"
    limits = LIMITS["youtube"]
    uses_pkce = True

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        authorize_url: str = AUTHORIZE_URL,
        token_url: str = TOKEN_URL,
        api_base_url: str = API_BASE_URL,
        analytics_base_url: str = ANALYTICS_BASE_URL,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        poll_interval_s: float = 10.0,
        poll_timeout_s: float = 300.0,
        category_id: str = DEFAULT_CATEGORY_ID,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_ALIGNMENT:
            raise ValueError(f"chunk_size must be a positive multiple of {CHUNK_ALIGNMENT} bytes, not {chunk_size}")
        self._client_id = client_id
        self._client_secret = client_secret
        self._authorize_url = authorize_url
        self._token_url = token_url
        self._api = api_base_url.rstrip("/")
        self._analytics = analytics_base_url.rstrip("/")
        self._chunk_size = chunk_size
        self._poll_interval_s = poll_interval_s
        self._poll_timeout_s = poll_timeout_s
        self._category_id = category_id
        self._client = client or httpx.Client(timeout=httpx.Timeout(120.0, connect=10.0))
        self._sleep = sleep

    # --- connecting an account -------------------------------------------------------------------------------------

    def authorization_url(self, *, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        """Google's consent page for upload, read-only channel access and the videos' analytics (watch time);
        ``access_type=offline`` with ``prompt=consent`` so that Google returns a refresh token on every connection,
        not only the first."""
        params = {
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": f"{UPLOAD_SCOPE} {READONLY_SCOPE} {ANALYTICS_SCOPE}",
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
            "state": state,
        }
        if code_challenge:
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self._authorize_url}?{urlencode(params)}"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        """Trade the code for tokens, check the upload permission was granted (Google lets people untick scopes),
        and name the grant after the channel it uploads to."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        body = self._token_request(form, "YouTube code exchange")
        scope = str(body.get("scope") or "")
        if scope and UPLOAD_SCOPE not in scope.split():
            raise NeedsReconnectError("YouTube: the upload permission was not granted; connect again and allow it")
        grant = _grant_from(body, refresh_token=None)
        channel_id, channel_title = self._my_channel(grant.access_token)
        return grant.model_copy(update={"account_id": channel_id, "display_name": channel_title})

    def refresh(self, refresh_token: str) -> TokenGrant:
        """A new access token. Google does not rotate refresh tokens, so the one given is kept (a rotated one in
        the answer would win). ``invalid_grant`` (revoked, expired, password changed) means: connect again."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        return _grant_from(self._token_request(form, "YouTube token refresh"), refresh_token=refresh_token)

    def _token_request(self, form: dict[str, str], what: str) -> dict[str, Any]:
        response = send_with_retries(
            lambda: self._client.post(self._token_url, data=form, headers={"Accept": "application/json"}),
            what,
            sleep=self._sleep,
            ok=lambda r: r.is_success or r.status_code in (400, 401),
        )
        body = _json_object(response)
        if response.is_success and body.get("access_token"):
            return body
        # The message keeps the OAuth error code only (never the form, which holds the code or refresh token).
        error = str(body.get("error") or "")
        if response.status_code == 401 or error == "invalid_grant":
            raise NeedsReconnectError(f"{what}: HTTP {response.status_code} ({error or 'unauthorized'})")
        if response.is_success:
            raise PlatformRejectedError(f"{what}: the answer carried no access token")
        raise error_for(response, what)

    def _my_channel(self, access_token: str) -> tuple[str, str]:
        response = self._api_call(
            lambda: self._client.get(
                f"{self._api}/youtube/v3/channels",
                params={"part": "snippet", "mine": "true"},
                headers=_bearer(access_token),
            ),
            "YouTube channel lookup",
        )
        items = _json_object(response).get("items") or []
        if not items:
            raise PlatformRejectedError("YouTube channel lookup: this Google account has no YouTube channel")
        channel = items[0]
        return str(channel["id"]), str(channel.get("snippet", {}).get("title") or "")

    # --- publishing ------------------------------------------------------------------------------------------------

    def publish(
        self, request: PostRequest, access_token: str, resume: ResumeState, on_progress: ProgressCallback
    ) -> PostResult:
        """Upload ``request`` with the resumable protocol and wait (up to the poll timeout) for YouTube to process
        it. A recorded video id is returned as is; a recorded session is asked what it holds and continued."""
        video_id = resume.get("video_id")
        if not video_id:
            upload = _ResumableUpload(
                self._client,
                request.video_path,
                access_token,
                resume,
                on_progress,
                open_session=lambda total, media_type: self._open_upload_session(
                    request, access_token, total, media_type
                ),
                chunk_size=self._chunk_size,
                sleep=self._sleep,
            )
            video_id = upload.run()
        on_progress(1.0)
        return self._wait_until_settled(video_id, access_token)

    def fetch_status(self, post_id: str, access_token: str) -> PostResult:
        """The video's upload/processing status: processed → published, uploaded → processing, failed, rejected or
        deleted (or gone from the list) → failed with YouTube's reason."""
        response = self._api_call(
            lambda: self._client.get(
                f"{self._api}/youtube/v3/videos",
                params={"part": "status,processingDetails", "id": post_id},
                headers=_bearer(access_token),
            ),
            "YouTube video status",
        )
        items = _json_object(response).get("items") or []
        if not items:
            return PostResult(post_id=post_id, url=shorts_url(post_id), state="failed", detail="video not found")
        status = items[0].get("status") or {}
        upload_status = str(status.get("uploadStatus") or "")
        state: PostState
        if upload_status == "processed":
            state, detail = "published", ""
        elif upload_status in ("uploaded", ""):
            processing = items[0].get("processingDetails") or {}
            state, detail = "processing", str(processing.get("processingStatus") or "")
        else:
            state = "failed"
            reason = status.get("failureReason") or status.get("rejectionReason") or ""
            detail = f"{upload_status}: {reason}" if reason else upload_status
        return PostResult(post_id=post_id, url=shorts_url(post_id), state=state, detail=detail)

    def fetch_metrics(self, post_id: str, access_token: str) -> PostMetrics:
        """``videos.list`` with ``part=statistics`` (1 quota unit): views, likes and comments; then the average view
        duration and share watched from YouTube Analytics (:meth:`_watch_time`). The Data API has no share or save
        count, and omits a count the owner hid (likes) or switched off (comments): those stay None. A video gone
        from the list (deleted, rejected) has no counts at all."""
        response = self._api_call(
            lambda: self._client.get(
                f"{self._api}/youtube/v3/videos",
                params={"part": "statistics", "id": post_id},
                headers=_bearer(access_token),
            ),
            "YouTube video statistics",
        )
        items = _json_object(response).get("items") or []
        if not items:
            return PostMetrics()
        statistics = items[0].get("statistics") or {}
        avg_view_duration_s, retention = self._watch_time(post_id, access_token)
        return PostMetrics(
            views=_count(statistics.get("viewCount")),
            likes=_count(statistics.get("likeCount")),
            comments=_count(statistics.get("commentCount")),
            avg_view_duration_s=avg_view_duration_s,
            retention=retention,
        )

    def _watch_time(self, video_id: str, access_token: str) -> tuple[float | None, float | None]:
        """(average view duration in seconds, average share of the video watched) of the video's lifetime, from
        ``reports.query`` of the YouTube Analytics API. Both None when YouTube has no figure yet (no row, or zeros:
        an average over no views), when the grant lacks ``yt-analytics.readonly`` (an account connected before
        Clipped asked for it; reconnecting grants it) or when the Analytics API refuses or is unavailable: watch
        time is secondary, so the counts are kept and it stays NULL. A Short that loops is watched past 1.0."""
        params = {
            "ids": "channel==MINE",
            "startDate": ANALYTICS_SINCE,
            "endDate": _pacific_today(),
            "metrics": ",".join(WATCH_METRICS),
            "filters": f"video=={video_id}",
        }
        try:
            response = self._api_call(
                lambda: self._client.get(f"{self._analytics}/v2/reports", params=params, headers=_bearer(access_token)),
                "YouTube Analytics report",
            )
        except (PlatformRejectedError, PlatformUnavailableError, RateLimitedError):
            return None, None
        body = _json_object(response)
        names = [str(column.get("name")) for column in body.get("columnHeaders") or [] if isinstance(column, dict)]
        rows = body.get("rows") or []
        if not rows or not isinstance(rows[0], list) or len(rows[0]) != len(names):
            return None, None
        values = dict(zip(names, rows[0], strict=True))
        duration, percentage = _number(values.get("averageViewDuration")), _number(values.get("averageViewPercentage"))
        if not duration and not percentage:
            return None, None
        return duration, percentage / 100 if percentage is not None else None

    def _wait_until_settled(self, video_id: str, access_token: str) -> PostResult:
        # A fixed number of polls rather than a wall-clock deadline, so a test's no-op sleep cannot spin.
        polls = max(1, math.ceil(self._poll_timeout_s / self._poll_interval_s)) if self._poll_interval_s > 0 else 1
        result = PostResult(post_id=video_id, url=shorts_url(video_id))
        for poll in range(polls):
            if poll:
                self._sleep(self._poll_interval_s)
            try:
                result = self.fetch_status(video_id, access_token)
            except PublishError as exc:
                # The video exists; a status hiccup must not turn a published post into a failed attempt.
                if not exc.retryable:
                    raise
                return PostResult(post_id=video_id, url=shorts_url(video_id), detail=str(exc))
            if result.state != "processing":
                return result
        return result

    def _api_call(self, send: Callable[[], httpx.Response], what: str) -> httpx.Response:
        """``send_with_retries`` with Google's 403/400 quota answers taken out of the rejection path: they are rate
        limits (retry at the daily reset, or shortly for the per-user rate), never retried in place."""
        response = send_with_retries(
            send,
            what,
            sleep=self._sleep,
            ok=lambda r: r.is_success or _quota_reason(r) is not None,
        )
        reason = _quota_reason(response)
        if reason in _DAILY_QUOTA_REASONS:
            raise RateLimitedError(
                f"{what}: HTTP {response.status_code} ({reason})", retry_after_s=_until_quota_reset()
            )
        if reason in _RATE_LIMIT_REASONS:
            raise RateLimitedError(f"{what}: HTTP {response.status_code} ({reason})", retry_after_s=60.0)
        return response

    def _open_upload_session(self, request: PostRequest, access_token: str, total: int, media_type: str) -> str:
        """Start a resumable ``videos.insert`` with the post's metadata; the session URL from ``Location``."""
        metadata = {
            "snippet": {"title": request.title, "description": request.caption, "categoryId": self._category_id},
            # Shorts made by Clipped are not "made for kids"; YouTube requires the declaration on every upload.
            "status": {"privacyStatus": request.privacy, "selfDeclaredMadeForKids": False},
        }
        response = self._api_call(
            lambda: self._client.post(
                f"{self._api}/upload/youtube/v3/videos",
                params={"uploadType": "resumable", "part": "snippet,status"},
                json=metadata,
                headers={
                    **_bearer(access_token),
                    "X-Upload-Content-Length": str(total),
                    "X-Upload-Content-Type": media_type,
                },
            ),
            "YouTube upload session",
        )
        session_url = response.headers.get("location")
        if not session_url:
            raise PlatformUnavailableError("YouTube upload session: the answer had no Location header")
        return session_url


class _ResumableUpload:
    """One attempt at the resumable upload of a file, continuing the session ``resume`` holds.

    Checkpoints: ``session_url`` + ``upload_bytes`` when the session opens, ``upload_offset`` after every chunk the
    server confirms, ``video_id`` when the last chunk is accepted (each before the next request goes out).
    """

    def __init__(
        self,
        client: httpx.Client,
        video_path: Path,
        access_token: str,
        resume: ResumeState,
        on_progress: ProgressCallback,
        *,
        open_session: Callable[[int, str], str],
        chunk_size: int,
        sleep: Callable[[float], None],
    ) -> None:
        self._client = client
        self._video_path = video_path
        self._token = access_token
        self._resume = resume
        self._on_progress = on_progress
        self._open_session_url = open_session
        self._chunk_size = chunk_size
        self._sleep = sleep
        self._total = video_path.stat().st_size
        guessed = mimetypes.guess_type(video_path.name)[0] or ""
        self._content_type = guessed if guessed.startswith("video/") else "video/*"

    def run(self) -> str:
        """Upload what the server does not yet hold; return the id of the video the upload created."""
        if self._total == 0:
            raise PlatformRejectedError("YouTube upload: the video file is empty")
        self._on_progress(0.0)
        session_url: str | None = self._resume.get("session_url")
        offset = 0
        # A session recorded for a file of another size belongs to another render: start over.
        if session_url and self._resume.get("upload_bytes") == self._total:
            answer = self._query_session(session_url)
            if answer.status_code in (200, 201):
                return self._record_video(answer)  # it had completed: its video is the post
            if answer.status_code == 308:
                offset = _confirmed_offset(answer)
                if offset != self._resume.get("upload_offset"):
                    self._resume.checkpoint(upload_offset=offset)
                self._on_progress(offset / self._total)
            else:
                session_url = None  # expired: no video was created from it
        else:
            session_url = None
        reopened = False
        with self._video_path.open("rb") as file:
            while True:
                if session_url is None:
                    session_url, offset = self._open_session(), 0
                video_id = self._send_chunks(file, session_url, offset)
                if video_id is not None:
                    return video_id
                # The session expired (404/410) before the last chunk: nothing was created, so a new one is safe.
                if reopened:
                    raise PlatformUnavailableError("YouTube upload: the new upload session expired as well")
                reopened, session_url = True, None

    def _query_session(self, session_url: str) -> httpx.Response:
        """Ask the session what it holds: 308 with the confirmed ``Range``, 200/201 with the video once complete,
        404/410 once expired."""
        return send_with_retries(
            lambda: self._client.put(session_url, headers=self._status_query_headers()),
            "YouTube upload status",
            sleep=self._sleep,
            ok=lambda r: r.status_code in _SESSION_ANSWERS,
        )

    def _open_session(self) -> str:
        session_url = self._open_session_url(self._total, self._content_type)
        self._resume.checkpoint(session_url=session_url, upload_bytes=self._total, upload_offset=0)
        return session_url

    def _send_chunks(self, file: BinaryIO, session_url: str, offset: int) -> str | None:
        """Send chunks from ``offset`` until the video exists (its id) or the session has expired (None)."""
        stalled = 0
        while True:
            response, sent_from = self._send_one_chunk(file, session_url, offset)
            if response.status_code in (404, 410):
                return None
            if response.status_code in (200, 201):
                return self._record_video(response)
            confirmed = _confirmed_offset(response)
            stalled = stalled + 1 if confirmed <= sent_from else 0
            if stalled >= _MAX_STALLED_CHUNKS:
                raise PlatformUnavailableError("YouTube upload: the server stopped confirming new bytes")
            offset = confirmed
            self._resume.checkpoint(upload_offset=offset)
            self._on_progress(offset / self._total)

    def _send_one_chunk(self, file: BinaryIO, session_url: str, offset: int) -> tuple[httpx.Response, int]:
        """PUT the chunk at ``offset``; before each retry ask the session what it holds, so a retry never resends
        confirmed bytes. Returns the final answer and the offset the last chunk was sent from."""
        start, retrying = offset, False

        def send() -> httpx.Response:
            nonlocal start, retrying
            if retrying:
                answer = self._client.put(session_url, headers=self._status_query_headers())
                if answer.status_code != 308:
                    return answer  # complete, expired, or an error that send_with_retries judges
                start = _confirmed_offset(answer)
            retrying = True
            file.seek(start)
            data = file.read(self._chunk_size)
            return self._client.put(
                session_url,
                content=data,
                headers={
                    **_bearer(self._token),
                    "Content-Type": self._content_type,
                    "Content-Range": f"bytes {start}-{start + len(data) - 1}/{self._total}",
                },
            )

        response = send_with_retries(
            send, "YouTube upload chunk", sleep=self._sleep, ok=lambda r: r.status_code in _SESSION_ANSWERS
        )
        return response, start

    def _status_query_headers(self) -> dict[str, str]:
        return {**_bearer(self._token), "Content-Range": f"bytes */{self._total}", "Content-Length": "0"}

    def _record_video(self, response: httpx.Response) -> str:
        video_id = str(_json_object(response).get("id") or "")
        if not video_id:
            raise PlatformUnavailableError("YouTube upload: the completed upload answered without a video id")
        self._resume.checkpoint(video_id=video_id, upload_offset=self._total)
        return video_id


def shorts_url(video_id: str) -> str:
    """Where a Short is watched."""
    return f"https://youtube.com/shorts/{video_id}"


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def _grant_from(body: dict[str, Any], *, refresh_token: str | None) -> TokenGrant:
    return TokenGrant(
        access_token=str(body["access_token"]),
        refresh_token=str(body.get("refresh_token") or refresh_token or "") or None,
        expires_at=expires_at(body.get("expires_in")),
        scope=str(body.get("scope") or ""),
    )


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _count(value: object) -> int | None:
    """A Data API count (sent as a decimal string), or None when it is absent or not a number."""
    try:
        return int(str(value))
    except ValueError:
        return None


def _number(value: object) -> float | None:
    """An Analytics report value (a JSON number), or None when it is absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _confirmed_offset(response: httpx.Response) -> int:
    """The next byte to send after a 308: one past the end of its ``Range: bytes=0-N`` (0 when there is none)."""
    match = _RANGE.fullmatch(response.headers.get("range", "").strip())
    return int(match.group(2)) + 1 if match else 0


def _quota_reason(response: httpx.Response) -> str | None:
    """The Google error reason of a 400/403 quota or rate-limit answer, else None."""
    if response.status_code not in (400, 403):
        return None
    error = _json_object(response).get("error")
    if not isinstance(error, dict):
        return None
    for item in error.get("errors") or []:
        reason = item.get("reason") if isinstance(item, dict) else None
        if reason in _DAILY_QUOTA_REASONS or reason in _RATE_LIMIT_REASONS:
            return str(reason)
    return None


def _pacific_zone() -> ZoneInfo | None:
    """YouTube's day zone (Pacific Time: quotas reset and reports count there); None without time zone data."""
    try:
        return ZoneInfo(_QUOTA_RESET_ZONE)
    except ZoneInfoNotFoundError:
        return None


def _pacific_today() -> str:
    """Today in YouTube's reporting days (Pacific Time; UTC without time zone data), as YYYY-MM-DD."""
    return datetime.now(_pacific_zone() or UTC).date().isoformat()


def _until_quota_reset(now: datetime | None = None) -> float:
    """Seconds until the next midnight Pacific Time, when YouTube's daily quotas reset."""
    zone = _pacific_zone()
    if zone is None:
        return 24 * 3600.0
    local = (now or datetime.now(UTC)).astimezone(zone)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    # In UTC, because subtracting two times of one zone ignores a DST change between them.
    return max(60.0, (midnight.astimezone(UTC) - local.astimezone(UTC)).total_seconds())
