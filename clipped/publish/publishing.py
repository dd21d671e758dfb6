"""One publication attempt, end to end: lease, account health and quota, a fresh token, the upload, the outcome.

Exactly once: the publication holds a lease while an attempt runs, the adapter checkpoints every acknowledged step
into the publication's resume state before taking the next, and a new attempt resumes from that state, so a crash
or retry never posts twice. Failures are sorted: rate limits and platform outages wait (Retry-After, exponential
backoff), a revoked grant marks the account for reconnection, anything the platform refuses fails for good.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from clipped.progress import ProgressCallback, no_progress
from clipped.publish.adapter import PlatformAdapter
from clipped.publish.metadata import PostTooLargeError, check_media
from clipped.publish.models import (
    NeedsReconnectError,
    Platform,
    PostRequest,
    PublishError,
    RateLimitedError,
    ResumeState,
    TokenGrant,
)
from clipped.publish.records import Account, Publication, PublishingStore, utcnow
from clipped.publish.schedule import QUOTA_POOL, UNITS_PER_POST, next_quota_reset, quota_allows, quota_day
from clipped.publish.token_vault import TokenVault
from clipped.storage import Storage

LEASE = timedelta(minutes=30)
REFRESH_MARGIN = timedelta(minutes=10)
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=15)
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=6)


def publish_publication(
    publication_id: str,
    *,
    store: PublishingStore,
    vault: TokenVault,
    adapters: Mapping[Platform, PlatformAdapter],
    media: Storage,
    owner: str,
    clock: Callable[[], datetime] = utcnow,
    on_progress: ProgressCallback = no_progress,
) -> Publication:
    """Run one attempt of ``publication_id``; return the publication as stored afterwards.

    ``owner`` names this attempt (a Dagster run id): only the lease holder may write progress.
    """
    now = clock()
    publication = store.claim_publication(publication_id, owner, now, now + LEASE)
    if publication is None:
        current = store.get_publication(publication_id)
        if current is None:
            raise LookupError(f"no publication {publication_id}")
        return current
    account = store.get_account(publication.account_id)
    if account is None:
        return _finish(store, publication, status="failed", error="the account was disconnected")
    if account.health in ("needs_reconnect", "disabled"):
        return _finish(store, publication, status="failed", error=f"account {account.display_name} is {account.health}")
    if account.rate_limited_until and account.rate_limited_until > now:
        return _defer(store, publication, until=account.rate_limited_until, error="account is rate-limited")
    today = quota_day(account.platform, now).isoformat()
    used_today = quota_used_today(store, account, today)
    if not quota_allows(account.platform, used_today):
        return _defer(store, publication, until=next_quota_reset(account.platform, now), error="daily quota used up")
    adapter = adapters[account.platform]
    try:
        check_media(account.platform, publication.duration_s, media.size(publication.video_key))
        grant = fresh_grant(account, store, vault, adapter, now)
        resume = ResumeState(values=dict(publication.resume)).bind(
            lambda values: store.save_resume(publication.id, owner, values)
        )
        with media.local_path(publication.video_key) as video:
            request = PostRequest(
                video_path=video,
                title=publication.title,
                caption=publication.caption,
                privacy=publication.privacy,
                idempotency_key=publication.idempotency_key,
            )
            result = adapter.publish(request, grant.access_token, resume, on_progress)
    except NeedsReconnectError as exc:
        _mark_account(store, account, health="needs_reconnect", detail=str(exc))
        return _finish(store, publication, status="failed", error=f"account needs reconnect: {exc}")
    except RateLimitedError as exc:
        wait = timedelta(seconds=exc.retry_after_s) if exc.retry_after_s else DEFAULT_RATE_LIMIT_WAIT
        _mark_account(store, account, health="rate_limited", detail=str(exc), until=now + wait)
        return _retry_later(store, publication, now, exc, minimum=wait)
    except PublishError as exc:
        if exc.retryable:
            return _retry_later(store, publication, now, exc)
        return _finish(store, publication, status="failed", error=str(exc))
    except PostTooLargeError as exc:
        return _finish(store, publication, status="failed", error=str(exc))
    account = store.get_account(account.id) or account
    # The upload spent the units whatever became of the post; the counter is this account's share of the pool.
    account.quota_day, account.quota_used = today, units_spent(account, today) + UNITS_PER_POST[account.platform]
    account.last_post_at, account.health, account.health_detail = clock(), "active", ""
    account.rate_limited_until = None
    store.save_account(account)
    stored = _latest(store, publication)
    stored.post_id, stored.post_url = result.post_id, result.url
    if result.state == "failed":
        # The platform took the upload and then refused the post (moderation, a file it could not process): trying
        # again would upload the same file to the same answer, so it fails for good with the platform's reason.
        return _close(store, stored, status="failed", error=f"{account.platform} refused the post: {result.detail}")
    stored.published_at = clock()
    return _close(store, stored, status="published", error="")


def units_spent(account: Account, today: str) -> int:
    """Units this account itself spent on ``today`` (its counter belongs to the day it was last written)."""
    return account.quota_used if account.quota_day == today else 0


def quota_used_today(store: PublishingStore, account: Account, today: str) -> int:
    """Units of the platform's daily allowance already spent on ``today``. YouTube's 10,000 units belong to our
    Google Cloud project, so every connected channel draws on one pool; Instagram's 50 posts are per account."""
    if QUOTA_POOL[account.platform] == "account":
        return units_spent(account, today)
    return sum(
        other.quota_used
        for other in store.all_accounts()
        if other.platform == account.platform and other.quota_day == today
    )


def fresh_grant(
    account: Account, store: PublishingStore, vault: TokenVault, adapter: PlatformAdapter, now: datetime
) -> TokenGrant:
    """The account's grant, refreshed first when it expires within :data:`REFRESH_MARGIN` (rotated refresh tokens
    are stored at once: the old one no longer works)."""
    grant = vault.open(account.sealed_grant)
    if grant.expires_at is None or grant.expires_at - now > REFRESH_MARGIN:
        return grant
    if not grant.refresh_token:
        raise NeedsReconnectError("the access token expired and there is no refresh token")
    refreshed = adapter.refresh(grant.refresh_token)
    return store_grant(store, vault, account, refreshed, now)


def store_grant(
    store: PublishingStore, vault: TokenVault, account: Account, grant: TokenGrant, now: datetime
) -> TokenGrant:
    """Seal ``grant`` into ``account`` (keeping the old refresh token when the platform sent none)."""
    if not grant.refresh_token:
        grant = grant.model_copy(update={"refresh_token": vault.open(account.sealed_grant).refresh_token})
    account.sealed_grant = vault.seal(grant)
    account.access_expires_at, account.refresh_expires_at = grant.expires_at, grant.refresh_expires_at
    account.token_obtained_at = now
    store.save_account(account)
    return grant


def _mark_account(
    store: PublishingStore, account: Account, *, health: str, detail: str, until: datetime | None = None
) -> None:
    current = store.get_account(account.id) or account
    current.health, current.health_detail, current.rate_limited_until = health, detail[:300], until  # type: ignore[assignment]
    store.save_account(current)


def _retry_later(
    store: PublishingStore,
    publication: Publication,
    now: datetime,
    error: PublishError,
    minimum: timedelta = timedelta(0),
) -> Publication:
    stored = _latest(store, publication)
    stored.attempts += 1
    if stored.attempts >= MAX_ATTEMPTS:
        return _close(store, stored, status="failed", error=f"gave up after {stored.attempts} attempts: {error}")
    backoff = min(MAX_BACKOFF, timedelta(minutes=2**stored.attempts))
    stored.next_attempt_at = now + max(backoff, minimum, timedelta(seconds=error.retry_after_s or 0))
    return _close(store, stored, status="scheduled", error=str(error))


def _defer(store: PublishingStore, publication: Publication, *, until: datetime, error: str) -> Publication:
    stored = _latest(store, publication)
    stored.next_attempt_at = until
    return _close(store, stored, status="scheduled", error=error)


def _finish(store: PublishingStore, publication: Publication, *, status: str, error: str) -> Publication:
    return _close(store, _latest(store, publication), status=status, error=error)


def _latest(store: PublishingStore, publication: Publication) -> Publication:
    """The stored row (with the resume state the adapter saved during the attempt)."""
    return store.get_publication(publication.id) or publication


def _close(store: PublishingStore, stored: Publication, *, status: str, error: str) -> Publication:
    """End the attempt: set the outcome and give the lease back."""
    stored.status, stored.error = status, error[:500]  # type: ignore[assignment]
    stored.lease_owner, stored.lease_until = "", None
    return store.save_publication(stored)
