"""Posting a clip to Instagram as a Reel through the Instagram API with Instagram Login (graph.instagram.com).

Connecting: Instagram's consent page gives an authorization code, api.instagram.com trades it for a one-hour token,
and graph.instagram.com trades that for a 60-day long-lived token. There is no refresh token: the long-lived token
refreshes itself (once it is at least 24 hours old and until it expires), so the grant stores it as both.

Posting: a REELS container with ``upload_type=resumable`` opens an upload session on rupload.facebook.com; the file
goes there in chunks (``offset`` and ``file_size`` headers), the container is polled until ``FINISHED``, the
account's 24-hour publishing limit is checked, and ``media_publish`` turns the container into the post.

Exactly once: Instagram takes no idempotency key, but a container can be published only once. The adapter
checkpoints the account id, the container and its upload URL, every chunk Instagram acknowledges and the media id.
A resumed attempt returns a recorded media id without a request, reuses a recorded container (continuing its upload
from the offset Instagram reports, or the recorded one where it reports none), and a container found ``PUBLISHED``
without a recorded media id (the answer to ``media_publish`` was lost) is matched to the account's newest post with
the same caption instead of being posted again.

Secrets: Graph calls send the token as ``Authorization: Bearer``, uploads as ``Authorization: OAuth``. The
long-lived exchange and the refresh take the token (the exchange also the app secret) in the query string by
protocol; httpx's request log lines are redacted for them, and error messages name the call and status, never a URL.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from clipped.progress import ProgressCallback
from clipped.publish.http import error_for, retry_after_seconds, send_with_retries
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

INSTAGRAM_AUTHORIZE_URL = "https://www.instagram.com/oauth/authorize"
INSTAGRAM_OAUTH_URL = "https://api.instagram.com"
INSTAGRAM_GRAPH_URL = "https://graph.instagram.com"
INSTAGRAM_UPLOAD_URL = "https://rupload.facebook.com"
INSTAGRAM_API_VERSION = "v21.0"
# instagram_business_manage_insights: a media's insights (views, likes, shares, saves, watch time).
INSTAGRAM_SCOPES = (
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_insights",
)
# Reel insights, lifetime values: ``views`` (``plays`` is deprecated), ``saved`` (saves), average watch time in ms.
INSIGHT_METRICS = ("views", "likes", "comments", "shares", "saved", "ig_reels_avg_watch_time")
DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
# How many recent posts are searched for one whose media_publish answer was lost.
RECOVERY_SEARCH_LIMIT = 25

# Graph API error codes (Graph API error handling; Instagram Platform error codes): 190 an invalid, expired or
# revoked token; 4, 17, 32 and 613 call-rate limits; 9 with subcode 2207042 the 24-hour publishing limit; 1 and 2
# transient server trouble; subcode 33 an object that does not exist (or is not ours).
_INVALID_TOKEN = 190
_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
_PUBLISHING_LIMIT = (9, 2207042)
_TRANSIENT_CODES = frozenset({1, 2})
_NO_SUCH_OBJECT = 33

_SECRET_QUERY = re.compile(r"\b(access_token|client_secret)=[^&\s\"'#]*")


class StillProcessingError(PlatformUnavailableError):
    """Instagram has the whole video but had not finished processing it when we stopped polling; a new attempt
    continues polling the same container."""


class MediaNotFoundError(PlatformRejectedError):
    """The media id does not exist (deleted) or is not visible to this token."""


@dataclass(frozen=True)
class _PlatformError:
    """The error an Instagram host put in a response body, in whichever of its three shapes."""

    code: int | None
    subcode: int | None
    message: str
    transient: bool


class InstagramAdapter:
    """The :class:`~clipped.publish.adapter.PlatformAdapter` for Instagram Reels (Instagram API with Instagram
    Login)."""

    platform: Platform = "instagram"
    limits: PlatformLimits = LIMITS["instagram"]
    uses_pkce: bool = False

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        authorize_url: str = INSTAGRAM_AUTHORIZE_URL,
        oauth_url: str = INSTAGRAM_OAUTH_URL,
        graph_url: str = INSTAGRAM_GRAPH_URL,
        upload_url: str = INSTAGRAM_UPLOAD_URL,
        api_version: str = INSTAGRAM_API_VERSION,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        poll_interval_s: float = 5.0,
        poll_timeout_s: float = 900.0,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if chunk_bytes <= 0:
            raise ValueError(f"chunk_bytes must be positive, not {chunk_bytes}")
        self._client_id = client_id
        self._client_secret = client_secret
        self._authorize_url = authorize_url
        self._oauth_url = oauth_url.rstrip("/")
        self._graph_url = graph_url.rstrip("/")
        self._upload_url = upload_url.rstrip("/")
        self._api_version = api_version
        self._chunk_bytes = chunk_bytes
        self._poll_interval_s = poll_interval_s
        self._poll_timeout_s = poll_timeout_s
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=httpx.Timeout(30.0, write=120.0))
        self._sleep = sleep
        redact_token_queries_in_httpx_log()

    def close(self) -> None:
        """Close the HTTP client if this adapter opened it."""
        if self._owns_http:
            self._http.close()

    # --- connecting an account -------------------------------------------------------------------------------

    def authorization_url(self, *, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        """Instagram's consent page for our scopes; ``code_challenge`` is unused (Instagram Login has no PKCE)."""
        query = {
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ",".join(INSTAGRAM_SCOPES),
            "state": state,
        }
        return f"{self._authorize_url}?{urlencode(query)}"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        """Trade the authorization code for the one-hour token, that for the 60-day token, and name the account."""
        what = "instagram code exchange"
        form = {
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            # Instagram appends "#_" to the redirect; it is not part of the code.
            "code": code.removesuffix("#_"),
        }
        body = _json(
            self._send(lambda: self._http.post(f"{self._oauth_url}/oauth/access_token", data=form), what), what
        )
        # Business Login wraps the answer in "data"; the older flat shape is read as well.
        data = body.get("data")
        short = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else body
        short_token = str(short.get("access_token") or "")
        if not short_token:
            raise PlatformUnavailableError(f"{what}: no access token in the answer")
        permissions = short.get("permissions")
        scope = ",".join(permissions) if isinstance(permissions, list) else str(permissions or "")
        what = "instagram long-lived token"
        params = {"grant_type": "ig_exchange_token", "client_secret": self._client_secret, "access_token": short_token}
        response = self._send(lambda: self._http.get(f"{self._graph_url}/access_token", params=params), what)
        return self._grant(_json(response, what), scope=scope or ",".join(INSTAGRAM_SCOPES))

    def refresh(self, refresh_token: str) -> TokenGrant:
        """A new 60-day token for ``refresh_token`` (the current long-lived access token, which Instagram refreshes
        once it is 24 hours old and until it expires); an expired or revoked token raises
        :class:`NeedsReconnectError`."""
        what = "instagram token refresh"
        params = {"grant_type": "ig_refresh_token", "access_token": refresh_token}
        response = self._send(lambda: self._http.get(f"{self._graph_url}/refresh_access_token", params=params), what)
        return self._grant(_json(response, what), scope=",".join(INSTAGRAM_SCOPES))

    def _grant(self, body: dict[str, Any], *, scope: str) -> TokenGrant:
        token = str(body.get("access_token") or "")
        if not token:
            raise PlatformUnavailableError("instagram token: no access token in the answer")
        profile = self._profile(token)
        expiry = expires_at(body.get("expires_in"))
        return TokenGrant(
            access_token=token,
            # The long-lived token is what refresh takes; it can be refreshed until it expires itself.
            refresh_token=token,
            expires_at=expiry,
            refresh_expires_at=expiry,
            scope=scope,
            account_id=str(profile.get("user_id") or profile.get("id") or ""),
            display_name=str(profile.get("username") or ""),
        )

    def _profile(self, access_token: str) -> dict[str, Any]:
        return self._graph("GET", "me", access_token, "instagram profile", params={"fields": "user_id,username"})

    # --- posting ---------------------------------------------------------------------------------------------

    def publish(
        self, request: PostRequest, access_token: str, resume: ResumeState, on_progress: ProgressCallback
    ) -> PostResult:
        """Post ``request`` as a Reel, continuing from ``resume`` (see the module docstring for what is reused).

        Instagram takes no idempotency key; ``request.idempotency_key`` is kept out of the requests, and the one
        container per publication is what stops a second post.
        """
        media_id = resume.get("media_id")
        if media_id:
            return self._published(str(media_id), access_token)
        if request.privacy != "public":
            # A reel is as visible as its account; posting it would make a private clip public.
            raise PlatformRejectedError(f"instagram has no {request.privacy} reels")
        size = request.video_path.stat().st_size
        if size == 0:
            raise PlatformRejectedError("instagram upload: the video file is empty")
        if resume.get("file_size") not in (None, size):
            raise PlatformRejectedError("instagram upload: the video changed since its upload began")
        user_id = str(resume.get("ig_user_id") or "")
        if not user_id:
            user_id = str(self._profile(access_token).get("user_id") or "")
            if not user_id:
                raise PlatformUnavailableError("instagram profile: no user_id in the answer")
            resume.checkpoint(ig_user_id=user_id, file_size=size)

        offset = 0
        container_id = str(resume.get("container_id") or "")
        if container_id:
            # A PUBLISHED one (the answer to media_publish was lost) goes on to be adopted after the wait below.
            status = self._container_status(container_id, access_token)
            if status == "EXPIRED":
                container_id = ""  # never published, so a new container cannot make a second post
            elif status == "ERROR":
                raise self._processing_failed(container_id, access_token)
            else:
                offset = self._confirmed_offset(container_id, access_token, recorded=int(resume.get("offset") or 0))
        if not container_id:
            container_id = self._create_container(request, user_id, access_token, resume)

        upload_uri = str(resume.get("upload_uri") or self._default_upload_uri(container_id))
        self._upload(request.video_path, size, offset, upload_uri, access_token, resume, on_progress)
        if self._wait_until_processed(container_id, access_token, resume) == "PUBLISHED":
            return self._adopt_published(user_id, request.caption, access_token, resume)
        self._check_publishing_limit(user_id, access_token)
        media_id = self._publish_container(user_id, container_id, request.caption, access_token)
        resume.checkpoint(media_id=media_id)
        return self._published(media_id, access_token)

    def fetch_status(self, post_id: str, access_token: str) -> PostResult:
        """The post as Instagram shows it now: published with its permalink, or failed when it no longer exists."""
        try:
            return self._published(post_id, access_token)
        except MediaNotFoundError as exc:
            return PostResult(post_id=post_id, state="failed", detail=str(exc))

    def fetch_metrics(self, post_id: str, access_token: str) -> PostMetrics:
        """The reel's lifetime insights (``GET /{media-id}/insights``): views, likes, comments, shares, saves and
        the average watch time. A metric the answer leaves out stays None; a deleted post has none at all."""
        try:
            body = self._graph(
                "GET",
                f"{post_id}/insights",
                access_token,
                "instagram media insights",
                params={"metric": ",".join(INSIGHT_METRICS)},
            )
        except MediaNotFoundError:
            return PostMetrics()
        values: dict[str, float] = {}
        for insight in body.get("data") or []:
            value = _insight_value(insight)
            if value is not None:
                values[str(insight.get("name"))] = value
        watch_time_ms = values.get("ig_reels_avg_watch_time")
        return PostMetrics(
            views=_whole(values.get("views")),
            likes=_whole(values.get("likes")),
            comments=_whole(values.get("comments")),
            shares=_whole(values.get("shares")),
            saves=_whole(values.get("saved")),
            avg_view_duration_s=watch_time_ms / 1000 if watch_time_ms is not None else None,
        )

    def _create_container(self, request: PostRequest, user_id: str, access_token: str, resume: ResumeState) -> str:
        what = "instagram container"
        form = {"media_type": "REELS", "upload_type": "resumable", "caption": request.caption, "share_to_feed": "true"}
        # A retried create may leave an extra container behind; unpublished containers expire after 24 hours.
        body = self._graph("POST", f"{user_id}/media", access_token, what, data=form)
        container_id = str(body.get("id") or "")
        if not container_id:
            raise PlatformUnavailableError(f"{what}: no container id in the answer")
        upload_uri = str(body.get("uri") or self._default_upload_uri(container_id))
        resume.checkpoint(container_id=container_id, upload_uri=upload_uri, offset=0)
        return container_id

    def _default_upload_uri(self, container_id: str) -> str:
        return f"{self._upload_url}/ig-api-upload/{self._api_version}/{container_id}"

    def _confirmed_offset(self, container_id: str, access_token: str, *, recorded: int) -> int:
        """How many bytes Instagram holds for the container: its ``video_status`` upload phase where it reports one
        (it may hold a chunk whose acknowledgement we never recorded), else the offset recorded at the last
        acknowledged chunk."""
        try:
            body = self._graph(
                "GET", container_id, access_token, "instagram upload status", params={"fields": "video_status"}
            )
        except PlatformRejectedError:
            return recorded  # a Graph version without the field on containers
        phase = (body.get("video_status") or {}).get("uploading_phase") or {}
        transferred = phase.get("bytes_transferred")
        return int(transferred) if isinstance(transferred, int | str) and str(transferred).isdigit() else recorded

    def _upload(
        self,
        path: Path,
        size: int,
        offset: int,
        upload_uri: str,
        access_token: str,
        resume: ResumeState,
        on_progress: ProgressCallback,
    ) -> None:
        on_progress(offset / size)
        with path.open("rb") as video:
            while offset < size:
                video.seek(offset)
                chunk = video.read(self._chunk_bytes)
                self._send_chunk(upload_uri, access_token, chunk, offset, size)
                offset += len(chunk)
                resume.checkpoint(offset=offset)
                on_progress(offset / size)

    def _send_chunk(self, upload_uri: str, access_token: str, chunk: bytes, offset: int, size: int) -> None:
        what = "instagram upload"
        headers = {
            "Authorization": f"OAuth {access_token}",
            "offset": str(offset),
            "file_size": str(size),
            "Content-Type": "application/octet-stream",
        }
        body = _json(self._send(lambda: self._http.post(upload_uri, content=chunk, headers=headers), what), what)
        if body.get("success") is not True:
            raise PlatformUnavailableError(f"{what}: the chunk at {offset} was not acknowledged")

    def _wait_until_processed(self, container_id: str, access_token: str, resume: ResumeState) -> str:
        """Poll until the container is FINISHED (or already PUBLISHED); ERROR is final, EXPIRED starts over."""
        polls = max(1, math.ceil(self._poll_timeout_s / self._poll_interval_s)) if self._poll_interval_s > 0 else 1
        for poll in range(polls):
            status = self._container_status(container_id, access_token)
            if status in ("FINISHED", "PUBLISHED"):
                return status
            if status == "ERROR":
                raise self._processing_failed(container_id, access_token)
            if status == "EXPIRED":
                resume.checkpoint(container_id=None, upload_uri=None, offset=0)
                raise PlatformUnavailableError(
                    "instagram container expired before publishing; the next attempt uploads again"
                )
            if poll < polls - 1:
                self._sleep(self._poll_interval_s)
        raise StillProcessingError(
            f"instagram still processing the video after {self._poll_timeout_s:.0f} s",
            retry_after_s=self._poll_interval_s,
        )

    def _container_status(self, container_id: str, access_token: str) -> str:
        body = self._graph(
            "GET", container_id, access_token, "instagram container status", params={"fields": "status_code"}
        )
        return str(body.get("status_code") or "")

    def _processing_failed(self, container_id: str, access_token: str) -> PlatformRejectedError:
        body = self._graph(
            "GET", container_id, access_token, "instagram container status", params={"fields": "status_code,status"}
        )
        return PlatformRejectedError(f"instagram could not process the video: {str(body.get('status') or '')[:200]}")

    def _check_publishing_limit(self, user_id: str, access_token: str) -> None:
        body = self._graph(
            "GET",
            f"{user_id}/content_publishing_limit",
            access_token,
            "instagram publishing limit",
            params={"fields": "quota_usage,config"},
        )
        entries = body.get("data")
        entry = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}
        usage, total = entry.get("quota_usage"), (entry.get("config") or {}).get("quota_total")
        if isinstance(usage, int) and isinstance(total, int) and usage >= total:
            raise RateLimitedError(f"instagram publishing limit reached: {usage} of {total} posts in 24 hours")

    def _publish_container(self, user_id: str, container_id: str, caption: str, access_token: str) -> str:
        what = "instagram publish"
        try:
            body = self._graph(
                "POST", f"{user_id}/media_publish", access_token, what, data={"creation_id": container_id}
            )
        except (PlatformRejectedError, PlatformUnavailableError):
            # An earlier try may have posted although its answer was lost (a retry of it is then refused): the
            # container's own status says so.
            if self._container_status(container_id, access_token) == "PUBLISHED":
                return self._find_published(user_id, caption, access_token)
            raise
        media_id = str(body.get("id") or "")
        if not media_id:
            raise PlatformUnavailableError(f"{what}: no media id in the answer")
        return media_id

    def _adopt_published(self, user_id: str, caption: str, access_token: str, resume: ResumeState) -> PostResult:
        media_id = self._find_published(user_id, caption, access_token)
        resume.checkpoint(media_id=media_id)
        return self._published(media_id, access_token)

    def _find_published(self, user_id: str, caption: str, access_token: str) -> str:
        """The account's newest post with ``caption``: the one our container became (the post carries no link back
        to its container)."""
        body = self._graph(
            "GET",
            f"{user_id}/media",
            access_token,
            "instagram recent media",
            params={"fields": "id,caption,timestamp", "limit": str(RECOVERY_SEARCH_LIMIT)},
        )
        for media in body.get("data") or []:
            if isinstance(media, dict) and str(media.get("caption") or "").strip() == caption.strip():
                return str(media["id"])
        raise PlatformUnavailableError("instagram published the reel but does not list it yet")

    def _published(self, media_id: str, access_token: str) -> PostResult:
        body = self._graph("GET", media_id, access_token, "instagram media", params={"fields": "id,permalink"})
        return PostResult(post_id=media_id, url=str(body.get("permalink") or ""), state="published")

    # --- requests --------------------------------------------------------------------------------------------

    def _graph(
        self,
        method: str,
        path: str,
        access_token: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        url = f"{self._graph_url}/{self._api_version}/{path}"
        headers = {"Authorization": f"Bearer {access_token}"}
        response = self._send(lambda: self._http.request(method, url, params=params, data=data, headers=headers), what)
        return _json(response, what)

    def _send(self, send: Callable[[], httpx.Response], what: str) -> httpx.Response:
        """``send`` with retries on 429/5xx; a 4xx carrying a platform error is mapped by its Graph code (a rate
        limit, a dead token and a transient error all come as HTTP 400 on Graph)."""
        response = send_with_retries(send, what, sleep=self._sleep, ok=_is_answer)
        if response.is_success:
            return response
        raise _mapped_error(response, what)


def _is_answer(response: httpx.Response) -> bool:
    return response.is_success or (
        400 <= response.status_code < 500 and response.status_code != 429 and _platform_error(response) is not None
    )


def _platform_error(response: httpx.Response) -> _PlatformError | None:
    """The body's error in Graph's ``{"error": {...}}``, api.instagram.com's ``{"error_type", "error_message"}`` or
    the upload host's ``{"debug_info": {...}}`` shape."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and "code" in error:
        return _PlatformError(
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            message=str(error.get("message") or ""),
            transient=bool(error.get("is_transient")),
        )
    if "error_type" in body:
        return _PlatformError(code=None, subcode=None, message=str(body.get("error_message") or ""), transient=False)
    debug = body.get("debug_info")
    if isinstance(debug, dict):
        return _PlatformError(
            code=None, subcode=None, message=str(debug.get("message") or ""), transient=bool(debug.get("retriable"))
        )
    return None


def _mapped_error(response: httpx.Response, what: str) -> PublishError:
    base = error_for(response, what)
    error = _platform_error(response)
    if error is None:
        return base
    message = str(base)
    detail = error.message[:200]
    if detail and detail not in message:
        message = f"{message} ({detail})"
    if error.code == _INVALID_TOKEN:
        return NeedsReconnectError(message)
    if error.code in _RATE_LIMIT_CODES or (error.code, error.subcode) == _PUBLISHING_LIMIT:
        return RateLimitedError(message, retry_after_s=_rate_limit_wait(response))
    if error.code in _TRANSIENT_CODES or error.transient:
        return PlatformUnavailableError(message, retry_after_s=retry_after_seconds(response))
    if error.subcode == _NO_SUCH_OBJECT:
        return MediaNotFoundError(message)
    return type(base)(message, retry_after_s=base.retry_after_s)


def _rate_limit_wait(response: httpx.Response) -> float | None:
    """``Retry-After``, else the longest ``estimated_time_to_regain_access`` (minutes) of the usage headers."""
    seconds = retry_after_seconds(response)
    if seconds is not None:
        return seconds
    minutes = 0.0
    for header in ("x-business-use-case-usage", "x-app-usage"):
        try:
            usage = json.loads(response.headers.get(header) or "{}")
        except ValueError:
            continue
        entries = [usage] if isinstance(usage, dict) and "call_count" in usage else []
        if isinstance(usage, dict) and not entries:
            entries = [entry for value in usage.values() if isinstance(value, list) for entry in value]
        for entry in entries:
            wait = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
            if isinstance(wait, int | float):
                minutes = max(minutes, float(wait))
    return minutes * 60 if minutes > 0 else None


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise PlatformUnavailableError(f"{what}: HTTP {response.status_code} with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise PlatformUnavailableError(f"{what}: HTTP {response.status_code} with an unexpected body")
    return body


def _insight_value(insight: object) -> float | None:
    """The lifetime value of one insight: ``{"name", "period", "values": [{"value": n}], ...}`` (or a
    ``total_value``), or None when it carries none."""
    if not isinstance(insight, dict):
        return None
    entries = insight.get("values") or []
    value = entries[0].get("value") if entries and isinstance(entries[0], dict) else None
    if value is None and isinstance(insight.get("total_value"), dict):
        value = insight["total_value"].get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _whole(value: float | None) -> int | None:
    return int(value) if value is not None else None


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


class _RedactTokenQueries(logging.Filter):
    """httpx logs each request's URL at INFO; the token endpoints carry the token and app secret in the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_QUERY.sub(r"\1=[redacted]", str(arg)) if isinstance(arg, str | httpx.URL) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _SECRET_QUERY.sub(r"\1=[redacted]", record.msg)
        return True


def redact_token_queries_in_httpx_log() -> None:
    """Install (once) the filter that blanks ``access_token`` and ``client_secret`` values in httpx's log lines."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(existing, _RedactTokenQueries) for existing in logger.filters):
        logger.addFilter(_RedactTokenQueries())
