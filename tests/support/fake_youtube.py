"""A local fake of Google OAuth 2 and the YouTube Data API v3 (the parts Clipped uses), over plain HTTP on 127.0.0.1.

It speaks the documented shapes: the consent redirect and token endpoint (authorization code with PKCE, refresh,
``invalid_grant`` for a revoked/expired token), ``channels.list``, ``videos.list`` and the resumable
``videos.insert`` (session URL in ``Location``, chunks with ``Content-Range``, ``308 Resume Incomplete`` with
``Range``, 256 KiB chunk rule, status queries with ``bytes */total``, 404 for an expired session), Google's JSON
error body (``error.code``/``message``/``errors[].reason``/``status``), quota units (a 403 ``quotaExceeded`` past the
daily limit) and ``Retry-After`` on injected 429s.

Where the real service is lenient in ways Clipped never relies on, the fake is strict and says so: it requires
``state`` on the consent URL and ``X-Upload-Content-Length`` on the session request, and only implements
``uploadType=resumable``.

Tests use the :func:`fake_youtube` fixture (``from tests.support.fake_youtube import fake_youtube  # noqa: F401``)
and its knobs: :meth:`FakeYouTube.fail_next`, :meth:`FakeYouTube.fail_chunk`, :meth:`FakeYouTube.revoke_all`,
:meth:`FakeYouTube.expire_sessions`, ``quota_limit``, ``processing_polls``, ``processing_outcome``,
``unticked_scopes``; and its records: ``videos``, ``sessions``, ``chunks``, ``requests``. Engagement:
:meth:`FakeYouTube.add_video`, :meth:`FakeYouTube.set_statistics` (what ``videos.list`` with ``part=statistics``
reports) and :meth:`FakeYouTube.set_watch_time` (what the YouTube Analytics API's ``GET /v2/reports`` answers for a
``video==`` filter: no row until set, as for a video YouTube has not computed yet; the fake wants that filter).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"
READONLY_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"
YOUTUBE_SCOPE = "https://www.googleapis.com/auth/youtube"
FORCE_SSL_SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
ANALYTICS_SCOPE = "https://www.googleapis.com/auth/yt-analytics.readonly"
DATA_API_SCOPES = {UPLOAD_SCOPE, READONLY_SCOPE, YOUTUBE_SCOPE, FORCE_SSL_SCOPE}
KNOWN_SCOPES = DATA_API_SCOPES | {ANALYTICS_SCOPE}
# reports.query: an analytics scope, and (since 2024) youtube.readonly as well.
REPORT_SCOPES = {ANALYTICS_SCOPE, YOUTUBE_SCOPE}
REPORT_READ_SCOPES = {READONLY_SCOPE, YOUTUBE_SCOPE}
# Video metrics of a channel report: name → the column's data type.
REPORT_METRICS = {
    "views": "INTEGER",
    "estimatedMinutesWatched": "INTEGER",
    "averageViewDuration": "INTEGER",
    "averageViewPercentage": "FLOAT",
    "likes": "INTEGER",
    "comments": "INTEGER",
    "shares": "INTEGER",
}
REPORT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

CHUNK_MULTIPLE = 262144  # 256 KiB: every chunk but the last is at least this and should be a multiple of it
ACCESS_TOKEN_LIFETIME_S = 3599
DAILY_QUOTA = 10_000
QUOTA_COST = {"videos.insert": 1600, "videos.list": 1, "channels.list": 1}
ASSIGNABLE_CATEGORIES = {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
VIDEO_PARTS = {
    "contentDetails", "fileDetails", "id", "liveStreamingDetails", "localizations", "player", "processingDetails",
    "recordingDetails", "snippet", "statistics", "status", "suggestions", "topicDetails",
}  # fmt: skip

# Fault-injection names of the endpoints (for fail_next).
ENDPOINTS = ("authorize", "token", "channels.list", "videos.list", "videos.insert", "upload")

_CONTENT_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)")


@dataclass
class FakeGrant:
    """One consent: its refresh token and what it covers."""

    refresh_token: str | None
    client_id: str
    channel_id: str
    scopes: frozenset[str]
    revoked: bool = False


@dataclass
class FakeAccessToken:
    token: str
    grant: FakeGrant
    expires_at: float


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    code_challenge: str | None
    code_challenge_method: str
    issue_refresh_token: bool
    used: bool = False


@dataclass
class UploadSession:
    upload_id: str
    channel_id: str
    metadata: dict[str, Any]
    parts: list[str]
    total: int
    content_type: str
    received: bytearray = field(default_factory=bytearray)
    accepted_chunks: int = 0
    video_id: str | None = None
    expired: bool = False


@dataclass
class FakeVideo:
    id: str
    channel_id: str
    title: str
    description: str
    category_id: str
    privacy_status: str
    self_declared_made_for_kids: bool
    content: bytes
    polls_left: int
    outcome: str
    published_at: str
    upload_status: str = "uploaded"


@dataclass(frozen=True)
class ChunkRecord:
    """A PUT that carried bytes to an upload session, and what the fake answered."""

    upload_id: str
    start: int
    end: int
    size: int
    status: int


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    url: str  # path and query, as sent
    headers: dict[str, str]


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int | None
    reason: str
    persist: bool = False


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reason_phrase: str | None = None


class FakeYouTube:
    """State and rules of the fake service; the HTTP server in :func:`serve_fake_youtube` calls :meth:`handle`."""

    def __init__(
        self,
        *,
        client_id: str = "clipped-test.apps.googleusercontent.com",
        client_secret: str = "GOCSPX-clipped-test-secret",
        channel_title: str = "Clipped Test Channel",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.channel_id = "UC" + secrets.token_urlsafe(16)[:22]
        self.channel_title = channel_title
        self.base_url = ""
        # Knobs.
        self.registered_redirect_uris: set[str] = set()  # empty: any loopback URI (Google's rule for local apps)
        self.has_channel = True
        self.unticked_scopes: set[str] = set()  # scopes the person unticks on the consent page
        self.deny_consent = False
        self.quota_limit = DAILY_QUOTA
        self.processing_polls = 1  # videos.list calls that still see "uploaded" before the outcome
        self.processing_outcome = "processed"  # or "failed" / "rejected"
        # Records.
        self.quota_used = 0
        self.videos: dict[str, FakeVideo] = {}
        self.sessions: dict[str, UploadSession] = {}
        self.chunks: list[ChunkRecord] = []
        self.requests: list[RecordedRequest] = []
        self.grants: list[FakeGrant] = []
        self._codes: dict[str, AuthorizationCode] = {}
        self._access_tokens: dict[str, FakeAccessToken] = {}
        self._consented_clients: set[str] = set()
        self._faults: dict[str, list[_Fault]] = {}
        self._chunk_faults: dict[int, list[_Fault]] = {}
        # Video id → the statistics resource's counts; a count set to None is left out (hidden likes, comments off).
        self.statistics: dict[str, dict[str, int | None]] = {}
        # Video id → (averageViewDuration s, averageViewPercentage) a report answers; unset: no row yet.
        self.watch_time: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def adapter_urls(self) -> dict[str, str]:
        """The base-URL arguments that point a YouTube adapter at this fake (OAuth, Data API, Analytics API)."""
        return {
            "authorize_url": f"{self.base_url}/o/oauth2/v2/auth",
            "token_url": f"{self.base_url}/token",
            "api_base_url": self.base_url,
            "analytics_base_url": self.base_url,
        }

    # --- knobs -----------------------------------------------------------------------------------------------------

    def fail_next(
        self, endpoint: str, *, status: int = 429, times: int = 1, retry_after: int | None = None, reason: str = ""
    ) -> None:
        """Answer the next ``times`` calls to ``endpoint`` (one of :data:`ENDPOINTS`) with ``status``
        (and ``Retry-After`` when given) instead of serving them."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS}")
        default_reason = {429: "rateLimitExceeded", 403: "quotaExceeded"}.get(status, "backendError")
        self._faults.setdefault(endpoint, []).append(_Fault(status, times, retry_after, reason or default_reason))

    def fail_chunk(self, number: int, *, status: int = 503, times: int = 1, persist: bool = False) -> None:
        """Answer ``status`` to the next ``times`` data PUTs that would be a session's ``number``-th accepted chunk
        (1-based). ``persist``: the chunk is stored and only the answer is lost. 404/410: the session expires there."""
        fault = _Fault(status, times, None, "backendError", persist=persist)
        self._chunk_faults.setdefault(number, []).append(fault)

    def revoke_all(self) -> None:
        """The person removed the app's access (or the grants expired): access tokens stop working and
        refreshing answers ``invalid_grant``."""
        for grant in self.grants:
            grant.revoked = True

    def expire_sessions(self) -> None:
        """Every unfinished upload session expires (its URL then answers 404)."""
        for session in self.sessions.values():
            if session.video_id is None:
                session.expired = True

    def issue_tokens(self, scopes: set[str] | None = None) -> tuple[str, str]:
        """An (access token, refresh token) pair for the channel without the consent dance."""
        scopes = scopes or {UPLOAD_SCOPE, READONLY_SCOPE, ANALYTICS_SCOPE}
        grant = FakeGrant("1//" + secrets.token_urlsafe(32), self.client_id, self.channel_id, frozenset(scopes))
        self.grants.append(grant)
        return self._new_access_token(grant), str(grant.refresh_token)

    def add_video(self, title: str = "Already on the channel #Shorts") -> str:
        """A processed public video on the channel, as if uploaded earlier; returns its id."""
        with self._lock:
            video = FakeVideo(
                id=secrets.token_urlsafe(8)[:11],
                channel_id=self.channel_id,
                title=title,
                description="",
                category_id="22",
                privacy_status="public",
                self_declared_made_for_kids=False,
                content=b"",
                polls_left=0,
                outcome="processed",
                published_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                upload_status="processed",
            )
            self.videos[video.id] = video
            return video.id

    def set_statistics(
        self, video_id: str, *, views: int | None = 0, likes: int | None = 0, comments: int | None = 0
    ) -> None:
        """What ``part=statistics`` reports for ``video_id`` from now on (None: the count is left out)."""
        with self._lock:
            self.statistics[video_id] = {"viewCount": views, "likeCount": likes, "commentCount": comments}

    def set_watch_time(self, video_id: str, *, average_view_duration_s: int, average_view_percentage: float) -> None:
        """What a YouTube Analytics report says of ``video_id``'s watch time from now on."""
        with self._lock:
            self.watch_time[video_id] = (average_view_duration_s, average_view_percentage)

    # --- records ---------------------------------------------------------------------------------------------------

    def bytes_received(self) -> int:
        """Bytes carried by all chunk PUTs the fake accepted (a resent byte counts twice)."""
        return sum(chunk.size for chunk in self.chunks if chunk.status in (200, 201, 308))

    def bytes_sent(self) -> int:
        """Bytes carried by all chunk PUTs, whatever the answer (a resent byte counts twice)."""
        return sum(chunk.size for chunk in self.chunks)

    # --- HTTP ------------------------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Reply:
        """Serve one request (headers keyed in lower case)."""
        with self._lock:
            self.requests.append(RecordedRequest(method, target, dict(headers)))
            url = urlsplit(target)
            query = {key: values[-1] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
            route = {
                ("GET", "/o/oauth2/v2/auth"): ("authorize", self._authorize),
                ("POST", "/token"): ("token", self._token),
                ("GET", "/youtube/v3/channels"): ("channels.list", self._channels_list),
                ("GET", "/youtube/v3/videos"): ("videos.list", self._videos_list),
                ("POST", "/upload/youtube/v3/videos"): ("videos.insert", self._videos_insert),
                ("PUT", "/upload/youtube/v3/videos"): ("upload", self._upload_put),
                ("GET", "/v2/reports"): ("reports.query", self._reports_query),
            }.get((method, url.path))
            if route is None:
                return _text(404, "Not Found")
            endpoint, serve = route
            fault = self._take_fault(self._faults.get(endpoint, []))
            if fault is not None:
                return _fault_reply(fault)
            return serve(query, headers, body)

    @staticmethod
    def _take_fault(faults: list[_Fault]) -> _Fault | None:
        while faults:
            if faults[0].remaining > 0:
                faults[0].remaining -= 1
                return faults[0]
            faults.pop(0)
        return None

    # --- OAuth -----------------------------------------------------------------------------------------------------

    def _authorize(self, query: dict[str, str], _headers: dict[str, str], _body: bytes) -> _Reply:
        if query.get("client_id") != self.client_id:
            return _text(401, "Error 401: invalid_client\nThe OAuth client was not found.")
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_uri or not self._redirect_allowed(redirect_uri):
            return _text(400, "Error 400: redirect_uri_mismatch")
        if query.get("response_type") != "code":
            return _text(400, "Error 400: invalid_request\nRequired parameter is missing or invalid: response_type")
        requested = set(query.get("scope", "").split())
        if not requested:
            return _text(400, "Error 400: invalid_request\nMissing required parameter: scope")
        if requested - KNOWN_SCOPES:
            return _text(400, "Error 400: invalid_scope\nSome requested scopes were invalid.")
        state = query.get("state")
        if not state:
            return _text(400, "Error 400: invalid_request\nThis fake requires a state parameter.")
        challenge = query.get("code_challenge")
        method = query.get("code_challenge_method", "plain" if challenge else "")
        if challenge and method not in ("S256", "plain"):
            return _text(400, "Error 400: invalid_request\nInvalid code_challenge_method.")
        separator = "&" if "?" in redirect_uri else "?"
        if self.deny_consent:
            location = f"{redirect_uri}{separator}{urlencode({'error': 'access_denied', 'state': state})}"
            return _Reply(302, headers={"Location": location})
        offline = query.get("access_type") == "offline"
        # Google sends a refresh token on the first consent, and again only when prompt=consent forces a new one.
        first_consent = self.client_id not in self._consented_clients
        issue_refresh = offline and (first_consent or "consent" in query.get("prompt", "").split())
        self._consented_clients.add(self.client_id)
        scopes = frozenset(requested - self.unticked_scopes)
        code = "4/0A" + secrets.token_urlsafe(32)
        self._codes[code] = AuthorizationCode(
            code, self.client_id, redirect_uri, scopes, challenge, method, issue_refresh
        )
        params = {"state": state, "code": code, "scope": " ".join(sorted(scopes))}
        return _Reply(302, headers={"Location": f"{redirect_uri}{separator}{urlencode(params)}"})

    def _redirect_allowed(self, redirect_uri: str) -> bool:
        if self.registered_redirect_uris:
            return redirect_uri in self.registered_redirect_uris
        parts = urlsplit(redirect_uri)
        return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")

    def _token(self, _query: dict[str, str], headers: dict[str, str], body: bytes) -> _Reply:
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return _oauth_error(
                400, "invalid_request", "Invalid content type; expected application/x-www-form-urlencoded"
            )
        form = {key: values[-1] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        if not client_id:
            return _oauth_error(400, "invalid_request", "Missing required parameter: client_id")
        if client_id != self.client_id:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if client_secret != self.client_secret:
            return _oauth_error(401, "invalid_client", "Unauthorized")
        grant_type = form.get("grant_type")
        if not grant_type:
            return _oauth_error(400, "invalid_request", "Missing required parameter: grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(form)
        if grant_type == "refresh_token":
            return self._refresh(form)
        return _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _exchange_code(self, form: dict[str, str]) -> _Reply:
        for name in ("code", "redirect_uri"):
            if not form.get(name):
                return _oauth_error(400, "invalid_request", f"Missing required parameter: {name}")
        code = self._codes.get(form["code"])
        if code is None:
            return _oauth_error(400, "invalid_grant", "Malformed auth code.")
        if code.used:
            return _oauth_error(400, "invalid_grant", "Bad Request")
        if form["redirect_uri"] != code.redirect_uri:
            return _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        if code.code_challenge:
            verifier = form.get("code_verifier")
            if not verifier:
                return _oauth_error(400, "invalid_grant", "Missing code verifier.")
            if _challenge(verifier, code.code_challenge_method) != code.code_challenge:
                return _oauth_error(400, "invalid_grant", "Invalid code verifier.")
        code.used = True
        refresh_token = "1//" + secrets.token_urlsafe(32) if code.issue_refresh_token else None
        grant = FakeGrant(refresh_token, code.client_id, self.channel_id, code.scopes)
        self.grants.append(grant)
        answer: dict[str, Any] = {
            "access_token": self._new_access_token(grant),
            "expires_in": ACCESS_TOKEN_LIFETIME_S,
            "scope": " ".join(sorted(grant.scopes)),
            "token_type": "Bearer",
        }
        if refresh_token:
            answer["refresh_token"] = refresh_token
        return _json(200, answer)

    def _refresh(self, form: dict[str, str]) -> _Reply:
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            return _oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        grant = next((grant for grant in self.grants if grant.refresh_token == refresh_token), None)
        if grant is None or grant.revoked:
            return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        if grant.client_id != form.get("client_id", self.client_id):
            return _oauth_error(400, "unauthorized_client", "Unauthorized")
        # Google keeps the refresh token: the answer carries none.
        return _json(
            200,
            {
                "access_token": self._new_access_token(grant),
                "expires_in": ACCESS_TOKEN_LIFETIME_S,
                "scope": " ".join(sorted(grant.scopes)),
                "token_type": "Bearer",
            },
        )

    def _new_access_token(self, grant: FakeGrant) -> str:
        token = "ya29." + secrets.token_urlsafe(48)
        self._access_tokens[token] = FakeAccessToken(token, grant, time.time() + ACCESS_TOKEN_LIFETIME_S)
        return token

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is past its expiry."""
        for token in self._access_tokens.values():
            token.expires_at = 0.0

    def _authenticate(self, headers: dict[str, str], scopes: set[str]) -> FakeAccessToken | _Reply:
        authorization = headers.get("authorization", "")
        if not authorization:
            return _google_error(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie "
                "or other valid authentication credential.",
                "required",
                "Login Required.",
                domain="global",
                status="UNAUTHENTICATED",
                extra={"location": "Authorization", "locationType": "header"},
            )
        scheme, _, token = authorization.partition(" ")
        found = self._access_tokens.get(token) if scheme.lower() == "bearer" else None
        if found is None or found.grant.revoked or found.expires_at < time.time():
            return _google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential.",
                "authError",
                "Invalid Credentials",
                domain="global",
                status="UNAUTHENTICATED",
                extra={"location": "Authorization", "locationType": "header"},
            )
        if not found.grant.scopes & scopes:
            return _google_error(
                403,
                "Request had insufficient authentication scopes.",
                "insufficientPermissions",
                "Insufficient Permission",
                domain="global",
                status="PERMISSION_DENIED",
            )
        return found

    def _charge(self, method: str) -> _Reply | None:
        cost = QUOTA_COST[method]
        if self.quota_used + cost > self.quota_limit:
            return _google_error(
                403,
                'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started'
                '#quota">quota</a>.',
                "quotaExceeded",
                domain="youtube.quota",
                status="PERMISSION_DENIED",
            )
        self.quota_used += cost
        return None

    # --- Data API --------------------------------------------------------------------------------------------------

    def _channels_list(self, query: dict[str, str], headers: dict[str, str], _body: bytes) -> _Reply:
        auth = self._authenticate(headers, {READONLY_SCOPE, YOUTUBE_SCOPE, FORCE_SSL_SCOPE})
        if isinstance(auth, _Reply):
            return auth
        if not query.get("part"):
            return _required_parameter("part")
        if query.get("mine") != "true" and not query.get("id"):
            return _google_error(
                400,
                "No filter selected. Expected one of: mySubscribers, forUsername, categoryId, managedByMe, id, mine, "
                "forHandle",
                "missingRequiredParameter",
                domain="youtube.parameter",
            )
        if (quota := self._charge("channels.list")) is not None:
            return quota
        items = []
        if self.has_channel and (query.get("mine") == "true" or self.channel_id in query.get("id", "").split(",")):
            snippet = {"title": self.channel_title, "description": "", "customUrl": "@clippedtest",
                       "publishedAt": "2024-01-01T00:00:00Z", "thumbnails": {},
                       "localized": {"title": self.channel_title, "description": ""}}  # fmt: skip
            items.append({"kind": "youtube#channel", "etag": _etag(), "id": self.channel_id, "snippet": snippet})
        page = {"totalResults": len(items), "resultsPerPage": 5}
        return _json(200, {"kind": "youtube#channelListResponse", "etag": _etag(), "pageInfo": page, "items": items})

    def _videos_list(self, query: dict[str, str], headers: dict[str, str], _body: bytes) -> _Reply:
        auth = self._authenticate(headers, DATA_API_SCOPES)
        if isinstance(auth, _Reply):
            return auth
        if not query.get("part"):
            return _required_parameter("part")
        parts = query["part"].split(",")
        if set(parts) - VIDEO_PARTS:
            return _google_error(400, f"Unknown part: {query['part']}", "unknownPart", domain="youtube.part")
        if not query.get("id"):
            return _google_error(
                400,
                "No filter selected. Expected one of: myRating, id, chart",
                "missingRequiredParameter",
                domain="youtube.parameter",
            )
        if (quota := self._charge("videos.list")) is not None:
            return quota
        items = []
        for video_id in query["id"].split(","):
            video = self.videos.get(video_id)
            if video is None:
                continue
            if video.polls_left > 0:
                video.polls_left -= 1
            elif video.upload_status == "uploaded":
                video.upload_status = video.outcome
            items.append(self._video_resource(video, parts))
        page = {"totalResults": len(items), "resultsPerPage": len(items)}
        return _json(200, {"kind": "youtube#videoListResponse", "etag": _etag(), "items": items, "pageInfo": page})

    # --- Analytics API ---------------------------------------------------------------------------------------------

    def _reports_query(self, query: dict[str, str], headers: dict[str, str], _body: bytes) -> _Reply:
        """``GET /v2/reports`` of one channel's videos: one row of the asked metrics over the ``video==`` filter's
        videos, or no ``rows`` when YouTube has no figures for them yet."""
        auth = self._authenticate(headers, REPORT_SCOPES)
        if isinstance(auth, _Reply):
            return auth
        if not auth.grant.scopes & REPORT_READ_SCOPES:
            return _google_error(
                403, "Request had insufficient authentication scopes.", "insufficientPermissions",
                "Insufficient Permission", domain="global", status="PERMISSION_DENIED",
            )  # fmt: skip
        for name in ("ids", "startDate", "endDate", "metrics"):
            if not query.get(name):
                return _required_parameter(name)
        if query["ids"] not in ("channel==MINE", f"channel=={self.channel_id}"):
            return _google_error(403, "Forbidden", "forbidden", domain="global")
        start, end = query["startDate"], query["endDate"]
        if not (REPORT_DATE.fullmatch(start) and REPORT_DATE.fullmatch(end)) or start > end:
            return _google_error(400, "Invalid date range.", "badRequest", domain="global")
        metrics = query["metrics"].split(",")
        unknown = [name for name in metrics if name not in REPORT_METRICS]
        if unknown:
            message = f"Unknown identifier ({unknown[0]}) given in field parameters.metrics."
            return _google_error(400, message, "badRequest", domain="global")
        kind, _, video_ids = query.get("filters", "").partition("==")
        if kind != "video" or not video_ids:
            return _google_error(400, "The query is not supported by the fake.", "badRequest", domain="global")
        columns = [{"name": name, "columnType": "METRIC", "dataType": REPORT_METRICS[name]} for name in metrics]
        answer: dict[str, Any] = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": columns}
        watched = [self.watch_time[video_id] for video_id in video_ids.split(",") if video_id in self.watch_time]
        if len(watched) == 1:
            duration, percentage = watched[0]
            known = {"averageViewDuration": duration, "averageViewPercentage": percentage}
            answer["rows"] = [[known.get(name, 0) for name in metrics]]
        return _json(200, answer)

    def _video_resource(self, video: FakeVideo, parts: list[str]) -> dict[str, Any]:
        resource: dict[str, Any] = {"kind": "youtube#video", "etag": _etag(), "id": video.id}
        if "snippet" in parts:
            resource["snippet"] = {
                "publishedAt": video.published_at,
                "channelId": video.channel_id,
                "title": video.title,
                "description": video.description,
                "categoryId": video.category_id,
                "channelTitle": self.channel_title,
                "liveBroadcastContent": "none",
                "localized": {"title": video.title, "description": video.description},
            }
        if "status" in parts:
            status: dict[str, Any] = {
                "uploadStatus": video.upload_status,
                "privacyStatus": video.privacy_status,
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
                "madeForKids": video.self_declared_made_for_kids,
                "selfDeclaredMadeForKids": video.self_declared_made_for_kids,
            }
            if video.upload_status == "failed":
                status["failureReason"] = "codec"
            if video.upload_status == "rejected":
                status["rejectionReason"] = "duplicate"
            resource["status"] = status
        if "statistics" in parts:
            counts = self.statistics.get(video.id, {"viewCount": 0, "likeCount": 0, "commentCount": 0})
            # Google sends counts as decimal strings; favoriteCount is always 0 (deprecated), dislikes are private.
            statistics = {name: str(value) for name, value in counts.items() if value is not None}
            resource["statistics"] = {**statistics, "favoriteCount": "0"}
        if "processingDetails" in parts:
            processing = {"uploaded": "processing", "processed": "succeeded", "failed": "failed"}
            details: dict[str, Any] = {"processingStatus": processing.get(video.upload_status, "terminated")}
            if video.upload_status == "uploaded":
                details["processingProgress"] = {"partsTotal": "1000", "partsProcessed": "500", "timeLeftMs": "5000"}
            resource["processingDetails"] = details
        return resource

    def _videos_insert(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> _Reply:
        auth = self._authenticate(headers, {UPLOAD_SCOPE, YOUTUBE_SCOPE, FORCE_SSL_SCOPE})
        if isinstance(auth, _Reply):
            return auth
        if query.get("uploadType") != "resumable":
            return _google_error(400, "This fake implements uploadType=resumable only.", "invalid", domain="global")
        if not query.get("part"):
            return _required_parameter("part")
        parts = query["part"].split(",")
        if set(parts) - VIDEO_PARTS:
            return _google_error(400, f"Unknown part: {query['part']}", "unknownPart", domain="youtube.part")
        if not headers.get("content-type", "").startswith("application/json"):
            kind = headers.get("content-type", "none")
            return _google_error(400, f"Unsupported content with type: {kind}", "badContent", domain="global")
        try:
            metadata = json.loads(body or b"{}")
        except ValueError:
            return _google_error(400, "Parse Error", "parseError", domain="global")
        if not isinstance(metadata, dict):
            return _google_error(400, "Parse Error", "parseError", domain="global")
        length = headers.get("x-upload-content-length", "")
        if not length.isdigit() or int(length) == 0:
            return _google_error(
                400, "X-Upload-Content-Length must give the size of the video in bytes.", "badRequest", domain="global"
            )
        media_type = headers.get("x-upload-content-type", "application/octet-stream")
        if not (media_type.startswith("video/") or media_type == "application/octet-stream"):
            return _google_error(
                400,
                f"Media type '{media_type}' is not supported. Valid media types: [video/*, application/octet-stream]",
                "badContent",
                domain="global",
            )
        invalid = _invalid_video_metadata(metadata)
        if invalid is not None:
            return invalid
        if (quota := self._charge("videos.insert")) is not None:
            return quota
        upload_id = secrets.token_urlsafe(24)
        self.sessions[upload_id] = UploadSession(
            upload_id, auth.grant.channel_id, metadata, parts, int(length), media_type
        )
        params = urlencode({"uploadType": "resumable", "upload_id": upload_id, "part": query["part"]})
        location = f"{self.base_url}/upload/youtube/v3/videos?{params}"
        return _Reply(200, headers={"Location": location, "X-GUploader-UploadID": upload_id})

    def _upload_put(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> _Reply:
        session = self.sessions.get(query.get("upload_id", ""))
        if session is None or session.expired:
            return _text(404, "Not Found")
        auth = self._authenticate(headers, {UPLOAD_SCOPE, YOUTUBE_SCOPE, FORCE_SSL_SCOPE})
        if isinstance(auth, _Reply):
            return auth
        content_range = headers.get("content-range")
        if content_range is None:
            if session.received or len(body) != session.total:
                return _text(400, "Failed to parse Content-Range header.")
            content_range = f"bytes 0-{len(body) - 1}/{session.total}"
        match = _CONTENT_RANGE.fullmatch(content_range.strip())
        if match is None or match.group(3) == "*":
            return _text(400, "Failed to parse Content-Range header.")
        if int(match.group(3)) != session.total:
            return _text(400, f"Invalid request. The total size {match.group(3)} differs from X-Upload-Content-Length.")
        if session.video_id is not None:
            return _json(200, self._video_resource(self.videos[session.video_id], session.parts))
        if match.group(1) is None:  # bytes */total: a status query
            if body:
                return _text(400, "Invalid request. A status query (bytes */total) carries no body.")
            return self._resume_incomplete(session)
        start, end = int(match.group(1)), int(match.group(2))
        if end < start or end >= session.total or end - start + 1 != len(body):
            return _text(400, "Invalid request. The Content-Range header does not match the request body.")
        if start > len(session.received):
            return self._record_chunk(
                session,
                start,
                end,
                _text(
                    400, f"Invalid request. The upload has {len(session.received)} bytes; this chunk starts at {start}."
                ),
            )
        final = end + 1 == session.total
        if not final and len(body) < CHUNK_MULTIPLE:
            message = (
                f"Invalid request.  The number of bytes uploaded is required to be equal or greater than "
                f"{CHUNK_MULTIPLE}, except for the final request (it's recommended to be the exact multiple of "
                f"{CHUNK_MULTIPLE}).  The received request contained {len(body)} bytes, which does not meet this "
                "requirement."
            )
            return self._record_chunk(session, start, end, _text(400, message))
        fault = self._take_fault(self._chunk_faults.get(session.accepted_chunks + 1, []))
        if fault is not None and fault.status in (404, 410):
            session.expired = True
            return self._record_chunk(session, start, end, _text(fault.status, "Not Found"))
        if fault is not None and not fault.persist:
            return self._record_chunk(session, start, end, _fault_reply(fault))
        # Bytes already persisted are skipped; a non-final chunk persists only up to a 256 KiB boundary.
        keep_until = session.total if final else (end + 1) // CHUNK_MULTIPLE * CHUNK_MULTIPLE
        if keep_until > len(session.received):
            session.received += body[len(session.received) - start : keep_until - start]
        session.accepted_chunks += 1
        complete = len(session.received) == session.total
        video = self._create_video(session) if complete else None
        if fault is not None:  # stored, but the answer is lost on the way back
            return self._record_chunk(session, start, end, _fault_reply(fault))
        if video is None:
            return self._record_chunk(session, start, end, self._resume_incomplete(session))
        return self._record_chunk(session, start, end, _json(201, self._video_resource(video, session.parts)))

    def _record_chunk(self, session: UploadSession, start: int, end: int, reply: _Reply) -> _Reply:
        self.chunks.append(ChunkRecord(session.upload_id, start, end, end - start + 1, reply.status))
        return reply

    @staticmethod
    def _resume_incomplete(session: UploadSession) -> _Reply:
        headers = {"Range": f"bytes=0-{len(session.received) - 1}"} if session.received else {}
        return _Reply(308, headers=headers, reason_phrase="Resume Incomplete")

    def _create_video(self, session: UploadSession) -> FakeVideo:
        snippet = session.metadata.get("snippet") or {}
        status = session.metadata.get("status") or {}
        video = FakeVideo(
            id=secrets.token_urlsafe(8)[:11],
            channel_id=session.channel_id,
            title=str(snippet.get("title", "")),
            description=str(snippet.get("description", "")),
            category_id=str(snippet.get("categoryId", "22")),
            privacy_status=str(status.get("privacyStatus", "public")),
            self_declared_made_for_kids=bool(status.get("selfDeclaredMadeForKids", False)),
            content=bytes(session.received),
            polls_left=self.processing_polls,
            outcome=self.processing_outcome,
            published_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        self.videos[video.id] = video
        session.video_id = video.id
        return video


def _invalid_video_metadata(metadata: dict[str, Any]) -> _Reply | None:
    """The videos.insert errors for a bad snippet/status (title, description, category, privacy)."""
    snippet = metadata.get("snippet")
    title = snippet.get("title") if isinstance(snippet, dict) else None
    if not isinstance(title, str) or not title.strip() or len(title) > 100 or any(c in title for c in "<>"):
        return _google_error(
            400,
            "The request metadata specifies an invalid or empty video title.",
            "invalidTitle",
            domain="youtube.video",
        )
    description = snippet.get("description", "")
    if not isinstance(description, str) or len(description.encode()) > 5000 or any(c in description for c in "<>"):
        return _google_error(
            400,
            "The request metadata specifies an invalid video description.",
            "invalidDescription",
            domain="youtube.video",
        )
    category = snippet.get("categoryId")
    if category is not None and str(category) not in ASSIGNABLE_CATEGORIES:
        return _google_error(
            400, "The video category specified is invalid.", "invalidCategoryId", domain="youtube.video"
        )
    status = metadata.get("status") or {}
    if not isinstance(status, dict) or status.get("privacyStatus", "public") not in ("public", "private", "unlisted"):
        return _google_error(400, "The request metadata is invalid.", "invalidVideoMetadata", domain="youtube.video")
    if not isinstance(status.get("selfDeclaredMadeForKids", False), bool):
        return _google_error(400, "The request metadata is invalid.", "invalidVideoMetadata", domain="youtube.video")
    return None


def _challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _etag() -> str:
    return secrets.token_urlsafe(20)


def _json(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(
        status,
        json.dumps(payload).encode(),
        {"Content-Type": "application/json; charset=UTF-8", **(headers or {})},
    )


def _text(status: int, message: str) -> _Reply:
    return _Reply(status, message.encode(), {"Content-Type": "text/plain; charset=utf-8"})


def _oauth_error(status: int, error: str, description: str) -> _Reply:
    return _json(status, {"error": error, "error_description": description})


_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}  # fmt: skip


def _google_error(
    code: int,
    message: str,
    reason: str,
    item_message: str | None = None,
    *,
    domain: str,
    status: str | None = None,
    extra: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> _Reply:
    """Google's API error body:
    ``{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}``."""
    item = {"message": item_message or message, "domain": domain, "reason": reason, **(extra or {})}
    error = {"code": code, "message": message, "errors": [item], "status": status or _STATUS_NAMES.get(code, "UNKNOWN")}
    return _json(code, {"error": error}, headers)


def _required_parameter(name: str) -> _Reply:
    return _google_error(
        400,
        f"Required parameter: {name}",
        "required",
        domain="global",
        extra={"location": name, "locationType": "parameter"},
    )


def _fault_reply(fault: _Fault) -> _Reply:
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    messages = {429: "Resource has been exhausted (e.g. check quota).", 403: "The request cannot be completed."}
    message = messages.get(fault.status, "Backend Error")
    domain = "youtube.quota" if fault.reason == "quotaExceeded" else "global"
    return _google_error(fault.status, message, fault.reason, domain=domain, headers=headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _FakeServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        reply = self.server.fake.handle(self.command, self.path, headers, body)
        self.send_response(reply.status, reply.reason_phrase)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body:
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``FakeYouTube.requests`` instead."""


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeYouTube) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


def serve_fake_youtube(fake: FakeYouTube) -> tuple[_FakeServer, threading.Thread]:
    """Start ``fake`` on a free loopback port (sets ``fake.base_url``); stop it with ``server.shutdown()``."""
    server = _FakeServer(fake)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-youtube", daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def fake_youtube() -> Iterator[FakeYouTube]:
    """A fresh fake YouTube (OAuth, Data API, uploads) for one test, served at ``fake_youtube.base_url``."""
    fake = FakeYouTube()
    server, thread = serve_fake_youtube(fake)
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
