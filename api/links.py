"""Signed links for URLs a browser opens without headers: <video src>, <img src>, EventSource, the upload PUT.

A link names exactly one resource (one clip version's video or thumbnail, one job's event stream, one upload) and
expires soon, so the URL that lands in proxy logs and browser history opens nothing else and not for long. Access
tokens never go in URLs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

from api.tokens import LinkGrant, issue_link_token

MEDIA = "media"
EVENTS = "events"
UPLOAD = "upload"
DOWNLOAD = "download"
# Media link expiries are rounded up to this, so a page reloaded within it gets the same URLs (browser cache hits,
# players do not restart); a link is therefore valid between its TTL and TTL plus this.
MEDIA_ROUND_S = 300

MediaKind = Literal["video", "thumbnail"]


def clip_media_resource(clip_id: str, version: int, kind: MediaKind) -> str:
    return f"clip/{clip_id}/v{version}/{kind}"


def job_events_resource(job_id: str) -> str:
    return f"job/{job_id}/events"


def upload_resource(upload_id: str) -> str:
    return f"upload/{upload_id}"


def clip_download_resource(clip_id: str, version: int, format_id: str) -> str:
    return f"clip/{clip_id}/v{version}/download/{format_id}"


def job_export_resource(job_id: str) -> str:
    return f"job/{job_id}/export"


@dataclass(frozen=True)
class IssuedLink:
    url: str
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkIssuer:
    """Issues links on behalf of one caller: using a link later re-checks that caller's access to the resource."""

    secret: str
    user_id: str
    api_token_id: str | None
    media_ttl_s: int
    events_ttl_s: int

    def _token(self, resource: str, purpose: str, ttl_s: int, round_s: int = 1, now: datetime | None = None) -> str:
        grant = LinkGrant(resource=resource, user_id=self.user_id, api_token_id=self.api_token_id)
        return issue_link_token(grant, purpose, self.secret, ttl_s, round_s=round_s, now=now)

    def clip_media(self, clip_id: str, version: int, kind: MediaKind) -> str:
        token = self._token(clip_media_resource(clip_id, version, kind), MEDIA, self.media_ttl_s, MEDIA_ROUND_S)
        return f"/api/clips/{quote(clip_id)}/{kind}?version={version}&token={token}"

    def clip_download(self, clip_id: str, version: int, format_id: str) -> str:
        """A link that downloads one export of one clip version (a browser download cannot send headers)."""
        token = self._token(clip_download_resource(clip_id, version, format_id), DOWNLOAD, self.media_ttl_s)
        return f"/api/clips/{quote(clip_id)}/download/{quote(format_id)}?version={version}&token={token}"

    def job_export(self, job_id: str) -> str:
        """A link that downloads the zip of a job's approved clips."""
        token = self._token(job_export_resource(job_id), DOWNLOAD, self.media_ttl_s)
        return f"/api/jobs/{quote(job_id)}/export?token={token}"

    def job_events(self, job_id: str, now: datetime | None = None) -> IssuedLink:
        now = now or datetime.now(UTC)
        token = self._token(job_events_resource(job_id), EVENTS, self.events_ttl_s, now=now)
        expires_at = datetime.fromtimestamp(math.ceil(now.timestamp()) + self.events_ttl_s, UTC)  # as the token's
        return IssuedLink(url=f"/api/jobs/{quote(job_id)}/events?token={token}", token=token, expires_at=expires_at)
