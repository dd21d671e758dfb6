"""TikTok: Login Kit v2 (OAuth 2 with PKCE) and the Content Posting API's Direct Post with a chunked FILE_UPLOAD.

Steps of one post: query creator info (allowed privacy levels), initialise the post (a ``publish_id`` and an
``upload_url``), PUT the file chunk by chunk, poll the publish status until TikTok reports the outcome.

Exactly once: TikTok has no idempotency key, but a post only exists once its upload completes, so the adapter keeps
the ``publish_id`` and the acknowledged offset in :class:`ResumeState` and never initialises a second post while the
recorded one can still finish. A lost ``init`` response at worst leaves an empty upload session, which never posts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from clipped.progress import ProgressCallback
from clipped.publish.http import error_for, send_with_retries
from clipped.publish.metadata import LIMITS, PlatformLimits
from clipped.publish.models import (
    NeedsReconnectError,
    Platform,
    PlatformRejectedError,
    PostMetrics,
    PostRequest,
    PostResult,
    Privacy,
    ResumeState,
    TokenGrant,
)
from clipped.publish.oauth import expires_at

AUTH_BASE_URL = "https://www.tiktok.com"
API_BASE_URL = "https://open.tiktokapis.com"
WEB_BASE_URL = "https://www.tiktok.com"

AUTHORIZE_PATH = "/v2/auth/authorize/"
TOKEN_PATH = "/v2/oauth/token/"
USER_INFO_PATH = "/v2/user/info/"
CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
VIDEO_INIT_PATH = "/v2/post/publish/video/init/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
VIDEO_QUERY_PATH = "/v2/video/query/"
# The Video Object's counts (Display API); TikTok reports no saves, watch time or retention there.
METRIC_FIELDS = "id,view_count,like_count,comment_count,share_count"

# video.list: reading the account's own videos and their counts (engagement metrics).
SCOPES = "user.info.basic,video.publish,video.list"
JSON_CONTENT_TYPE = "application/json; charset=UTF-8"

# Media Transfer Guide: chunks of 5 MB to 64 MB, at most 1,000 of them; a file under 5 MB goes as one chunk. "MB" is
# not defined there, so the floor is read as MiB and the ceiling as decimal MB: a size inside both readings.
MIN_CHUNK_BYTES = 5 * 1024 * 1024
MAX_CHUNK_BYTES = 64 * 1000 * 1000
MAX_CHUNK_COUNT = 1000
DEFAULT_CHUNK_BYTES = 10 * 1024 * 1024

SELF_ONLY = "SELF_ONLY"
# Our privacy choice → TikTok levels in order of preference; a level is only ever as open as the one asked for.
PRIVACY_PREFERENCES: dict[Privacy, tuple[str, ...]] = {
    "public": ("PUBLIC_TO_EVERYONE", "FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", SELF_ONLY),
    "unlisted": ("MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", SELF_ONLY),
    "private": (SELF_ONLY,),
}

VIDEO_MIME_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm"}

# Publish statuses after which polling stops. SEND_TO_USER_INBOX belongs to the inbox flow: the creator finishes it.
DONE_STATUSES = {"PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED"}
UPLOAD_DONE_STATUSES = {"PROCESSING_DOWNLOAD", *DONE_STATUSES}


@dataclass(frozen=True)
class ChunkPlan:
    """How a file is cut for TikTok: ``count`` chunks of ``chunk_size``, the last one also taking the remainder."""

    video_size: int
    chunk_size: int
    count: int

    def byte_range(self, index: int) -> tuple[int, int]:
        """First and last byte (inclusive, as in ``Content-Range``) of chunk ``index``."""
        first = index * self.chunk_size
        last = self.video_size - 1 if index == self.count - 1 else first + self.chunk_size - 1
        return first, last

    def boundaries(self) -> set[int]:
        """Offsets at which an upload can stand between chunks (0, each chunk's end, the whole file)."""
        return {index * self.chunk_size for index in range(self.count)} | {self.video_size}


def plan_chunks(video_size: int, preferred_chunk_size: int = DEFAULT_CHUNK_BYTES) -> ChunkPlan:
    """The documented chunking for ``video_size`` bytes: one whole chunk under 5 MB, otherwise ``chunk_size`` within
    5–64 MB, ``total_chunk_count = floor(video_size / chunk_size)`` and at most 1,000 chunks."""
    if video_size <= 0:
        raise ValueError("an empty file cannot be uploaded")
    if video_size < MIN_CHUNK_BYTES:
        return ChunkPlan(video_size=video_size, chunk_size=video_size, count=1)
    chunk_size = min(max(preferred_chunk_size, MIN_CHUNK_BYTES), MAX_CHUNK_BYTES, video_size)
    # Ceiling division: the smallest chunk that keeps the count at or under 1,000.
    chunk_size = max(chunk_size, -(-video_size // MAX_CHUNK_COUNT))
    return ChunkPlan(video_size=video_size, chunk_size=chunk_size, count=video_size // chunk_size)


def choose_privacy_level(privacy: Privacy, options: list[str], *, audited: bool) -> str:
    """The TikTok privacy level for ``privacy`` among the creator's ``options``; ``SELF_ONLY`` for an unaudited app,
    whose posts TikTok restricts to private viewing."""
    wanted = (SELF_ONLY,) if not audited else PRIVACY_PREFERENCES[privacy]
    for level in wanted:
        if level in options:
            return level
    raise PlatformRejectedError(f"TikTok offers this creator none of the privacy levels {', '.join(wanted)}")


class TikTokAdapter:
    """The :class:`~clipped.publish.adapter.PlatformAdapter` for TikTok's Content Posting API (Direct Post)."""

    platform: Platform = "tiktok"
    limits: PlatformLimits = LIMITS["tiktok"]
    uses_pkce = True

    def __init__(
        self,
        client_key: str,
        client_secret: str,
        *,
        auth_base_url: str = AUTH_BASE_URL,
        api_base_url: str = API_BASE_URL,
        chunk_size: int = DEFAULT_CHUNK_BYTES,
        poll_interval_s: float = 5.0,
        poll_timeout_s: float = 600.0,
        audited: bool = False,
        attempts: int = 5,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client_key = client_key
        self._client_secret = client_secret
        self.auth_base_url = auth_base_url.rstrip("/")
        self.api_base_url = api_base_url.rstrip("/")
        self.chunk_size = chunk_size
        self.poll_interval_s = poll_interval_s
        self.poll_timeout_s = poll_timeout_s
        # Until TikTok audits the app, every post must be SELF_ONLY (Direct Post developer guidelines).
        self.audited = audited
        self.attempts = attempts
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=httpx.Timeout(60.0, write=300.0))
        self._sleep = sleep

    def close(self) -> None:
        """Close the HTTP client if this adapter made it."""
        if self._owns_client:
            self._client.close()

    # OAuth (Login Kit v2)

    def authorization_url(self, *, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        """TikTok's consent page for ``user.info.basic``, ``video.publish`` and ``video.list`` (the client goes as
        ``client_key``)."""
        params = {
            "client_key": self.client_key,
            "scope": SCOPES,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
        }
        if code_challenge:
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self.auth_base_url}{AUTHORIZE_PATH}?{urlencode(params)}"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        """Tokens for the authorization ``code``, with the account's ``open_id`` and display name."""
        form = {
            "client_key": self.client_key,
            "client_secret": self._client_secret,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        grant = self._token(form, "TikTok code exchange")
        user = self._api(
            "GET", USER_INFO_PATH, grant.access_token, "TikTok user info", params={"fields": "open_id,display_name"}
        ).get("user", {})
        return grant.model_copy(
            update={"account_id": user.get("open_id") or grant.account_id, "display_name": user.get("display_name", "")}
        )

    def refresh(self, refresh_token: str) -> TokenGrant:
        """A new grant; TikTok rotates the refresh token on every refresh, so the returned one replaces the old."""
        form = {
            "client_key": self.client_key,
            "client_secret": self._client_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        return self._token(form, "TikTok token refresh")

    def _token(self, form: dict[str, str], what: str) -> TokenGrant:
        response = send_with_retries(
            lambda: self._client.post(
                f"{self.api_base_url}{TOKEN_PATH}",
                data=form,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-cache"},
            ),
            what,
            attempts=self.attempts,
            sleep=self._sleep,
            # OAuth errors arrive in the body (some with HTTP 200); read them here rather than as generic 4xx.
            ok=lambda response: response.status_code < 500 and response.status_code != 429,
        )
        body = _json_object(response)
        error = body.get("error")
        if not response.is_success or error:
            message = str(error_for(response, what))
            if error == "invalid_client":
                # Our app's key or secret is wrong: reconnecting the account would not help.
                raise PlatformRejectedError(message)
            if error == "invalid_grant" or response.status_code == 401:
                raise NeedsReconnectError(message)
            raise PlatformRejectedError(message)
        if not body.get("access_token"):
            raise PlatformRejectedError(f"{what}: no access token in the response")
        return TokenGrant(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token"),
            expires_at=expires_at(body.get("expires_in")),
            refresh_expires_at=expires_at(body.get("refresh_expires_in")),
            scope=body.get("scope", ""),
            account_id=body.get("open_id", ""),
        )

    # Posting

    def publish(
        self, request: PostRequest, access_token: str, resume: ResumeState, on_progress: ProgressCallback
    ) -> PostResult:
        """Post ``request`` as a direct post, continuing from ``resume``: an upload session already opened is reused
        from the offset TikTok confirms, and a post already recorded is returned without any request."""
        _check_resume_matches(request, resume)
        if resume.get("published"):
            on_progress(1.0)
            return _result_from_resume(resume)
        resuming = resume.get("publish_id") is not None
        if not resuming:
            self._init_post(request, access_token, resume)
        if not resume.get("upload_complete"):
            failed = self._upload(request.video_path, access_token, resume, on_progress, resuming=resuming)
            if failed is not None:
                return failed
        on_progress(1.0)
        return self._wait_until_posted(access_token, resume)

    def fetch_status(self, post_id: str, access_token: str) -> PostResult:
        """The state of the post whose ``publish_id`` is ``post_id``."""
        status = self._status(post_id, access_token)
        public_ids = status.get("publicaly_available_post_id") or []
        username = ""
        if public_ids:
            creator = self._api("POST", CREATOR_INFO_PATH, access_token, "TikTok creator info")
            username = creator.get("creator_username", "")
        return _result_from_status(post_id, status, username)

    def fetch_metrics(self, post_id: str, access_token: str) -> PostMetrics:
        """Counts of the video from ``POST /v2/video/query/`` (``filters.video_ids``), which knows posts by their
        public id only: a ``publish_id`` is first turned into that id through the publish status. A post without
        one (private, or not through moderation yet) or missing from the answer has no counts (all None)."""
        video_id = post_id
        if not post_id.isdigit():
            public_ids = self._status(post_id, access_token).get("publicaly_available_post_id") or []
            if not public_ids:
                return PostMetrics()
            video_id = str(public_ids[0])
        data = self._api(
            "POST",
            VIDEO_QUERY_PATH,
            access_token,
            "TikTok video query",
            json_body={"filters": {"video_ids": [video_id]}},
            params={"fields": METRIC_FIELDS},
        )
        videos = [video for video in data.get("videos") or [] if isinstance(video, dict)]
        video = next((video for video in videos if str(video.get("id")) == video_id), None)
        if video is None:
            return PostMetrics()
        return PostMetrics(
            views=_count(video.get("view_count")),
            likes=_count(video.get("like_count")),
            comments=_count(video.get("comment_count")),
            shares=_count(video.get("share_count")),
        )

    def _init_post(self, request: PostRequest, access_token: str, resume: ResumeState) -> None:
        creator = self._api("POST", CREATOR_INFO_PATH, access_token, "TikTok creator info")
        privacy_level = choose_privacy_level(
            request.privacy, list(creator.get("privacy_level_options") or []), audited=self.audited
        )
        plan = plan_chunks(request.video_path.stat().st_size, self.chunk_size)
        body = {
            "post_info": {
                # TikTok has no separate title: its "title" is the caption shown under the video.
                "title": request.caption or request.title,
                "privacy_level": privacy_level,
                # The creator's own settings win: their app may have comments, duets or stitches switched off.
                "disable_comment": bool(creator.get("comment_disabled")),
                "disable_duet": bool(creator.get("duet_disabled")),
                "disable_stitch": bool(creator.get("stitch_disabled")),
            },
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": plan.video_size,
                "chunk_size": plan.chunk_size,
                "total_chunk_count": plan.count,
            },
        }
        data = self._api("POST", VIDEO_INIT_PATH, access_token, "TikTok post init", json_body=body)
        if not data.get("publish_id") or not data.get("upload_url"):
            raise PlatformRejectedError("TikTok post init: no publish_id or upload_url in the response")
        resume.checkpoint(
            idempotency_key=request.idempotency_key,
            publish_id=data["publish_id"],
            upload_url=data["upload_url"],
            video_size=plan.video_size,
            chunk_size=plan.chunk_size,
            chunk_count=plan.count,
            uploaded_bytes=0,
            privacy_level=privacy_level,
            creator_username=creator.get("creator_username", ""),
        )

    def _upload(
        self, video_path: Path, access_token: str, resume: ResumeState, on_progress: ProgressCallback, *, resuming: bool
    ) -> PostResult | None:
        """Send the chunks TikTok has not acknowledged; a failed post found on resuming is returned instead."""
        plan = ChunkPlan(
            video_size=resume.get("video_size"), chunk_size=resume.get("chunk_size"), count=resume.get("chunk_count")
        )
        if video_path.stat().st_size != plan.video_size:
            raise PlatformRejectedError("the file changed since its TikTok upload began; start a new publication")
        offset = int(resume.get("uploaded_bytes", 0))
        if resuming:
            status = self._status(resume.get("publish_id"), access_token)
            if status.get("status") == "FAILED":
                return _result_from_status(resume.get("publish_id"), status, resume.get("creator_username", ""))
            offset = _confirmed_offset(status, plan, offset)
            if offset != resume.get("uploaded_bytes"):
                resume.checkpoint(uploaded_bytes=offset)
        if offset >= plan.video_size:
            resume.checkpoint(uploaded_bytes=plan.video_size, upload_complete=True)
            return None
        on_progress(offset / plan.video_size)
        upload_url = resume.get("upload_url")
        content_type = VIDEO_MIME_TYPES.get(video_path.suffix.lower(), "video/mp4")
        # The offset stands between chunks (see _confirmed_offset), so it names the first chunk still to send.
        first_index = min(offset // plan.chunk_size, plan.count - 1)
        with video_path.open("rb") as video:
            for index in range(first_index, plan.count):
                first, last = plan.byte_range(index)
                video.seek(first)
                chunk = video.read(last - first + 1)
                is_last = index == plan.count - 1
                headers = {"Content-Type": content_type, "Content-Range": f"bytes {first}-{last}/{plan.video_size}"}
                response = send_with_retries(
                    lambda chunk=chunk, headers=headers: self._client.put(upload_url, content=chunk, headers=headers),
                    f"TikTok chunk {index + 1}/{plan.count} upload",
                    attempts=self.attempts,
                    sleep=self._sleep,
                    ok=lambda response: response.status_code in (201, 206),
                )
                if (response.status_code == 201) != is_last:
                    raise PlatformRejectedError(
                        f"TikTok chunk {index + 1}/{plan.count} upload: HTTP {response.status_code} out of turn"
                    )
                if is_last:
                    resume.checkpoint(uploaded_bytes=plan.video_size, upload_complete=True)
                else:
                    resume.checkpoint(uploaded_bytes=last + 1)
                on_progress((last + 1) / plan.video_size)
        return None

    def _wait_until_posted(self, access_token: str, resume: ResumeState) -> PostResult:
        publish_id = resume.get("publish_id")
        username = resume.get("creator_username", "")
        # Counted in polls rather than wall time so an injected no-op sleep still ends the loop.
        polls = max(1, int(self.poll_timeout_s / self.poll_interval_s) if self.poll_interval_s > 0 else 1)
        for poll in range(polls):
            status = self._status(publish_id, access_token)
            if status.get("status") in DONE_STATUSES:
                result = _result_from_status(publish_id, status, username)
                if result.state == "published":
                    public_ids = status.get("publicaly_available_post_id") or []
                    resume.checkpoint(
                        published=True,
                        public_post_id=str(public_ids[0]) if public_ids else "",
                        post_url=result.url,
                        detail=result.detail,
                    )
                return result
            if poll < polls - 1:
                self._sleep(self.poll_interval_s)
        return PostResult(post_id=publish_id, state="processing", detail="TikTok is still processing the post")

    def _status(self, publish_id: str, access_token: str) -> dict[str, Any]:
        return self._api(
            "POST", STATUS_PATH, access_token, "TikTok publish status", json_body={"publish_id": publish_id}
        )

    def _api(
        self,
        method: str,
        path: str,
        access_token: str,
        what: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One Content Posting / user API call; returns its ``data`` object, raises on any error code but ``ok``."""
        headers = {"Authorization": f"Bearer {access_token}"}
        if method == "POST":
            headers["Content-Type"] = JSON_CONTENT_TYPE
        content = None if json_body is None else json.dumps(json_body).encode("utf-8")
        response = send_with_retries(
            lambda: self._client.request(
                method, f"{self.api_base_url}{path}", headers=headers, params=params, content=content
            ),
            what,
            attempts=self.attempts,
            sleep=self._sleep,
        )
        body = _json_object(response)
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        if error.get("code", "ok") != "ok":
            raise PlatformRejectedError(f"{what}: {str(error.get('code'))[:100]}")
        data = body.get("data")
        return data if isinstance(data, dict) else {}


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _count(value: object) -> int | None:
    """A count as TikTok sends it (a number), or None when it is absent."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _confirmed_offset(status: dict[str, Any], plan: ChunkPlan, recorded: int) -> int:
    """Where the upload stands by TikTok's account: all of it once TikTok moved past uploading, else its
    ``uploaded_bytes`` when that falls between chunks, else what we recorded."""
    if status.get("status") in UPLOAD_DONE_STATUSES:
        return plan.video_size
    reported = status.get("uploaded_bytes")
    if isinstance(reported, int) and reported in plan.boundaries():
        return reported
    return recorded


def _result_from_status(publish_id: str, status: dict[str, Any], username: str) -> PostResult:
    state = status.get("status", "")
    if state == "FAILED":
        return PostResult(post_id=publish_id, state="failed", detail=str(status.get("fail_reason") or "failed"))
    if state == "PUBLISH_COMPLETE":
        public_ids = status.get("publicaly_available_post_id") or []
        # Only public posts get a public id, and only after moderation; a private post has no shareable URL.
        url = f"{WEB_BASE_URL}/@{username}/video/{public_ids[0]}" if public_ids and username else ""
        return PostResult(post_id=publish_id, url=url, state="published", detail=state)
    if state == "SEND_TO_USER_INBOX":
        return PostResult(post_id=publish_id, state="processing", detail="the creator finishes this post in TikTok")
    return PostResult(post_id=publish_id, state="processing", detail=state)


def _result_from_resume(resume: ResumeState) -> PostResult:
    return PostResult(
        post_id=resume.get("publish_id"),
        url=resume.get("post_url", ""),
        state="published",
        detail=resume.get("detail", "PUBLISH_COMPLETE"),
    )


def _check_resume_matches(request: PostRequest, resume: ResumeState) -> None:
    recorded = resume.get("idempotency_key")
    if recorded is not None and recorded != request.idempotency_key:
        raise ValueError("this resume state belongs to another publication")
