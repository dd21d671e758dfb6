"""A local TikTok for the tests: Login Kit v2 OAuth (auto-consent authorize, token endpoint with PKCE and rotating
refresh tokens), user info, and the Content Posting API's Direct Post (creator info, video init, chunked PUT upload,
publish status) and the Display API's video query (a video's counts by its public id), over plain HTTP on 127.0.0.1.

It enforces what TikTok documents: the Bearer header, JSON bodies, the chunk rules of the Media Transfer Guide,
SELF_ONLY for an unaudited client, 6 init requests per minute per token, and the v2 error shapes
(``{"data": {}, "error": {"code", "message", "log_id"}}``; OAuth: ``{"error", "error_description", "log_id"}``).
Tests steer it through the knobs on :class:`FakeTikTok` (queued 429s, a failing chunk, revoked grants, a post that
fails in processing, a clock).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

# Media Transfer Guide limits (MB read as MiB; the adapter stays inside both readings).
MIN_CHUNK = 5 * 1024 * 1024
MAX_CHUNK = 64 * 1024 * 1024
MAX_FINAL_CHUNK = 128 * 1024 * 1024
MAX_CHUNK_COUNT = 1000
TITLE_MAX_UTF16 = 2200
VIDEO_TYPES = {"video/mp4", "video/quicktime", "video/webm"}
KNOWN_SCOPES = {
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.upload",
    "video.publish",
}
ALL_PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
# Endpoints by the names the knobs use.
ENDPOINTS = ("authorize", "token", "user_info", "creator_info", "init", "upload", "status", "video_query")
# Fields of the Video Object the fake serves (Display API reference), and the most ids one query takes.
VIDEO_FIELDS = {"id", "create_time", "title", "video_description", "duration", "share_url", "view_count",
                "like_count", "comment_count", "share_count"}  # fmt: skip
COUNT_FIELDS = ("view_count", "like_count", "comment_count", "share_count")
MAX_QUERY_IDS = 20
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass
class FakeGrant:
    open_id: str
    scope: str
    access_token: str
    refresh_token: str
    access_expires_at: float
    refresh_expires_at: float
    revoked: bool = False


@dataclass
class FakePublish:
    """One ``video/init`` call: its upload session and where its publish status stands."""

    publish_id: str
    open_id: str
    upload_id: str
    upload_token: str
    title: str
    privacy_level: str
    video_size: int
    chunk_size: int
    chunk_count: int
    received: bytearray = field(default_factory=bytearray)
    next_chunk: int = 0
    polls_since_upload: int = 0
    status: str = "PROCESSING_UPLOAD"
    public_post_id: int | None = None
    fail_reason: str = ""

    def expected_range(self) -> tuple[int, int]:
        first = self.next_chunk * self.chunk_size
        last = self.video_size - 1 if self.next_chunk == self.chunk_count - 1 else first + self.chunk_size - 1
        return first, last

    @property
    def upload_complete(self) -> bool:
        return len(self.received) == self.video_size


@dataclass(frozen=True)
class ChunkPut:
    """A chunk PUT as the fake answered it (``status`` 206/201 accepted, anything else refused)."""

    publish_id: str
    first: int
    last: int
    status: int


@dataclass
class FakePost:
    """A video TikTok will post: the upload completed (the point after which it cannot be taken back)."""

    publish_id: str
    open_id: str
    title: str
    privacy_level: str
    video: bytes


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """A v2 API error: the HTTP status and the error code of TikTok's error table."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


class FakeTikTok:
    """The fake's state and knobs; :meth:`start` serves it on a free loopback port (``base_url``)."""

    def __init__(
        self,
        *,
        client_key: str = "clipped-test-key",
        client_secret: str = "clipped-test-secret",
        audited: bool = False,
        redirect_uris: set[str] | None = None,
        privacy_level_options: tuple[str, ...] = ALL_PRIVACY_LEVELS,
        init_limit_per_minute: int = 6,
        status_limit_per_minute: int = 30,
        processing_polls: int = 2,
        access_ttl_s: int = 24 * 3600,
        refresh_ttl_s: int = 365 * 24 * 3600,
        username: str = "clipped_creator",
        display_name: str = "Clipped Creator",
    ) -> None:
        self.client_key = client_key
        self.client_secret = client_secret
        self.audited = audited
        # None: any loopback redirect URI is registered (tests and the browser flow pick their own port).
        self.redirect_uris = redirect_uris
        self.privacy_level_options = privacy_level_options
        self.limits_per_minute = {"init": init_limit_per_minute, "status": status_limit_per_minute}
        # Status fetches after the upload completes that still report processing, before PUBLISH_COMPLETE.
        self.processing_polls = processing_polls
        # When set, processing ends in FAILED with this ``fail_reason`` (e.g. ``file_format_check_failed``).
        self.processing_fail_reason: str | None = None
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s
        self.username = username
        self.display_name = display_name
        self.open_id = "open-id-" + secrets.token_hex(6)

        self.grants: list[FakeGrant] = []
        self.codes: dict[str, dict[str, Any]] = {}
        self.publishes: dict[str, FakePublish] = {}
        self.posts: list[FakePost] = []
        self.chunk_puts: list[ChunkPut] = []
        # Every request's method and path with query, so a test can check no token travels in a URL.
        self.request_lines: list[str] = []
        self.init_calls = 0
        # Public post id → the Video Object's counts (set with set_video_counts; unset posts count 0).
        self.video_counts: dict[str, dict[str, int]] = {}

        self._lock = threading.RLock()
        self._clock_offset = 0.0
        self._queued_429: dict[str, deque[int]] = {name: deque() for name in ENDPOINTS}
        self._chunk_failures: dict[int, list[int]] = {}
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # Knobs

    def queue_rate_limits(self, endpoint: str, count: int, retry_after_s: int = 1) -> None:
        """The next ``count`` requests to ``endpoint`` get 429 ``rate_limit_exceeded`` with ``Retry-After``."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS}")
        with self._lock:
            self._queued_429[endpoint].extend([retry_after_s] * count)

    def fail_chunk(self, index: int, *, status: int = 500, times: int = 1) -> None:
        """The PUT of chunk ``index`` (0-based) answers ``status`` the next ``times`` times, without accepting it."""
        with self._lock:
            self._chunk_failures[index] = [status] * times

    def revoke_all_grants(self) -> None:
        """The user removed the app: every access and refresh token stops working."""
        with self._lock:
            for grant in self.grants:
                grant.revoked = True

    def advance_clock(self, seconds: float) -> None:
        """Move the fake's clock on (token expiry, rate-limit windows)."""
        with self._lock:
            self._clock_offset += seconds

    def issue_tokens(self, scope: str = "user.info.basic,video.publish") -> FakeGrant:
        """A copy of a new grant, as if the user had consented (tests that are not about OAuth start here)."""
        with self._lock:
            return replace(self._new_grant(scope))

    def now(self) -> float:
        return time.time() + self._clock_offset

    def add_published_post(self, *, public: bool = True, title: str = "Posted earlier #clipped") -> str:
        """A post that finished earlier (PUBLISH_COMPLETE; with a public id when ``public``); returns its
        ``publish_id``. ``publishes[publish_id].public_post_id`` is the id the video query knows it by."""
        with self._lock:
            publish_id = f"v_pub_file~v2-1.{secrets.randbelow(10**18)}"
            self.publishes[publish_id] = FakePublish(
                publish_id=publish_id,
                open_id=self.open_id,
                upload_id=secrets.token_hex(8),
                upload_token=secrets.token_urlsafe(16),
                title=title,
                privacy_level="PUBLIC_TO_EVERYONE" if public else "SELF_ONLY",
                video_size=0,
                chunk_size=0,
                chunk_count=0,
                status="PUBLISH_COMPLETE",
                public_post_id=7_000_000_000_000_000_000 + secrets.randbelow(10**15) if public else None,
            )
            return publish_id

    def set_video_counts(
        self, public_post_id: int | str, *, views: int = 0, likes: int = 0, comments: int = 0, shares: int = 0
    ) -> None:
        """What the video query reports for the post from now on."""
        with self._lock:
            counts = (views, likes, comments, shares)
            self.video_counts[str(public_post_id)] = dict(zip(COUNT_FIELDS, counts, strict=True))

    # Serving

    def start(self) -> None:
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-tiktok", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # Routing

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Response:
        parts = urlsplit(target)
        query = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            self.request_lines.append(f"{method} {target}")
            route = {
                ("GET", "/v2/auth/authorize/"): ("authorize", self._authorize),
                ("POST", "/v2/oauth/token/"): ("token", self._token),
                ("GET", "/v2/user/info/"): ("user_info", self._user_info),
                ("POST", "/v2/post/publish/creator_info/query/"): ("creator_info", self._creator_info),
                ("POST", "/v2/post/publish/video/init/"): ("init", self._video_init),
                ("PUT", "/upload/"): ("upload", self._upload_chunk),
                ("POST", "/v2/post/publish/status/fetch/"): ("status", self._status_fetch),
                ("POST", "/v2/video/query/"): ("video_query", self._video_query),
            }.get((method, parts.path))
            if route is None:
                return _api_error(ApiError(404, "invalid_params", f"no such endpoint: {method} {parts.path}"))
            name, handler = route
            if self._queued_429[name]:
                retry_after = {"Retry-After": str(self._queued_429[name].popleft())}
                message = "The API rate limit was exceeded."
                if name in ("authorize", "token"):
                    return _with_headers(_oauth_error(OAuthError(429, "rate_limit_exceeded", message)), retry_after)
                return _with_headers(_api_error(ApiError(429, "rate_limit_exceeded", message)), retry_after)
            try:
                return handler(query=query, headers=headers, body=body)
            except ApiError as error:
                return _with_headers(_api_error(error), error.headers)
            except OAuthError as error:
                return _oauth_error(error)

    # OAuth

    def _authorize(self, query: dict[str, str], **_: Any) -> _Response:
        if query.get("client_key") != self.client_key:
            raise OAuthError(400, "invalid_client", "client_key is unknown")
        redirect_uri = query.get("redirect_uri", "")
        if not self._redirect_uri_registered(redirect_uri):
            # Never redirect to an unregistered URI: TikTok shows an error page instead.
            raise OAuthError(400, "invalid_request", "redirect_uri is not registered for this app")
        if not query.get("state"):
            raise OAuthError(400, "invalid_request", "state is required")
        back = {"state": query["state"]}
        scopes = [scope for scope in query.get("scope", "").split(",") if scope]
        challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
        if query.get("response_type") != "code":
            back |= {"error": "unsupported_response_type", "error_description": "response_type must be code"}
        elif not scopes or not set(scopes) <= KNOWN_SCOPES:
            back |= {"error": "invalid_scope", "error_description": "scope is missing or unknown"}
        elif challenge is not None and method != "S256":
            back |= {"error": "invalid_request", "error_description": "code_challenge_method must be S256"}
        else:
            code = secrets.token_urlsafe(24)
            self.codes[code] = {
                "redirect_uri": redirect_uri,
                "scope": ",".join(scopes),
                "code_challenge": challenge,
                "expires_at": self.now() + 600,
            }
            back |= {"code": code, "scopes": ",".join(scopes)}
        return _Response(302, headers={"Location": f"{redirect_uri}?{urlencode(back)}"})

    def _redirect_uri_registered(self, uri: str) -> bool:
        if self.redirect_uris is not None:
            return uri in self.redirect_uris
        parts = urlsplit(uri)
        return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost")

    def _token(self, headers: dict[str, str], body: bytes, **_: Any) -> _Response:
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise OAuthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("client_key") != self.client_key or form.get("client_secret") != self.client_secret:
            raise OAuthError(401, "invalid_client", "Client key or secret is invalid.")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self._grant_for_code(form)
        elif grant_type == "refresh_token":
            grant = self._rotate(form)
        else:
            raise OAuthError(400, "unsupported_grant_type", "grant_type is not supported")
        return _json(200, _token_body(grant, self.now()))

    def _grant_for_code(self, form: dict[str, str]) -> FakeGrant:
        for required in ("code", "redirect_uri"):
            if not form.get(required):
                raise OAuthError(400, "invalid_request", f"{required} is required")
        # An authorization code works once, whatever the outcome.
        issued = self.codes.pop(form["code"], None)
        if issued is None or issued["expires_at"] < self.now():
            raise OAuthError(400, "invalid_grant", "Authorization code is expired or invalid.")
        if issued["redirect_uri"] != form["redirect_uri"]:
            raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization request.")
        if issued["code_challenge"] is not None:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != issued["code_challenge"]:
                raise OAuthError(400, "invalid_grant", "code_verifier does not match the code_challenge.")
        return self._new_grant(issued["scope"])

    def _rotate(self, form: dict[str, str]) -> FakeGrant:
        grant = next((g for g in self.grants if g.refresh_token == form.get("refresh_token")), None)
        if grant is None or grant.revoked or grant.refresh_expires_at < self.now():
            raise OAuthError(400, "invalid_grant", "Refresh token is invalid or expired.")
        # Rotation: a fresh pair; the refresh token just used stops working at once.
        grant.refresh_token = "rft." + secrets.token_urlsafe(24)
        grant.access_token = "act." + secrets.token_urlsafe(24)
        grant.access_expires_at = self.now() + self.access_ttl_s
        return grant

    def _new_grant(self, scope: str) -> FakeGrant:
        grant = FakeGrant(
            open_id=self.open_id,
            scope=scope,
            access_token="act." + secrets.token_urlsafe(24),
            refresh_token="rft." + secrets.token_urlsafe(24),
            access_expires_at=self.now() + self.access_ttl_s,
            refresh_expires_at=self.now() + self.refresh_ttl_s,
        )
        self.grants.append(grant)
        return grant

    # v2 API

    def _authorised(self, headers: dict[str, str], scope: str) -> FakeGrant:
        value = headers.get("authorization", "")
        token = value[len("Bearer ") :] if value.startswith("Bearer ") else ""
        grant = next((g for g in self.grants if g.access_token == token), None) if token else None
        if grant is None or grant.revoked or grant.access_expires_at < self.now():
            raise ApiError(401, "access_token_invalid", "The access token is invalid or not found in the request.")
        if scope not in grant.scope.split(","):
            raise ApiError(401, "scope_not_authorized", f"The user did not authorize the scope {scope}.")
        return grant

    def _json_body(self, headers: dict[str, str], body: bytes, *, required: bool = True) -> dict[str, Any]:
        if not headers.get("content-type", "").startswith("application/json"):
            raise ApiError(400, "invalid_params", "Content-Type must be application/json; charset=UTF-8")
        if not body and not required:
            return {}
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise ApiError(400, "invalid_params", "The request body is not valid JSON.") from exc
        if not isinstance(parsed, dict):
            raise ApiError(400, "invalid_params", "The request body must be a JSON object.")
        return parsed

    def _rate_limit(self, endpoint: str, token: str) -> None:
        limit = self.limits_per_minute.get(endpoint)
        if not limit:
            return
        window = self._windows.setdefault((endpoint, token), deque())
        now = self.now()
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= limit:
            retry_after = max(1, int(window[0] + 60 - now + 0.999))
            raise ApiError(
                429, "rate_limit_exceeded", "The API rate limit was exceeded.", {"Retry-After": str(retry_after)}
            )
        window.append(now)

    def _user_info(self, query: dict[str, str], headers: dict[str, str], **_: Any) -> _Response:
        grant = self._authorised(headers, "user.info.basic")
        fields = [name for name in query.get("fields", "").split(",") if name]
        if not fields:
            raise ApiError(400, "invalid_params", "fields is required")
        user = {"open_id": grant.open_id, "union_id": "union-" + grant.open_id, "display_name": self.display_name}
        return _api_ok({"user": {name: user[name] for name in fields if name in user}})

    def _creator_info(self, headers: dict[str, str], body: bytes, **_: Any) -> _Response:
        self._authorised(headers, "video.publish")
        self._json_body(headers, body, required=False)
        return _api_ok(
            {
                "creator_avatar_url": f"{self.base_url}/avatar.jpg",
                "creator_username": self.username,
                "creator_nickname": self.display_name,
                "privacy_level_options": list(self.privacy_level_options),
                "comment_disabled": False,
                "duet_disabled": False,
                "stitch_disabled": True,
                "max_video_post_duration_sec": 600,
            }
        )

    def _video_init(self, headers: dict[str, str], body: bytes, **_: Any) -> _Response:
        grant = self._authorised(headers, "video.publish")
        self._rate_limit("init", grant.access_token)
        self.init_calls += 1
        request = self._json_body(headers, body)
        post_info, source_info = request.get("post_info"), request.get("source_info")
        if not isinstance(post_info, dict) or not isinstance(source_info, dict):
            raise ApiError(400, "invalid_params", "post_info and source_info are required")
        title = post_info.get("title", "")
        if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > TITLE_MAX_UTF16:
            raise ApiError(400, "invalid_params", "title must be a string of at most 2200 UTF-16 units")
        privacy = post_info.get("privacy_level")
        if privacy not in self.privacy_level_options:
            raise ApiError(400, "privacy_level_option_mismatch", "privacy_level is not among the creator's options")
        if not self.audited and privacy != "SELF_ONLY":
            raise ApiError(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post with SELF_ONLY visibility.",
            )
        if source_info.get("source") != "FILE_UPLOAD":
            raise ApiError(400, "invalid_params", "this fake serves source FILE_UPLOAD only")
        video_size, chunk_size, count = _validate_chunking(source_info)
        publish_id = f"v_pub_file~v2-1.{secrets.randbelow(10**18)}"
        upload = FakePublish(
            publish_id=publish_id,
            open_id=grant.open_id,
            upload_id=secrets.token_hex(8),
            upload_token=secrets.token_urlsafe(16),
            title=title,
            privacy_level=privacy,
            video_size=video_size,
            chunk_size=chunk_size,
            chunk_count=count,
        )
        self.publishes[publish_id] = upload
        upload_url = (
            f"{self.base_url}/upload/?{urlencode({'upload_id': upload.upload_id, 'upload_token': upload.upload_token})}"
        )
        return _api_ok({"publish_id": publish_id, "upload_url": upload_url})

    def _upload_chunk(self, query: dict[str, str], headers: dict[str, str], body: bytes, **_: Any) -> _Response:
        upload = next((p for p in self.publishes.values() if p.upload_id == query.get("upload_id")), None)
        if upload is None:
            return _upload_error(404, "invalid_params", "upload_url not found")
        if query.get("upload_token") != upload.upload_token:
            return _upload_error(403, "invalid_params", "upload_token is invalid")
        if headers.get("content-type", "").split(";")[0].strip() not in VIDEO_TYPES:
            return _upload_error(
                400, "invalid_file_upload", "Content-Type must be video/mp4, video/quicktime or video/webm"
            )
        match = _CONTENT_RANGE.match(headers.get("content-range", ""))
        if match is None:
            return _upload_error(400, "invalid_params", "Content-Range must be bytes {first}-{last}/{total}")
        first, last, total = (int(group) for group in match.groups())
        if total != upload.video_size or last < first:
            return _upload_error(400, "invalid_params", "Content-Range does not describe this video")
        if int(headers.get("content-length", "-1")) != last - first + 1 or len(body) != last - first + 1:
            return _upload_error(400, "invalid_params", "Content-Length must equal the Content-Range's length")
        if upload.upload_complete or (first, last) != upload.expected_range():
            # Chunks go in order, each exactly chunk_size bytes, the last one taking the remainder.
            self.chunk_puts.append(ChunkPut(upload.publish_id, first, last, 416))
            return _upload_error(416, "invalid_params", "Content-Range does not match the next expected chunk")
        failures = self._chunk_failures.get(upload.next_chunk)
        if failures:
            status = failures.pop(0)
            self.chunk_puts.append(ChunkPut(upload.publish_id, first, last, status))
            return _upload_error(status, "internal_error", "injected upload failure")
        upload.received += body
        upload.next_chunk += 1
        if upload.upload_complete:
            self.posts.append(
                FakePost(upload.publish_id, upload.open_id, upload.title, upload.privacy_level, bytes(upload.received))
            )
            self.chunk_puts.append(ChunkPut(upload.publish_id, first, last, 201))
            return _Response(201)
        self.chunk_puts.append(ChunkPut(upload.publish_id, first, last, 206))
        return _Response(206, headers={"Content-Range": f"bytes 0-{len(upload.received) - 1}/{upload.video_size}"})

    def _status_fetch(self, headers: dict[str, str], body: bytes, **_: Any) -> _Response:
        grant = self._authorised(headers, "video.publish")
        self._rate_limit("status", grant.access_token)
        publish = self.publishes.get(self._json_body(headers, body).get("publish_id", ""))
        if publish is None or publish.open_id != grant.open_id:
            raise ApiError(400, "invalid_params", "publish_id is invalid")
        if publish.upload_complete and publish.status == "PROCESSING_UPLOAD":
            if publish.polls_since_upload >= self.processing_polls and self.processing_fail_reason:
                publish.status, publish.fail_reason = "FAILED", self.processing_fail_reason
            elif publish.polls_since_upload >= self.processing_polls:
                publish.status = "PUBLISH_COMPLETE"
                if publish.privacy_level == "PUBLIC_TO_EVERYONE":
                    publish.public_post_id = 7_000_000_000_000_000_000 + secrets.randbelow(10**15)
            publish.polls_since_upload += 1
        data: dict[str, Any] = {"status": publish.status, "uploaded_bytes": len(publish.received)}
        if publish.fail_reason:
            data["fail_reason"] = publish.fail_reason
        if publish.public_post_id is not None:
            # Sic: TikTok spells the field this way.
            data["publicaly_available_post_id"] = [publish.public_post_id]
        else:
            data["publicaly_available_post_id"] = []
        return _api_ok(data)

    def _video_query(self, query: dict[str, str], headers: dict[str, str], body: bytes, **_: Any) -> _Response:
        """``POST /v2/video/query/?fields=…`` with ``{"filters": {"video_ids": [...]}}``: the caller's own public
        videos among the ids (others are left out, as TikTok does), with the fields asked for."""
        grant = self._authorised(headers, "video.list")
        fields = [name for name in query.get("fields", "").split(",") if name]
        if not fields or not set(fields) <= VIDEO_FIELDS:
            raise ApiError(400, "invalid_params", "fields is required and must name Video Object fields")
        filters = self._json_body(headers, body).get("filters")
        video_ids = filters.get("video_ids") if isinstance(filters, dict) else None
        if not isinstance(video_ids, list) or not 1 <= len(video_ids) <= MAX_QUERY_IDS:
            raise ApiError(400, "invalid_params", f"filters.video_ids must hold 1 to {MAX_QUERY_IDS} ids")
        public = {
            str(publish.public_post_id): publish
            for publish in self.publishes.values()
            if publish.public_post_id is not None and publish.open_id == grant.open_id
        }
        videos = []
        for video_id in (str(video_id) for video_id in video_ids):
            publish = public.get(video_id)
            if publish is None:
                continue
            counts = self.video_counts.get(video_id, dict.fromkeys(COUNT_FIELDS, 0))
            video = {
                "id": video_id,
                "create_time": int(self.now()),
                "title": publish.title,
                "video_description": publish.title,
                "duration": 3,
                "share_url": f"https://www.tiktok.com/@{self.username}/video/{video_id}",
                **counts,
            }
            videos.append({name: value for name, value in video.items() if name in fields})
        return _api_ok({"videos": videos, "cursor": 0, "has_more": False})


def _validate_chunking(source_info: dict[str, Any]) -> tuple[int, int, int]:
    """The Media Transfer Guide's chunk restrictions; ``invalid_params`` for any breach."""
    values = [source_info.get(name) for name in ("video_size", "chunk_size", "total_chunk_count")]
    if not all(isinstance(value, int) and value > 0 for value in values):
        raise ApiError(400, "invalid_params", "video_size, chunk_size and total_chunk_count are required integers")
    video_size, chunk_size, count = values
    if video_size < MIN_CHUNK:
        if chunk_size != video_size or count != 1:
            raise ApiError(400, "invalid_params", "a video under 5 MB is uploaded whole: chunk_size = video_size")
        return video_size, chunk_size, count
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK or chunk_size > video_size:
        raise ApiError(400, "invalid_params", "chunk_size must be between 5 MB and 64 MB")
    if count != video_size // chunk_size:
        raise ApiError(400, "invalid_params", "total_chunk_count must be video_size / chunk_size rounded down")
    if not 1 <= count <= MAX_CHUNK_COUNT:
        raise ApiError(400, "invalid_params", "total_chunk_count must be between 1 and 1000")
    if video_size - (count - 1) * chunk_size > MAX_FINAL_CHUNK or (video_size > MAX_CHUNK and count < 2):
        raise ApiError(400, "invalid_params", "a video over 64 MB is uploaded in chunks; the last is at most 128 MB")
    return video_size, chunk_size, count


def _token_body(grant: FakeGrant, now: float) -> dict[str, Any]:
    return {
        "open_id": grant.open_id,
        "scope": grant.scope,
        "access_token": grant.access_token,
        "expires_in": round(grant.access_expires_at - now),
        "refresh_token": grant.refresh_token,
        "refresh_expires_in": round(grant.refresh_expires_at - now),
        "token_type": "Bearer",
    }


def _log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def _json(status: int, payload: dict[str, Any]) -> _Response:
    return _Response(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def _api_ok(data: dict[str, Any]) -> _Response:
    return _json(200, {"data": data, "error": {"code": "ok", "message": "", "log_id": _log_id()}})


def _api_error(error: ApiError) -> _Response:
    return _json(
        error.status, {"data": {}, "error": {"code": error.code, "message": error.message, "log_id": _log_id()}}
    )


def _upload_error(status: int, code: str, message: str) -> _Response:
    return _api_error(ApiError(status, code, message))


def _oauth_error(error: OAuthError) -> _Response:
    return _json(error.status, {"error": error.error, "error_description": error.description, "log_id": _log_id()})


def _with_headers(response: _Response, headers: dict[str, str]) -> _Response:
    response.headers.update(headers)
    return response


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeTikTok

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = self.headers.get("Content-Length")
        if length is None and self.command in ("POST", "PUT") and self.headers.get("Transfer-Encoding"):
            # Chunked bodies are not part of TikTok's upload protocol; refuse and close rather than parse them.
            self.close_connection = True
            self._send(_upload_error(400, "invalid_params", "Content-Length is required"))
            return
        # Read the whole body before answering, so a keep-alive connection never holds unread bytes.
        body = self.rfile.read(int(length)) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        self._send(self.fake.handle(self.command, self.path, headers, body))

    def _send(self, response: _Response) -> None:
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the tests assert on the fake's records instead."""


@pytest.fixture(name="fake_tiktok")
def fake_tiktok_fixture() -> Iterator[FakeTikTok]:
    """``fake_tiktok``: a fresh fake TikTok on a free loopback port for one test."""
    fake = FakeTikTok()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
