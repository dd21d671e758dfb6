"""The one interface every platform adapter implements (YouTube, TikTok, Instagram, X)."""

from __future__ import annotations

from typing import Protocol

from clipped.progress import ProgressCallback
from clipped.publish.metadata import PlatformLimits
from clipped.publish.models import Platform, PostMetrics, PostRequest, PostResult, ResumeState, TokenGrant


class PlatformAdapter(Protocol):
    """Speaks one platform's documented HTTP protocol (httpx, base URLs configurable so tests use local fakes)."""

    platform: Platform
    limits: PlatformLimits
    # Whether the authorization-code flow takes a PKCE challenge on this platform.
    uses_pkce: bool

    def authorization_url(self, *, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        """Where to send the person who connects an account (state and challenge bound to their session)."""
        ...

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenGrant:
        """Trade the authorization code for tokens; fills ``account_id``/``display_name``."""
        ...

    def refresh(self, refresh_token: str) -> TokenGrant:
        """A fresh grant (platforms that rotate refresh tokens return the new one; keep it)."""
        ...

    def publish(
        self, request: PostRequest, access_token: str, resume: ResumeState, on_progress: ProgressCallback
    ) -> PostResult:
        """Upload and post ``request``; continue from ``resume`` where an earlier attempt stopped."""
        ...

    def fetch_status(self, post_id: str, access_token: str) -> PostResult:
        """The post's state as the platform reports it now."""
        ...

    def fetch_metrics(self, post_id: str, access_token: str) -> PostMetrics:
        """The post's lifetime counts from the platform's documented insights endpoint; a number the platform does
        not report for it is ``None`` (a deleted post: all ``None``)."""
        ...
