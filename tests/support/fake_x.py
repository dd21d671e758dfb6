"""A local stand-in for the X API v2 that speaks its documented protocol, for the X adapter's tests.

Served by uvicorn in a thread on 127.0.0.1 (a random free port). It implements OAuth 2.0 with PKCE (an authorize page
that consents at once, the token endpoint with code exchange and rotating refresh tokens), ``users/me``, the chunked
media upload v2 (initialize, append, finalize, STATUS), creating and reading posts (with ``public_metrics`` and the
owner's ``non_public_metrics``, the latter for posts of the last 30 days only) and a user's timeline. Requests
are checked the way X checks them and refused with X's error bodies; every answer carries X's rate-limit headers.

Fault knobs: :meth:`FakeX.rate_limit`, :meth:`FakeX.fail_appends`, :meth:`FakeX.lose_post_responses`,
:meth:`FakeX.revoke_all_grants`, :meth:`FakeX.expire_access_tokens`; engagement: :meth:`FakeX.add_post`,
:meth:`FakeX.set_metrics`. Records: ``posts``, ``appends``, ``calls``.
Tests get it as the ``fake_x`` fixture: ``from tests.support.fake_x import fake_x_fixture  # noqa: F401``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.ports import wait_until

CLIENT_ID = "fake-x-client"
CLIENT_SECRET = "fake-x-secret"
REDIRECT_URI = "http://127.0.0.1:9/oauth/x/callback"
USER_ID = "1722000000000000001"
USERNAME = "clipped_test"

ACCESS_TOKEN_TTL_S = 7200
AUTH_CODE_TTL_S = 30  # X: "the authorization code is valid for 30 seconds"
MAX_SEGMENT_BYTES = 5 * 1024 * 1024
MAX_SEGMENT_INDEX = 999
UPLOAD_TTL_S = 1295999  # expires_after_secs X reports for an amplify_video session
MEDIA_CATEGORIES = {"amplify_video", "tweet_gif", "tweet_image", "tweet_video", "dm_gif", "dm_image", "dm_video"}
VIDEO_TYPES = {"video/mp4", "video/webm", "video/mp2t", "video/quicktime"}
MEDIA_KEY_PREFIX = {"amplify_video": "13", "tweet_video": "7", "dm_video": "7"}
POST_TEXT_MAX = 280
RATE_WINDOW_S = 900
# Requests per 15-minute window, per user and endpoint (X's documented figures are of this order).
RATE_LIMITS = {
    "token": 1000,
    "users_me": 75,
    "initialize": 500,
    "append": 5000,
    "finalize": 500,
    "status": 1000,
    "create_post": 100,
    "get_post": 900,
    "user_posts": 900,
}
# tweet.fields a post lookup accepts (a subset of X's list), and how long the owner may read non_public_metrics.
TWEET_FIELDS = {"attachments", "author_id", "created_at", "edit_history_tweet_ids", "public_metrics",
                "non_public_metrics", "organic_metrics", "text"}  # fmt: skip
NON_PUBLIC_METRICS_DAYS = 30
PUBLIC_METRICS = ("retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count", "impression_count")
SCOPE_FOR = {
    "users_me": {"users.read"},
    "initialize": {"media.write"},
    "append": {"media.write"},
    "finalize": {"media.write"},
    "status": {"media.write"},
    "create_post": {"tweet.write"},
    "get_post": {"tweet.read"},
    "user_posts": {"tweet.read", "users.read"},
}


@dataclass
class Grant:
    access_token: str
    refresh_token: str | None
    scope: set[str]
    access_expires_at: float
    revoked: bool = False


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scope: set[str]
    challenge: str
    challenge_method: str
    expires_at: float


@dataclass
class Upload:
    media_id: str
    media_key: str
    total_bytes: int
    media_category: str
    expires_at: float
    segments: dict[int, bytes] = field(default_factory=dict)
    # uploading → pending → in_progress → succeeded | failed
    state: str = "uploading"
    status_polls: int = 0

    def content(self) -> bytes:
        return b"".join(self.segments[index] for index in sorted(self.segments))


@dataclass
class Post:
    id: str
    text: str
    media_ids: list[str]
    media_keys: list[str]
    created_at: datetime
    # Counts by public_metrics name (impression_count doubles as the owner's non-public one); all 0 until set_metrics.
    metrics: dict[str, int] = field(default_factory=dict)


@dataclass
class AppendRecord:
    media_id: str
    segment_index: int
    size: int
    status: int


@dataclass
class _Injected:
    remaining: int
    status: int
    retry_after_s: int = 0
    retry_after_header: bool = False
    from_segment: int = 0


class FakeX:
    """State and fault knobs of one fake X; the HTTP app reads and changes it (one request at a time, locked)."""

    def __init__(self) -> None:
        self.url = ""
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.redirect_uris = {REDIRECT_URI}
        self.status_polls_until_done = 2
        self.grants: list[Grant] = []
        self.codes: dict[str, AuthCode] = {}
        self.uploads: dict[str, Upload] = {}
        self.posts: list[Post] = []
        self.appends: list[AppendRecord] = []
        self.calls: Counter[str] = Counter()
        self._ids = itertools.count(1880000000000000000)
        self._lock = threading.Lock()
        self._injected: dict[str, list[_Injected]] = {}
        self._windows: dict[str, tuple[float, int]] = {}

    # --- knobs -----------------------------------------------------------------------------------------------

    def rate_limit(self, endpoint: str, *, count: int, retry_after_s: int, retry_after_header: bool = False) -> None:
        """Answer the next ``count`` calls of ``endpoint`` with 429. X itself sends only ``x-rate-limit-reset``
        (epoch seconds, here at least ``retry_after_s`` ahead); ``retry_after_header`` adds ``Retry-After``."""
        self._inject(endpoint, _Injected(count, 429, retry_after_s, retry_after_header))

    def fail_appends(self, *, from_segment: int, count: int, status: int = 503) -> None:
        """Answer the next ``count`` APPENDs of segment ``from_segment`` or later with ``status``, storing nothing."""
        self._inject("append", _Injected(count, status, from_segment=from_segment))

    def lose_post_responses(self, count: int = 1, status: int = 503) -> None:
        """Create the next ``count`` posts but answer ``status`` (a response lost between X and us)."""
        self._inject("create_post_lost", _Injected(count, status))

    def revoke_all_grants(self) -> None:
        """What disconnecting the app in X's settings does: every access and refresh token stops working."""
        for grant in self.grants:
            grant.revoked = True

    def expire_access_tokens(self) -> None:
        for grant in self.grants:
            grant.access_expires_at = time.time() - 1

    def _inject(self, endpoint: str, fault: _Injected) -> None:
        with self._lock:
            self._injected.setdefault(endpoint, []).append(fault)

    def _take_fault(self, endpoint: str, segment: int | None = None) -> _Injected | None:
        for fault in self._injected.get(endpoint, []):
            if fault.remaining > 0 and (segment is None or segment >= fault.from_segment):
                fault.remaining -= 1
                return fault
        return None

    def add_post(self, text: str = "Posted earlier #clipped", *, age: timedelta = timedelta(0)) -> str:
        """A post the account made ``age`` ago (no upload); returns its id."""
        with self._lock:
            post = Post(id=self.new_id(), text=text, media_ids=[], media_keys=[], created_at=datetime.now(UTC) - age)
            self.posts.append(post)
            return post.id

    def set_metrics(
        self,
        post_id: str,
        *,
        impressions: int = 0,
        likes: int = 0,
        replies: int = 0,
        reposts: int = 0,
        quotes: int = 0,
        bookmarks: int = 0,
    ) -> None:
        """The counts a lookup of ``post_id`` reports from now on."""
        with self._lock:
            post = next(post for post in self.posts if post.id == post_id)
            post.metrics = {
                "retweet_count": reposts, "reply_count": replies, "like_count": likes, "quote_count": quotes,
                "bookmark_count": bookmarks, "impression_count": impressions,
            }  # fmt: skip

    # --- records ---------------------------------------------------------------------------------------------

    def accepted_segments(self, media_id: str) -> list[int]:
        """Segment indexes of ``media_id`` that X answered 2xx, in order of arrival (repeats included)."""
        return [a.segment_index for a in self.appends if a.media_id == media_id and a.status < 300]

    def new_id(self) -> str:
        return str(next(self._ids))

    def grant_for(self, access_token: str) -> Grant | None:
        return next((grant for grant in self.grants if grant.access_token == access_token), None)

    def issue_grant(self, scope: set[str]) -> Grant:
        """A fresh token pair, as the token endpoint issues it (tests may also call it to skip the consent step)."""
        grant = Grant(
            access_token=secrets.token_urlsafe(32),
            refresh_token=secrets.token_urlsafe(32) if "offline.access" in scope else None,
            scope=scope,
            access_expires_at=time.time() + ACCESS_TOKEN_TTL_S,
        )
        self.grants.append(grant)
        return grant

    # --- rate limits -----------------------------------------------------------------------------------------

    def rate_headers(self, endpoint: str, who: str) -> tuple[dict[str, str], bool]:
        """X's three rate-limit headers for this call, and whether the window is spent (→ 429)."""
        limit = RATE_LIMITS[endpoint]
        key = f"{endpoint}:{who}"
        now = time.time()
        start, used = self._windows.get(key, (now, 0))
        if now >= start + RATE_WINDOW_S:
            start, used = now, 0
        spent = used >= limit
        used = min(limit, used + 1)
        self._windows[key] = (start, used)
        headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(limit - used),
            "x-rate-limit-reset": str(int(start + RATE_WINDOW_S)),
        }
        return headers, spent


# --- X's error bodies --------------------------------------------------------------------------------------------


def problem(status: int, title: str, detail: str | None = None, kind: str = "about:blank") -> JSONResponse:
    """An RFC 7807 problem as X API v2 sends it."""
    body = {"title": title, "detail": detail or title, "type": kind, "status": status}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def invalid_request(message: str, parameter: str | None = None, value: Any = None) -> JSONResponse:
    """X API v2's 400 for a malformed or invalid parameter."""
    error: dict[str, Any] = {"message": message}
    if parameter:
        error["parameters"] = {parameter: [str(value)]}
    body = {
        "errors": [error],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    return JSONResponse(body, status_code=400)


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


UNAUTHORIZED = (401, "Unauthorized")
FORBIDDEN = (403, "Forbidden")


@dataclass
class Incoming:
    """A request read in full: body, and form fields and files for form content types."""

    request: Request
    content_type: str
    body: bytes
    form: dict[str, str]
    files: dict[str, bytes]

    @classmethod
    async def read(cls, request: Request) -> Incoming:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await request.body()
        form: dict[str, str] = {}
        files: dict[str, bytes] = {}
        if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            async with request.form() as parsed:
                for name, value in parsed.multi_items():
                    if isinstance(value, str):
                        form[name] = value
                    else:
                        files[name] = await value.read()
        return cls(request, content_type, body, form, files)


def _media_key(upload_category: str, media_id: str) -> str:
    return f"{MEDIA_KEY_PREFIX.get(upload_category, '3')}_{media_id}"


def _processing(upload: Upload) -> dict[str, Any]:
    info: dict[str, Any] = {"state": upload.state}
    if upload.state in ("pending", "in_progress"):
        info["check_after_secs"] = 1
        info["progress_percent"] = 0 if upload.state == "pending" else 50
    elif upload.state == "succeeded":
        info["progress_percent"] = 100
    else:
        info["error"] = {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}
    return info


def _media_body(upload: Upload) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": upload.media_id,
        "media_key": upload.media_key,
        "size": upload.total_bytes,
        "expires_after_secs": max(0, int(upload.expires_at - time.time())),
    }
    if upload.state != "uploading":
        data["processing_info"] = _processing(upload)
    return {"data": data}


def _looks_like_mp4(content: bytes) -> bool:
    return content[4:8] == b"ftyp"


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return client_id, secret


def _pkce_matches(verifier: str, code: AuthCode) -> bool:
    if code.challenge_method == "plain":
        return secrets.compare_digest(verifier, code.challenge)
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return secrets.compare_digest(digest, code.challenge)


# --- the app -----------------------------------------------------------------------------------------------------


def build_app(fake: FakeX) -> Starlette:
    """The Starlette app serving ``fake``."""

    def finish(response: Response, endpoint: str, who: str) -> Response:
        headers, _ = fake.rate_headers(endpoint, who)
        response.headers.update(headers)
        return response

    def guarded(endpoint: str, handler: Callable[[Incoming], Response]) -> Callable[[Request], Awaitable[Response]]:
        """Bearer auth, scope, injected 429s and the rate-limit window, then ``handler(incoming)``."""

        async def route(request: Request) -> Response:
            # Everything awaitable is read before the lock: the handlers run synchronously under it.
            incoming = await Incoming.read(request)
            with fake._lock:
                fake.calls[endpoint] += 1
                header = request.headers.get("authorization", "")
                token = header[7:] if header.lower().startswith("bearer ") else ""
                grant = fake.grant_for(token) if token else None
                if grant is None or grant.revoked or grant.access_expires_at < time.time():
                    return finish(problem(*UNAUTHORIZED), endpoint, "anonymous")
                if not SCOPE_FOR[endpoint] <= grant.scope:
                    return finish(problem(*FORBIDDEN), endpoint, USER_ID)
                fault = fake._take_fault(endpoint) if endpoint != "append" else None
                if fault is not None:
                    return rate_limited(endpoint, fault.retry_after_s, fault.retry_after_header)
                headers, spent = fake.rate_headers(endpoint, USER_ID)
                if spent:
                    return rate_limited(endpoint, int(headers["x-rate-limit-reset"]) - int(time.time()), False)
                response = handler(incoming)
                response.headers.update(headers)
                return response

        return route

    def rate_limited(endpoint: str, retry_after_s: int, with_header: bool) -> Response:
        response = problem(429, "Too Many Requests")
        response.headers.update(
            {
                "x-rate-limit-limit": str(RATE_LIMITS[endpoint]),
                "x-rate-limit-remaining": "0",
                # A whole second ahead of now + retry_after_s, so the wait it implies is never shorter than that.
                "x-rate-limit-reset": str(int(time.time()) + retry_after_s + 1),
            }
        )
        if with_header:
            response.headers["retry-after"] = str(retry_after_s)
        return response

    def json_body(incoming: Incoming) -> dict[str, Any] | JSONResponse:
        if incoming.content_type != "application/json":
            return invalid_request("Content-Type must be application/json")
        try:
            parsed = json.loads(incoming.body)
        except ValueError:
            return invalid_request("Request body is not valid JSON")
        if not isinstance(parsed, dict):
            return invalid_request("Request body must be a JSON object")
        return parsed

    # OAuth --------------------------------------------------------------------------------------------------

    async def authorize(request: Request) -> Response:
        query = request.query_params
        fake.calls["authorize"] += 1
        # X shows an error page (no redirect) when it cannot trust the redirect_uri or the client.
        if query.get("client_id") != fake.client_id:
            return HTMLResponse("Something went wrong: unknown client", status_code=400)
        if query.get("redirect_uri") not in fake.redirect_uris:
            return HTMLResponse("Something went wrong: redirect_uri not registered", status_code=400)
        problems = []
        if query.get("response_type") != "code":
            problems.append("response_type must be code")
        if not query.get("state"):
            problems.append("state is required")
        if not query.get("scope"):
            problems.append("scope is required")
        if not query.get("code_challenge") or query.get("code_challenge_method") not in ("S256", "plain"):
            problems.append("a PKCE code_challenge (S256 or plain) is required")
        if problems:
            return HTMLResponse("Something went wrong: " + "; ".join(problems), status_code=400)
        code = secrets.token_urlsafe(24)
        with fake._lock:
            fake.codes[code] = AuthCode(
                client_id=query["client_id"],
                redirect_uri=query["redirect_uri"],
                scope=set(query["scope"].split()),
                challenge=query["code_challenge"],
                challenge_method=query["code_challenge_method"],
                expires_at=time.time() + AUTH_CODE_TTL_S,
            )
        target = f"{query['redirect_uri']}?{urlencode({'state': query['state'], 'code': code})}"
        return RedirectResponse(target, status_code=302)

    async def token(request: Request) -> Response:
        incoming = await Incoming.read(request)
        with fake._lock:
            fake.calls["token"] += 1
            return finish(exchange(incoming), "token", "app")

    def exchange(incoming: Incoming) -> Response:
        request, form = incoming.request, incoming.form
        if incoming.content_type != "application/x-www-form-urlencoded":
            return oauth_error(400, "invalid_request", "Missing required parameter [grant_type].")
        credentials = _basic_credentials(request)
        # Confidential client: HTTP Basic with id and secret; a body client_id alone is not enough.
        if credentials != (fake.client_id, fake.client_secret):
            return oauth_error(401, "unauthorized_client", "Missing valid authorization header")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return exchange_code(form)
        if grant_type == "refresh_token":
            return refresh(form)
        return oauth_error(400, "invalid_request", "Value passed for the grant_type was invalid.")

    def exchange_code(form: Any) -> Response:
        for name in ("code", "redirect_uri", "code_verifier"):
            if not form.get(name):
                return oauth_error(400, "invalid_request", f"Missing required parameter [{name}].")
        code = fake.codes.pop(str(form["code"]), None)  # single use, even when the exchange fails
        if (
            code is None
            or code.expires_at < time.time()
            or code.redirect_uri != form["redirect_uri"]
            or not _pkce_matches(str(form["code_verifier"]), code)
        ):
            return oauth_error(400, "invalid_request", "Value passed for the authorization code was invalid.")
        return token_response(fake.issue_grant(code.scope))

    def refresh(form: Any) -> Response:
        presented = form.get("refresh_token")
        if not presented:
            return oauth_error(400, "invalid_request", "Missing required parameter [refresh_token].")
        grant = next((g for g in fake.grants if g.refresh_token and g.refresh_token == presented), None)
        if grant is None or grant.revoked:
            return oauth_error(400, "invalid_request", "Value passed for the token was invalid.")
        # Rotation: the presented refresh token is spent (its access token lives on until it expires).
        grant.refresh_token = None
        return token_response(fake.issue_grant(grant.scope))

    def token_response(grant: Grant) -> Response:
        body = {
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_TTL_S,
            "access_token": grant.access_token,
            "scope": " ".join(sorted(grant.scope)),
        }
        if grant.refresh_token:
            body["refresh_token"] = grant.refresh_token
        return JSONResponse(body)

    # Users and posts ----------------------------------------------------------------------------------------

    def users_me(incoming: Incoming) -> Response:
        return JSONResponse({"data": {"id": USER_ID, "name": "Clipped Test", "username": USERNAME}})

    def create_post(incoming: Incoming) -> Response:
        parsed = json_body(incoming)
        if isinstance(parsed, JSONResponse):
            return parsed
        text = parsed.get("text")
        media = parsed.get("media") or {}
        media_ids = media.get("media_ids") if isinstance(media, dict) else None
        if text is None and not media_ids:
            return invalid_request("Either text or media must be provided")
        if text is not None and (not isinstance(text, str) or len(text) > POST_TEXT_MAX):
            return invalid_request("Tweet text is too long or not a string", "text", text)
        if media_ids is not None:
            if not isinstance(media_ids, list) or not 1 <= len(media_ids) <= 4:
                return invalid_request("media.media_ids must hold 1 to 4 ids", "media.media_ids", media_ids)
            for media_id in media_ids:
                upload = fake.uploads.get(str(media_id))
                if upload is None or upload.state != "succeeded":
                    return invalid_request("Your media IDs are invalid.", "media.media_ids", media_ids)
        if text and any(post.text == text for post in fake.posts):
            return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        post = Post(
            id=fake.new_id(),
            text=text or "",
            media_ids=[str(m) for m in media_ids or []],
            media_keys=[fake.uploads[str(m)].media_key for m in media_ids or []],
            created_at=datetime.now(UTC),
        )
        fake.posts.append(post)
        lost = fake._take_fault("create_post_lost")
        if lost is not None:
            return problem(lost.status, "Service Unavailable")
        return JSONResponse({"data": {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}}, 201)

    def get_post(incoming: Incoming) -> Response:
        post_id = incoming.request.path_params["post_id"]
        post = next((p for p in fake.posts if p.id == post_id), None)
        if post is None:
            error = {
                "value": post_id,
                "detail": f"Could not find tweet with id: [{post_id}].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "id",
                "resource_id": post_id,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
            return JSONResponse({"errors": [error]})
        fields = {name for name in incoming.request.query_params.get("tweet.fields", "").split(",") if name}
        if fields - TWEET_FIELDS:
            unknown = sorted(fields - TWEET_FIELDS)[0]
            return invalid_request(f"The `tweet.fields` query parameter value [{unknown}] is not one of [...]")
        old = datetime.now(UTC) - post.created_at > timedelta(days=NON_PUBLIC_METRICS_DAYS)
        if "non_public_metrics" in fields and old:
            message = "non_public_metrics are available for posts of the last 30 days only"
            return invalid_request(message, "tweet.fields", "non_public_metrics")
        data: dict[str, Any] = {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}
        counts = {name: 0 for name in PUBLIC_METRICS} | post.metrics
        if "public_metrics" in fields:
            data["public_metrics"] = {name: counts[name] for name in PUBLIC_METRICS}
        if "non_public_metrics" in fields:
            # The owner's own impression count (and clicks, which Clipped does not read).
            data["non_public_metrics"] = {
                "impression_count": counts["impression_count"], "url_link_clicks": 0, "user_profile_clicks": 0,
            }  # fmt: skip
        return JSONResponse({"data": data})

    def user_posts(incoming: Incoming) -> Response:
        if incoming.request.path_params["user_id"] != USER_ID:
            return JSONResponse({"meta": {"result_count": 0}})
        query = incoming.request.query_params
        try:
            max_results = int(query.get("max_results", "10"))
        except ValueError:
            return invalid_request("max_results must be a number", "max_results", query.get("max_results"))
        if not 5 <= max_results <= 100:
            return invalid_request("max_results must be between 5 and 100", "max_results", max_results)
        since = None
        if "start_time" in query:
            try:
                since = datetime.strptime(query["start_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            except ValueError:
                return invalid_request("start_time must be YYYY-MM-DDTHH:mm:ssZ", "start_time", query["start_time"])
        expand_media = "attachments.media_keys" in query.get("expansions", "").split(",")
        fields = set(query.get("tweet.fields", "").split(","))
        posts = [p for p in reversed(fake.posts) if since is None or p.created_at >= since][:max_results]
        if not posts:
            return JSONResponse({"meta": {"result_count": 0}})
        data = []
        for post in posts:
            item: dict[str, Any] = {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}
            if post.media_keys and (expand_media or "attachments" in fields):
                item["attachments"] = {"media_keys": post.media_keys}
            if "created_at" in fields:
                item["created_at"] = post.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            data.append(item)
        body_out: dict[str, Any] = {
            "data": data,
            "meta": {"result_count": len(data), "newest_id": data[0]["id"], "oldest_id": data[-1]["id"]},
        }
        if expand_media:
            keys = [key for post in posts for key in post.media_keys]
            body_out["includes"] = {"media": [{"media_key": key, "type": "video"} for key in keys]}
        return JSONResponse(body_out)

    # Media upload -------------------------------------------------------------------------------------------

    def initialize(incoming: Incoming) -> Response:
        parsed = json_body(incoming)
        if isinstance(parsed, JSONResponse):
            return parsed
        media_type, category, total = parsed.get("media_type"), parsed.get("media_category"), parsed.get("total_bytes")
        if media_type is None or media_type not in VIDEO_TYPES | {"image/jpeg", "image/png", "image/gif"}:
            return invalid_request("media_type is missing or not supported", "media_type", media_type)
        if category is not None and category not in MEDIA_CATEGORIES:
            return invalid_request("media_category is not supported", "media_category", category)
        if not isinstance(total, int) or isinstance(total, bool) or not 0 < total <= 17179869184:
            return invalid_request("total_bytes must be a positive integer", "total_bytes", total)
        media_id = fake.new_id()
        upload = Upload(
            media_id=media_id,
            media_key=_media_key(category or "", media_id),
            total_bytes=total,
            media_category=category or "tweet_video",
            expires_at=time.time() + UPLOAD_TTL_S,
        )
        fake.uploads[media_id] = upload
        return JSONResponse(_media_body(upload))

    def owned_upload(media_id: str) -> Upload | JSONResponse:
        upload = fake.uploads.get(media_id)
        if upload is None or upload.expires_at < time.time():
            return invalid_request("Invalid or expired media id", "media_id", media_id)
        return upload

    def append(incoming: Incoming) -> Response:
        media_id = incoming.request.path_params["media_id"]
        if incoming.content_type != "multipart/form-data":
            return invalid_request("Content-Type must be multipart/form-data")
        segment_text, chunk = incoming.form.get("segment_index"), incoming.files.get("media")
        try:
            segment = int(segment_text or "")
        except ValueError:
            return invalid_request("segment_index is required and must be an integer", "segment_index", segment_text)

        def record(response: Response) -> Response:
            fake.appends.append(AppendRecord(media_id, segment, len(chunk or b""), response.status_code))
            return response

        fault = fake._take_fault("append", segment)
        if fault is not None:
            if fault.status == 429:
                return record(rate_limited("append", fault.retry_after_s, fault.retry_after_header))
            return record(problem(fault.status, "Service Unavailable"))
        upload = owned_upload(media_id)
        if isinstance(upload, JSONResponse):
            return record(upload)
        if upload.state != "uploading":
            return record(invalid_request("The media has already been finalized", "media_id", media_id))
        if not 0 <= segment <= MAX_SEGMENT_INDEX:
            return record(invalid_request("segment_index must be between 0 and 999", "segment_index", segment))
        if not chunk:
            return record(invalid_request("media is required and must not be empty", "media"))
        if len(chunk) > MAX_SEGMENT_BYTES:
            return record(invalid_request("Segment size exceeds the 5 MB limit", "media", len(chunk)))
        others = sum(len(data) for index, data in upload.segments.items() if index != segment)
        if others + len(chunk) > upload.total_bytes:
            return record(invalid_request("Segments exceed the total_bytes given at initialize", "media", len(chunk)))
        upload.segments[segment] = chunk  # the same index again replaces that segment
        return record(JSONResponse({"data": {"expires_at": int(upload.expires_at)}}))

    def finalize(incoming: Incoming) -> Response:
        upload = owned_upload(incoming.request.path_params["media_id"])
        if isinstance(upload, JSONResponse):
            return upload
        if upload.state == "uploading":
            indexes = sorted(upload.segments)
            if indexes != list(range(len(indexes))) or sum(map(len, upload.segments.values())) != upload.total_bytes:
                return invalid_request("Segments do not add up to provided total file size.", "media_id")
            upload.state = "pending" if _looks_like_mp4(upload.content()) else "failed"
        return JSONResponse(_media_body(upload))

    def status(incoming: Incoming) -> Response:
        query = incoming.request.query_params
        if query.get("command") != "STATUS":
            return invalid_request("command must be STATUS", "command", query.get("command"))
        upload = owned_upload(query.get("media_id", ""))
        if isinstance(upload, JSONResponse):
            return upload
        if upload.state in ("pending", "in_progress"):
            upload.status_polls += 1
            done = upload.status_polls >= fake.status_polls_until_done
            upload.state = "succeeded" if done else "in_progress"
        return JSONResponse(_media_body(upload))

    return Starlette(
        routes=[
            Route("/i/oauth2/authorize", authorize, methods=["GET"]),
            Route("/2/oauth2/token", token, methods=["POST"]),
            Route("/2/users/me", guarded("users_me", users_me), methods=["GET"]),
            Route("/2/users/{user_id}/tweets", guarded("user_posts", user_posts), methods=["GET"]),
            Route("/2/tweets", guarded("create_post", create_post), methods=["POST"]),
            Route("/2/tweets/{post_id}", guarded("get_post", get_post), methods=["GET"]),
            Route("/2/media/upload/initialize", guarded("initialize", initialize), methods=["POST"]),
            Route("/2/media/upload/{media_id}/append", guarded("append", append), methods=["POST"]),
            Route("/2/media/upload/{media_id}/finalize", guarded("finalize", finalize), methods=["POST"]),
            Route("/2/media/upload", guarded("status", status), methods=["GET"]),
        ]
    )


@pytest.fixture(name="fake_x")
def fake_x_fixture() -> Iterator[FakeX]:
    """A running fake X on a free loopback port; ``fake_x.url`` is its base URL (API and authorize page)."""
    fake = FakeX()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(build_app(fake), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout_s=10, what="fake X")
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
