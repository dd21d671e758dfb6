"""A local stand-in for the Instagram API with Instagram Login, for the Instagram adapter's tests.

One ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) serves what four Meta hosts serve, by path:

- ``GET /oauth/authorize`` (www.instagram.com): consents at once and redirects to ``redirect_uri?code=…&state=…#_``;
- ``POST /oauth/access_token`` (api.instagram.com): authorization code → one-hour token, errors in the
  ``{"error_type", "code", "error_message"}`` shape of that host;
- ``GET /access_token`` and ``GET /refresh_access_token`` (graph.instagram.com): the 60-day token, refreshed only
  when at least 24 hours old and unexpired (each refresh issues a new token);
- ``/v21.0/…`` (graph.instagram.com): ``me``, REELS containers with ``upload_type=resumable``, container status,
  ``content_publishing_limit``, ``media_publish``, media, a media's ``insights`` and the account's media list; Graph
  error bodies
  ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``; every answer carries the
  ``X-Business-Use-Case-Usage`` rate-limit header;
- ``POST /ig-api-upload/v21.0/{container-id}`` (rupload.facebook.com): the video in chunks, ``Authorization: OAuth``,
  ``offset`` and ``file_size`` headers; errors in the upload host's ``{"debug_info": {…}}`` shape.

Requests are checked the way the platform checks them. The container's ``video_status`` (bytes received) follows the
upload-status shape of Meta's video APIs; Instagram's documentation of the container lists ``status_code`` and
``status``, so an adapter must cope with either.

Fault knobs: :meth:`FakeInstagram.queue_error`, :meth:`FakeInstagram.fail_chunks`, :meth:`FakeInstagram.revoke_all`,
:meth:`FakeInstagram.advance`, ``processing_polls``, ``processing_error``, ``quota_used_elsewhere``,
``reports_upload_progress``; engagement: :meth:`FakeInstagram.issue_token`, :meth:`FakeInstagram.add_post`,
:meth:`FakeInstagram.set_insights`. Records:
``posts``, ``containers``, ``chunks``, ``calls``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

CLIENT_ID = "990602627938098"
CLIENT_SECRET = "fake-instagram-app-secret"
REDIRECT_URI = "https://clipped.test/connect/instagram/callback"
IG_USER_ID = "17841405793187218"  # the professional account's id: `user_id` on /me, the id publishing uses
APP_SCOPED_ID = "7203496186612345"  # `id` on /me
USERNAME = "clipped.tester"
API_VERSION = "v21.0"

AUTH_CODE_TTL_S = 3600
SHORT_LIVED_S = 3600
LONG_LIVED_S = 5184000  # 60 days
REFRESH_MIN_AGE_S = 24 * 3600
CONTAINER_TTL_S = 24 * 3600
PUBLISH_QUOTA = 50
PUBLISH_WINDOW_S = 24 * 3600
CAPTION_MAX = 2200
REQUIRED_SCOPE = "instagram_business_basic"
KNOWN_SCOPES = {
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_messages",
    "instagram_business_manage_comments",
    "instagram_business_manage_insights",
}
# Lifetime insights a Reel answers (``plays`` was retired in favour of ``views``), with their titles.
REEL_INSIGHTS = {
    "views": "Views",
    "reach": "Accounts reached",
    "likes": "Likes",
    "comments": "Comments",
    "shares": "Shares",
    "saved": "Saved",
    "total_interactions": "Interactions",
    "ig_reels_avg_watch_time": "Average watch time",
    "ig_reels_video_view_total_time": "Watch time",
}

CONTAINER_FIELDS = {"id", "status_code", "status", "video_status", "copyright_check_status"}
MEDIA_FIELDS = {"id", "caption", "media_type", "media_product_type", "permalink", "timestamp", "username"}
ME_FIELDS = {"id", "user_id", "username", "account_type", "name"}
STATUS_TEXT = {
    "IN_PROGRESS": "In Progress: Media is still being processed.",
    "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
    "PUBLISHED": "Published: Media has been successfully published.",
    "EXPIRED": "Expired: Media was not published within 24 hours.",
}


@dataclass
class Grant:
    token: str
    long_lived: bool
    issued_at: float
    expires_at: float
    revoked: bool = False


@dataclass
class AuthCode:
    redirect_uri: str
    scopes: list[str]
    issued_at: float
    used: bool = False


@dataclass
class Container:
    id: str
    caption: str
    share_to_feed: bool
    created_at: float
    file_size: int | None = None
    data: bytearray = field(default_factory=bytearray)
    polls_after_upload: int = 0
    published: bool = False

    @property
    def uploaded(self) -> bool:
        return self.file_size is not None and len(self.data) == self.file_size


@dataclass
class Post:
    id: str
    container_id: str
    caption: str
    created_at: float
    permalink: str
    video: bytes


@dataclass
class Chunk:
    """One upload request as it reached the upload host (``accepted`` when its bytes were kept)."""

    container_id: str
    offset: int
    length: int
    accepted: bool


@dataclass
class QueuedError:
    status: int
    code: int
    retry_after: int | None
    regain_access_minutes: int | None


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class _Reply:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeInstagram:
    """The fake platform's state and knobs; :meth:`start` serves it, :attr:`base_url` is where."""

    def __init__(self) -> None:
        self.redirect_uris = {REDIRECT_URI}
        self.grants: dict[str, Grant] = {}
        self.codes: dict[str, AuthCode] = {}
        self.containers: dict[str, Container] = {}
        self.posts: list[Post] = []
        self.chunks: list[Chunk] = []
        self.calls: Counter[str] = Counter()
        # Status polls a fully uploaded container answers IN_PROGRESS before FINISHED.
        self.processing_polls = 1
        # When set, processing ends in ERROR with this text instead of FINISHED.
        self.processing_error: str | None = None
        # Posts this account made through other apps within the window (they count against the same limit).
        self.quota_used_elsewhere = 0
        # False: containers have only their documented fields, and asking for `video_status` is an error.
        self.reports_upload_progress = True
        # Media id → lifetime insight values (set_insights); a metric set to None is left out of the answer.
        self.insights: dict[str, dict[str, int | None]] = {}
        self._queued: dict[str, list[QueuedError]] = {}
        self._failing_chunks: dict[int, int] = {}
        self._upload_requests = 0
        self._clock_offset_s = 0.0
        self._ids = iter(range(17_900_000_000_000_000, 18_000_000_000_000_000))
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- serving -------------------------------------------------------------------------------------------------

    def start(self) -> None:
        handler = type("FakeInstagramHandler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-instagram", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def adapter_urls(self) -> dict[str, str]:
        """The base-URL arguments that point an Instagram adapter at this fake."""
        return {
            "authorize_url": f"{self.base_url}/oauth/authorize",
            "oauth_url": self.base_url,
            "graph_url": self.base_url,
            "upload_url": self.base_url,
        }

    # --- knobs ---------------------------------------------------------------------------------------------------

    def queue_error(
        self,
        endpoint: str,
        *,
        count: int = 1,
        status: int = 429,
        code: int | None = None,
        retry_after: int | None = None,
        regain_access_minutes: int | None = None,
    ) -> None:
        """Answer the next ``count`` requests to ``endpoint`` with ``status`` (Graph ``code`` 4 for 429 and 400, 2
        for 5xx unless given), a ``Retry-After`` header and/or a usage header saying when access comes back.

        Endpoints: authorize, token, exchange, refresh, me, create_container, upload, container_status,
        publishing_limit, media_publish, media, media_list, insights.
        """
        default_code = 2 if status >= 500 else 4
        error = QueuedError(status, code or default_code, retry_after, regain_access_minutes)
        with self._lock:
            self._queued.setdefault(endpoint, []).extend([error] * count)

    def fail_chunks(self, nth: int, *, times: int = 1, status: int = 503) -> None:
        """Answer upload requests number ``nth`` … ``nth + times - 1`` (1-based, counted over the fake's life) with
        ``status`` without keeping their bytes."""
        with self._lock:
            for number in range(nth, nth + times):
                self._failing_chunks[number] = status

    def revoke_all(self) -> None:
        """The person removed the app: every token stops working (refresh included)."""
        with self._lock:
            for grant in self.grants.values():
                grant.revoked = True

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (token ages and expiries, container expiry, the publishing window)."""
        with self._lock:
            self._clock_offset_s += seconds

    def now(self) -> float:
        return time.time() + self._clock_offset_s

    def issue_token(self) -> str:
        """A long-lived token of the professional account, as if it had connected (for tests not about OAuth)."""
        with self._lock:
            return self._issue(long_lived=True).token

    def add_post(self, caption: str = "Posted earlier #clipped") -> str:
        """A reel the account published earlier (no upload); returns its media id."""
        with self._lock:
            post = Post(
                id=self._next_id(),
                container_id="",
                caption=caption,
                created_at=self.now(),
                permalink=f"https://www.instagram.com/reel/{secrets.token_urlsafe(8)}/",
                video=b"",
            )
            self.posts.append(post)
            return post.id

    def set_insights(self, media_id: str, **values: int | None) -> None:
        """The lifetime values ``/{media_id}/insights`` reports from now on, by metric name (``views``, ``likes``,
        ``comments``, ``shares``, ``saved``, ``ig_reels_avg_watch_time`` in ms, ...); unset metrics count 0."""
        unknown = set(values) - set(REEL_INSIGHTS)
        if unknown:
            raise ValueError(f"not reel insights: {sorted(unknown)}")
        with self._lock:
            self.insights[media_id] = dict(values)

    def published_posts(self) -> list[Post]:
        with self._lock:
            return list(self.posts)

    def accepted_chunks(self) -> list[Chunk]:
        with self._lock:
            return [chunk for chunk in self.chunks if chunk.accepted]

    # --- dispatch ------------------------------------------------------------------------------------------------

    def handle(self, request: _Request) -> _Reply:
        with self._lock:
            endpoint, route = self._route(request)
            self.calls[endpoint] += 1
            queued = self._queued.get(endpoint)
            if queued:
                return self._injected(endpoint, queued.pop(0))
            return route()

    def _route(self, request: _Request) -> tuple[str, Callable[[], _Reply]]:
        path, method = request.path, request.method
        if path == "/oauth/authorize" and method == "GET":
            return "authorize", lambda: self._authorize(request)
        if path == "/oauth/access_token" and method == "POST":
            return "token", lambda: self._token(request)
        if path == "/access_token" and method == "GET":
            return "exchange", lambda: self._exchange(request)
        if path == "/refresh_access_token" and method == "GET":
            return "refresh", lambda: self._refresh(request)
        if path.startswith("/ig-api-upload/") and method == "POST":
            return "upload", lambda: self._upload(request)
        parts = path.strip("/").split("/")
        if parts[0] != API_VERSION or len(parts) not in (2, 3):
            return "unknown", lambda: _graph_error(400, 2500, f"Unknown path components: /{'/'.join(parts[1:])}")
        node, edge = parts[1], parts[2] if len(parts) == 3 else ""
        account_edges = {
            ("POST", "media"): ("create_container", self._create_container),
            ("GET", "media"): ("media_list", self._media_list),
            ("GET", "content_publishing_limit"): ("publishing_limit", self._publishing_limit),
            ("POST", "media_publish"): ("media_publish", self._media_publish),
        }
        if method == "GET" and edge == "insights":
            return "insights", lambda: self._with_token(request, lambda params: self._insights(node, params))
        if method == "GET" and node == "me" and not edge:
            return "me", lambda: self._with_token(request, self._me)
        if (method, edge) in account_edges:
            name, handler = account_edges[(method, edge)]
            return name, lambda: self._with_token(request, lambda params: self._on_account(node, params, handler))
        if method == "GET" and not edge:
            name = "container_status" if node in self.containers else "media"
            return name, lambda: self._with_token(request, lambda params: self._read_node(node, params))
        return "unknown", lambda: _graph_error(400, 100, f"Unsupported {method.lower()} request.")

    def _injected(self, endpoint: str, error: QueuedError) -> _Reply:
        headers = {}
        if error.retry_after is not None:
            headers["Retry-After"] = str(error.retry_after)
        if error.regain_access_minutes is not None:
            headers["X-Business-Use-Case-Usage"] = _usage_header(100, error.regain_access_minutes)
        if endpoint == "upload":
            reply = _upload_error(error.status, "ServiceUnavailable", "Please retry your request later.", True)
        elif endpoint in ("authorize", "token"):
            reply = _oauth_error("Please retry your request later.", status=error.status)
        elif error.code == 4:
            reply = _graph_error(error.status, 4, "(#4) Application request limit reached", transient=True)
        else:
            message = "An unexpected error has occurred. Please retry your request later."
            reply = _graph_error(error.status, error.code, message, transient=True)
        reply.headers.update(headers)
        return reply

    # --- OAuth ---------------------------------------------------------------------------------------------------

    def _authorize(self, request: _Request) -> _Reply:
        query = request.query
        if query.get("client_id") != CLIENT_ID:
            return _oauth_error("Invalid platform app")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            return _oauth_error("Invalid redirect_uri")
        if query.get("response_type") != "code":
            return _oauth_error("Invalid response_type")
        scopes = [scope for scope in query.get("scope", "").replace(" ", ",").split(",") if scope]
        if REQUIRED_SCOPE not in scopes or not set(scopes) <= KNOWN_SCOPES:
            return _oauth_error("Invalid scope field(s)")
        # Instagram makes state optional; this fake insists, because an app that drops it is open to CSRF.
        if not query.get("state"):
            return _oauth_error("state is required")
        code = f"AQ{secrets.token_urlsafe(24)}"
        self.codes[code] = AuthCode(redirect_uri=redirect_uri, scopes=scopes, issued_at=self.now())
        split = urlsplit(redirect_uri)
        params = urlencode({"code": code, "state": query["state"]})
        redirect_query = f"{split.query}&{params}" if split.query else params
        # Instagram appends "#_" to the redirect.
        location = urlunsplit((split.scheme, split.netloc, split.path, redirect_query, "_"))
        return _Reply(302, None, {"Location": location})

    def _token(self, request: _Request) -> _Reply:
        form = _form_fields(request, json_allowed=False)
        if form is None:
            return _oauth_error("Invalid Content-Type: send the parameters as a form")
        for name in ("client_id", "client_secret", "grant_type", "redirect_uri", "code"):
            if not form.get(name):
                return _oauth_error(f"Missing required field {name}")
        if form["client_id"] != CLIENT_ID:
            return _oauth_error("Invalid platform app")
        if form["client_secret"] != CLIENT_SECRET:
            return _oauth_error("Invalid Client Secret")
        if form["grant_type"] != "authorization_code":
            return _oauth_error("Unsupported grant_type")
        code = self.codes.get(form["code"])
        if code is None or code.used or self.now() - code.issued_at > AUTH_CODE_TTL_S:
            return _oauth_error("Matching code was not found or was already used")
        if code.redirect_uri != form["redirect_uri"]:
            return _oauth_error(
                "Error validating verification code. Please make sure your redirect_uri is identical to the one you "
                "used in the OAuth dialog request"
            )
        code.used = True
        grant = self._issue(long_lived=False)
        return _Reply(
            200, {"data": [{"access_token": grant.token, "user_id": IG_USER_ID, "permissions": ",".join(code.scopes)}]}
        )

    def _exchange(self, request: _Request) -> _Reply:
        query = request.query
        if query.get("grant_type") != "ig_exchange_token":
            return _graph_error(400, 100, "Unsupported grant_type: expected ig_exchange_token")
        if query.get("client_secret") != CLIENT_SECRET:
            return _graph_error(400, 101, "Error validating client secret.")
        grant, problem = self._check_token(query.get("access_token", ""))
        if problem is not None:
            return problem
        assert grant is not None
        if grant.long_lived:
            return _graph_error(400, 100, "Only short-lived access tokens can be exchanged")
        long_lived = self._issue(long_lived=True)
        return _Reply(200, {"access_token": long_lived.token, "token_type": "bearer", "expires_in": LONG_LIVED_S})

    def _refresh(self, request: _Request) -> _Reply:
        query = request.query
        if query.get("grant_type") != "ig_refresh_token":
            return _graph_error(400, 100, "Unsupported grant_type: expected ig_refresh_token")
        grant, problem = self._check_token(query.get("access_token", ""))
        if problem is not None:
            return problem
        assert grant is not None
        if not grant.long_lived:
            return _graph_error(400, 100, "Only long-lived access tokens can be refreshed")
        # The reference: "Refresh a long-lived access token that is at least 24 hours old but has not expired."
        if self.now() - grant.issued_at < REFRESH_MIN_AGE_S:
            return _graph_error(400, 100, "The access token must be at least 24 hours old to be refreshed")
        refreshed = self._issue(long_lived=True)
        return _Reply(200, {"access_token": refreshed.token, "token_type": "bearer", "expires_in": LONG_LIVED_S})

    def _issue(self, *, long_lived: bool) -> Grant:
        now = self.now()
        ttl = LONG_LIVED_S if long_lived else SHORT_LIVED_S
        grant = Grant(
            token=f"IG{secrets.token_urlsafe(40)}", long_lived=long_lived, issued_at=now, expires_at=now + ttl
        )
        self.grants[grant.token] = grant
        return grant

    def _check_token(self, token: str) -> tuple[Grant | None, _Reply | None]:
        if not token:
            return None, _graph_error(
                401, 104, "An access token is required to request this resource.", www_authenticate="invalid_request"
            )
        grant = self.grants.get(token)
        if grant is None:
            return None, _graph_error(
                401, 190, "Invalid OAuth access token - Cannot parse access token", www_authenticate="invalid_token"
            )
        if grant.revoked:
            return None, _graph_error(
                400, 190, "Error validating access token: The user has not authorized application.", subcode=458
            )
        if self.now() >= grant.expires_at:
            return None, _graph_error(400, 190, "Error validating access token: Session has expired.", subcode=463)
        return grant, None

    # --- Graph ---------------------------------------------------------------------------------------------------

    def _with_token(self, request: _Request, handler: Callable[[dict[str, str]], _Reply]) -> _Reply:
        """Graph calls take the token as ``Authorization: Bearer`` or an ``access_token`` parameter."""
        authorization = request.headers.get("authorization", "")
        form = _form_fields(request) if request.method == "POST" and request.body else {}
        if form is None:
            return _graph_error(400, 100, "Invalid Content-Type: send a form or a JSON object")
        params = {**request.query, **form}
        token = authorization.removeprefix("Bearer ").strip() if authorization.startswith("Bearer ") else ""
        _grant, problem = self._check_token(token or params.pop("access_token", ""))
        if problem is not None:
            return problem
        reply = handler(params)
        reply.headers.setdefault("X-Business-Use-Case-Usage", _usage_header(self.calls.total() % 100, 0))
        return reply

    def _on_account(self, node: str, params: dict[str, str], handler: Callable[[dict[str, str]], _Reply]) -> _Reply:
        if node not in ("me", IG_USER_ID):
            return _graph_error(
                400,
                100,
                f"Unsupported request. Object with ID '{node}' does not exist, cannot be loaded due to missing "
                "permissions, or does not support this operation",
                subcode=33,
            )
        return handler(params)

    def _me(self, params: dict[str, str]) -> _Reply:
        fields, problem = _fields(params, ME_FIELDS, "User")
        if problem is not None:
            return problem
        profile = {"id": APP_SCOPED_ID, "user_id": IG_USER_ID, "username": USERNAME, "account_type": "BUSINESS"}
        profile["name"] = "Clipped Tester"
        return _Reply(200, {key: profile[key] for key in fields | {"id"}})

    def _create_container(self, params: dict[str, str]) -> _Reply:
        media_type = params.get("media_type", "")
        if media_type != "REELS":
            return _graph_error(400, 100, "The parameter media_type must be REELS for a video uploaded to Instagram")
        if params.get("upload_type") != "resumable" and not params.get("video_url"):
            return _graph_error(400, 100, "The parameter video_url is required")
        if params.get("upload_type") != "resumable":
            return _graph_error(400, 100, "This fake only implements upload_type=resumable")
        caption = params.get("caption", "")
        if len(caption) > CAPTION_MAX:
            return _graph_error(400, 100, "The caption is too long", subcode=2207010)
        share_to_feed = params.get("share_to_feed", "true").lower()
        if share_to_feed not in ("true", "false"):
            return _graph_error(400, 100, "Param share_to_feed must be a boolean")
        container = Container(
            id=self._next_id(), caption=caption, share_to_feed=share_to_feed == "true", created_at=self.now()
        )
        self.containers[container.id] = container
        uri = f"{self.base_url}/ig-api-upload/{API_VERSION}/{container.id}"
        return _Reply(200, {"id": container.id, "uri": uri})

    def _read_node(self, node: str, params: dict[str, str]) -> _Reply:
        container = self.containers.get(node)
        if container is not None:
            return self._container_status(container, params)
        post = next((post for post in self.posts if post.id == node), None)
        if post is None:
            return _graph_error(
                400,
                100,
                f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded due to missing "
                "permissions, or does not support this operation",
                subcode=33,
            )
        fields, problem = _fields(params, MEDIA_FIELDS, "Media")
        if problem is not None:
            return problem
        return _Reply(200, {key: value for key, value in self._media_json(post).items() if key in fields | {"id"}})

    def _container_status(self, container: Container, params: dict[str, str]) -> _Reply:
        known = CONTAINER_FIELDS if self.reports_upload_progress else CONTAINER_FIELDS - {"video_status"}
        fields, problem = _fields(params, known, "ShadowIGMediaBuilder")
        if problem is not None:
            return problem
        status_code = self._status_code(container)
        status = STATUS_TEXT.get(status_code, f"Error: {self.processing_error}")
        received = len(container.data)
        uploading = "complete" if container.uploaded else "in_progress" if received else "not_started"
        processing = {"IN_PROGRESS": "in_progress", "ERROR": "error"}.get(status_code, "complete")
        answer: dict[str, Any] = {
            "id": container.id,
            "status_code": status_code,
            "status": status,
            "video_status": {
                "uploading_phase": {"status": uploading, "bytes_transferred": received},
                "processing_phase": {"status": processing if container.uploaded else "not_started"},
            },
            "copyright_check_status": {"status": "completed" if container.uploaded else "not_started"},
        }
        return _Reply(200, {key: value for key, value in answer.items() if key in fields | {"id"}})

    def _status_code(self, container: Container) -> str:
        """Advances processing by one poll (the way the platform finishes a video while the app keeps asking)."""
        if container.published:
            return "PUBLISHED"
        if self.now() - container.created_at > CONTAINER_TTL_S:
            return "EXPIRED"
        if not container.uploaded:
            return "IN_PROGRESS"
        container.polls_after_upload += 1
        if container.polls_after_upload <= self.processing_polls:
            return "IN_PROGRESS"
        return "ERROR" if self.processing_error else "FINISHED"

    def _publishing_limit(self, params: dict[str, str]) -> _Reply:
        fields, problem = _fields(params, {"quota_usage", "config"}, "ContentPublishingLimit")
        if problem is not None:
            return problem
        entry = {
            "quota_usage": self._quota_usage(),
            "config": {"quota_total": PUBLISH_QUOTA, "quota_duration": PUBLISH_WINDOW_S},
        }
        return _Reply(200, {"data": [{key: entry[key] for key in fields or {"quota_usage"}}]})

    def _quota_usage(self) -> int:
        window_start = self.now() - PUBLISH_WINDOW_S
        return self.quota_used_elsewhere + sum(1 for post in self.posts if post.created_at > window_start)

    def _media_publish(self, params: dict[str, str]) -> _Reply:
        creation_id = params.get("creation_id", "")
        if not creation_id:
            return _graph_error(400, 100, "The parameter creation_id is required.")
        container = self.containers.get(creation_id)
        if container is None:
            return _graph_error(400, 100, f"Invalid parameter: creation_id {creation_id} does not exist", subcode=33)
        if self._quota_usage() >= PUBLISH_QUOTA:
            return _graph_error(400, 9, "Application request limit reached", subcode=2207042)
        if container.published:
            return _graph_error(400, 100, "The media has already been published", subcode=2207001)
        expired = self.now() - container.created_at > CONTAINER_TTL_S
        if expired or not container.uploaded or container.polls_after_upload <= self.processing_polls:
            return _graph_error(400, 9007, "Media ID is not available", subcode=2207027)
        if self.processing_error:
            return _graph_error(400, 9007, "Media ID is not available", subcode=2207027)
        container.published = True
        post = Post(
            id=self._next_id(),
            container_id=container.id,
            caption=container.caption,
            created_at=self.now(),
            permalink=f"https://www.instagram.com/reel/{secrets.token_urlsafe(8)}/",
            video=bytes(container.data),
        )
        self.posts.append(post)
        return _Reply(200, {"id": post.id})

    def _media_list(self, params: dict[str, str]) -> _Reply:
        fields, problem = _fields(params, MEDIA_FIELDS, "Media")
        if problem is not None:
            return problem
        limit = int(params.get("limit") or 25)
        newest_first = sorted(self.posts, key=lambda post: post.created_at, reverse=True)[:limit]
        data = [
            {key: value for key, value in self._media_json(post).items() if key in fields | {"id"}}
            for post in newest_first
        ]
        return _Reply(200, {"data": data})

    def _insights(self, node: str, params: dict[str, str]) -> _Reply:
        """``GET /{media-id}/insights?metric=…``: one lifetime entry per metric asked for, in Graph's shape."""
        post = next((post for post in self.posts if post.id == node), None)
        if post is None:
            return _graph_error(
                400,
                100,
                f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded due to missing "
                "permissions, or does not support this operation",
                subcode=33,
            )
        metrics = [name.strip() for name in params.get("metric", "").split(",") if name.strip()]
        if not metrics:
            return _graph_error(400, 100, "(#100) The parameter metric is required")
        unknown = [name for name in metrics if name not in REEL_INSIGHTS]
        if unknown:
            message = (
                f"(#100) metric[{metrics.index(unknown[0])}] must be one of the following values: "
                f"{', '.join(REEL_INSIGHTS)}"
            )
            return _graph_error(400, 100, message)
        values = self.insights.get(post.id, {})
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": values.get(name, 0)}],
                "title": REEL_INSIGHTS[name],
                "description": f"The {REEL_INSIGHTS[name].lower()} of this reel.",
                "id": f"{post.id}/insights/{name}/lifetime",
            }
            for name in metrics
            if name not in values or values[name] is not None
        ]
        return _Reply(200, {"data": data})

    def _media_json(self, post: Post) -> dict[str, Any]:
        return {
            "id": post.id,
            "caption": post.caption,
            "media_type": "VIDEO",
            "media_product_type": "REELS",
            "permalink": post.permalink,
            "timestamp": datetime.fromtimestamp(post.created_at, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "username": USERNAME,
        }

    # --- rupload -------------------------------------------------------------------------------------------------

    def _upload(self, request: _Request) -> _Reply:
        self._upload_requests += 1
        parts = request.path.strip("/").split("/")
        container = self.containers.get(parts[2]) if len(parts) == 3 and parts[1] == API_VERSION else None
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("OAuth "):
            return _upload_error(401, "AuthenticationError", "Authorization header with an OAuth token is required")
        grant, problem = self._check_token(authorization.removeprefix("OAuth ").strip())
        if problem is not None or grant is None:
            return _upload_error(401, "AuthenticationError", "Invalid OAuth access token")
        if container is None:
            return _upload_error(400, "InvalidRequest", "Invalid upload id")
        offset_text, size_text = request.headers.get("offset"), request.headers.get("file_size")
        content_type = request.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
        offset = _int_or_none(offset_text)
        length = len(request.body)
        failing = self._failing_chunks.pop(self._upload_requests, None)
        self.chunks.append(Chunk(container.id, offset if offset is not None else -1, length, accepted=False))
        if failing is not None:
            return _upload_error(failing, "ServiceUnavailable", "Please retry your request later.", True)
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data", "application/json"):
            return _upload_error(400, "InvalidRequest", f"Content-Type {content_type} is not a binary upload")
        file_size = _int_or_none(size_text)
        if offset is None or offset < 0:
            return _upload_error(400, "InvalidRequest", "The offset header is required and must be a whole number")
        if file_size is None or file_size <= 0:
            return _upload_error(400, "InvalidRequest", "The file_size header is required and must be positive")
        if container.published or self.now() - container.created_at > CONTAINER_TTL_S:
            return _upload_error(400, "InvalidRequest", "The upload session is closed")
        if container.file_size is not None and file_size != container.file_size:
            return _upload_error(400, "InvalidRequest", f"file_size changed from {container.file_size} to {file_size}")
        if offset != len(container.data):
            return _upload_error(400, "InvalidRequest", f"Invalid offset {offset}: expected {len(container.data)}")
        if length == 0:
            return _upload_error(400, "InvalidRequest", "Empty upload body")
        if offset + length > file_size:
            return _upload_error(400, "InvalidRequest", f"Chunk of {length} bytes at {offset} overruns {file_size}")
        container.file_size = file_size
        container.data.extend(request.body)
        self.chunks[-1].accepted = True
        return _Reply(200, {"success": True, "message": "Upload successful."})

    def _next_id(self) -> str:
        return str(next(self._ids))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each keep-alive answer waits for a delayed ACK.
    disable_nagle_algorithm = True
    fake: FakeInstagram

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = _Request(method, split.path, dict(parse_qsl(split.query, keep_blank_values=True)), headers, body)
        reply = self.fake.handle(request)
        payload = json.dumps(reply.body).encode() if reply.body is not None else b""
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the token calls carry tokens in their query, which must not reach test output."""


def _graph_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    transient: bool = False,
    www_authenticate: str | None = None,
) -> _Reply:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    error["fbtrace_id"] = secrets.token_urlsafe(9)
    headers = {}
    if www_authenticate:
        headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "{www_authenticate}" "{message}"'
    return _Reply(status, {"error": error}, headers)


def _oauth_error(message: str, *, status: int = 400) -> _Reply:
    return _Reply(status, {"error_type": "OAuthException", "code": status, "error_message": message})


def _upload_error(status: int, kind: str, message: str, retriable: bool = False) -> _Reply:
    return _Reply(status, {"debug_info": {"retriable": retriable, "type": kind, "message": message}})


def _usage_header(call_count: int, regain_access_minutes: int) -> str:
    usage = {
        "type": "instagram",
        "call_count": call_count,
        "total_cputime": 1,
        "total_time": 1,
        "estimated_time_to_regain_access": regain_access_minutes,
    }
    return json.dumps({IG_USER_ID: [usage]})


def _fields(params: dict[str, str], known: set[str], node_type: str) -> tuple[set[str], _Reply | None]:
    fields = {name.strip() for name in params.get("fields", "").split(",") if name.strip()}
    unknown = sorted(fields - known)
    if unknown:
        message = f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type ({node_type})"
        return fields, _graph_error(400, 100, message)
    return fields, None


def _form_fields(request: _Request, *, json_allowed: bool = True) -> dict[str, str] | None:
    """The request's form (urlencoded, multipart as in the documentation's curl -F, or, where Graph takes one, a JSON
    object); None when the body is something else."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(request.body.decode(), keep_blank_values=True))
    if media_type == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + request.body)
        fields = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            if name:
                fields[str(name)] = part.get_payload(decode=True).decode()
        return fields
    if media_type == "application/json" and json_allowed:
        try:
            body = json.loads(request.body)
        except ValueError:
            return None
        return {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in body.items()}
    return None


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


@pytest.fixture(name="fake_instagram")
def fake_instagram_fixture() -> Iterator[FakeInstagram]:
    """A fresh fake Instagram served on 127.0.0.1 for one test."""
    fake = FakeInstagram()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
