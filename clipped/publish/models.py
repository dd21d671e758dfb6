"""What publishing passes around: token grants, a post to make, its result, the resumable state between tries, and
a post's engagement counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

Platform = Literal["youtube", "tiktok", "instagram", "x"]
PLATFORMS: tuple[Platform, ...] = ("youtube", "tiktok", "instagram", "x")
Privacy = Literal["public", "unlisted", "private"]
PostState = Literal["processing", "published", "failed"]


class TokenGrant(BaseModel):
    """Tokens from an OAuth token endpoint, with absolute expiry times (computed from ``expires_in`` on receipt).

    Secrets: never log, print or return this model; only the encrypted form is stored.
    """

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scope: str = ""
    # The platform's id and name of the account the grant is for (from the token response or a profile call).
    account_id: str = ""
    display_name: str = ""


class PostRequest(BaseModel):
    """One video to post, with its text already fitted to the platform (see :mod:`clipped.publish.metadata`)."""

    video_path: Path
    title: str
    caption: str
    privacy: Privacy = "public"
    # Stable per publication: a retry or a resumed attempt sends the same key, so the platform never sees two posts.
    idempotency_key: str


class PostResult(BaseModel):
    post_id: str
    url: str = ""
    state: PostState = "processing"
    detail: str = ""


class PostMetrics(BaseModel):
    """A post's lifetime engagement as the platform reports it at the time of asking.

    ``None`` means the platform does not report that number for this post (YouTube has no share count, a TikTok post
    without a public id has no counts at all): never 0, which would read as "nobody shared it". Values are taken as
    the platform gives them, unchecked: the engagement expectations judge them, so a bad answer is seen, not hidden.
    """

    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    avg_view_duration_s: float | None = None
    # The average share of the video watched (1.0: its whole length; a Short that loops passes 1.0).
    retention: float | None = None


class ResumeState(BaseModel):
    """Progress of one publication that must survive a crash: upload session URLs, ids, bytes acknowledged.

    Adapters call :meth:`checkpoint` after every step that the platform has acknowledged (a session opened, a chunk
    accepted, a container created, a post published) so that a new attempt continues instead of posting twice.
    """

    values: dict[str, Any] = Field(default_factory=dict)
    _on_checkpoint: Callable[[dict[str, Any]], None] | None = PrivateAttr(default=None)

    def bind(self, on_checkpoint: Callable[[dict[str, Any]], None]) -> ResumeState:
        self._on_checkpoint = on_checkpoint
        return self

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def checkpoint(self, **updates: Any) -> None:
        """Record ``updates`` and persist the whole state (before the next request is sent)."""
        self.values.update(updates)
        if self._on_checkpoint is not None:
            self._on_checkpoint(dict(self.values))


class PublishError(RuntimeError):
    """A publication attempt failed; ``retryable`` says whether trying again later can succeed."""

    retryable: bool = False

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RateLimitedError(PublishError):
    """429 (or a platform's quota answer): try again after ``retry_after_s``."""

    retryable = True


class PlatformUnavailableError(PublishError):
    """5xx or a dropped connection: try again with backoff."""

    retryable = True


class NeedsReconnectError(PublishError):
    """The grant is revoked or expired (invalid_grant, 401 after a refresh): a person must connect again."""


class PlatformRejectedError(PublishError):
    """A 4xx other than 429: the request itself is wrong (too long, bad format); retrying will not help."""
