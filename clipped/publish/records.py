"""What the publishing store keeps: connected accounts (tokens sealed), pending OAuth flows, and publications."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from clipped.publish.models import Platform, Privacy
from clipped.publish.schedule import PostingPlan

AccountHealth = Literal["active", "rate_limited", "needs_reconnect", "disabled"]
PublicationStatus = Literal["scheduled", "publishing", "published", "failed", "canceled"]
OPEN_STATUSES: tuple[PublicationStatus, ...] = ("scheduled", "publishing")
# The publications asset's partition dimension of publication ids (beside the source video's dimension).
PUBLICATION_PARTITIONS = "publication"


def new_record_id(prefix: str) -> str:
    """Random ids that are also valid partition-key segments (lowercase letters, digits, '_')."""
    return f"{prefix}_{secrets.token_hex(8)}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class PlanSettings(BaseModel):
    """A :class:`PostingPlan` as stored (times as ``HH:MM``)."""

    cadence_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    window_start: str = "08:00"
    window_end: str = "22:00"
    timezone: str = "UTC"
    jitter_minutes: int = Field(default=30, ge=0, le=24 * 60)

    def plan(self) -> PostingPlan:
        return PostingPlan(
            cadence_hours=self.cadence_hours,
            window_start=time.fromisoformat(self.window_start),
            window_end=time.fromisoformat(self.window_end),
            timezone=self.timezone,
            jitter_minutes=self.jitter_minutes,
        )


class Account(BaseModel):
    """A platform account a workspace connected. ``sealed_grant`` is the encrypted token grant (see token_vault)."""

    id: str = Field(default_factory=lambda: new_record_id("acct"))
    workspace_id: str
    platform: Platform
    platform_account_id: str
    display_name: str
    health: AccountHealth = "active"
    health_detail: str = ""
    sealed_grant: str
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    token_obtained_at: datetime = Field(default_factory=utcnow)
    plan: PlanSettings = Field(default_factory=PlanSettings)
    rate_limited_until: datetime | None = None
    quota_day: str = ""  # ISO date of the platform's quota day the counter belongs to
    quota_used: int = 0
    last_post_at: datetime | None = None
    connected_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class OAuthFlow(BaseModel):
    """A connect flow in progress: bound to the user who started it, single use, short-lived."""

    state: str
    workspace_id: str
    user_id: str
    platform: Platform
    sealed_verifier: str = ""
    redirect_uri: str
    expires_at: datetime


class Publication(BaseModel):
    """One clip version posted (or to be posted) to one account."""

    id: str = Field(default_factory=lambda: new_record_id("pub"))
    workspace_id: str
    source_partition: str  # the source video's partition key (lineage to rendered_clips)
    clip_ref: str  # the review app's clip id
    clip_version: int = 1
    video_key: str
    duration_s: float
    account_id: str
    platform: Platform
    title: str
    caption: str
    privacy: Privacy = "public"
    scheduled_at: datetime
    status: PublicationStatus = "scheduled"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    resume: dict[str, Any] = Field(default_factory=dict)
    post_id: str = ""
    post_url: str = ""
    error: str = ""
    run_id: str = ""
    # Stable for the publication's life: every attempt sends the same key, so the platform dedupes.
    idempotency_key: str = Field(default_factory=lambda: secrets.token_hex(16))
    lease_owner: str = ""
    lease_until: datetime | None = None
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None

    @property
    def partition_keys_by_dimension(self) -> dict[str, str]:
        return {"source_video": self.source_partition, PUBLICATION_PARTITIONS: self.id}

    @property
    def partition_key(self) -> str:
        """The two-dimensional key as Dagster writes it: dimension keys in dimension-name order, joined by ``|``."""
        keys = self.partition_keys_by_dimension
        return "|".join(keys[name] for name in sorted(keys))

    def run_tags(self, trigger: str) -> dict[str, str]:
        """Tags of a publication run: the account (one upload per account at a time, see deploy/dagster.yaml), the
        workspace (queue fairness), the platform and who launched it."""
        return {
            "clipped/workspace": self.workspace_id,
            "clipped/account": self.account_id,
            "clipped/platform": self.platform,
            "clipped/trigger": trigger,
        }

    @property
    def due_at(self) -> datetime:
        return max(self.scheduled_at, self.next_attempt_at or self.scheduled_at)


class PublishingStore(Protocol):
    """Accounts, flows and publications, shared by the review service and the publishing runs."""

    def save_account(self, account: Account) -> Account: ...

    def get_account(self, account_id: str) -> Account | None: ...

    def list_accounts(self, workspace_id: str) -> list[Account]: ...

    def find_account(self, workspace_id: str, platform: Platform, platform_account_id: str) -> Account | None: ...

    def delete_account(self, account_id: str) -> None: ...

    def all_accounts(self) -> list[Account]: ...

    def put_flow(self, flow: OAuthFlow) -> None: ...

    def take_flow(self, state: str) -> OAuthFlow | None:
        """The flow for ``state``, removed in the same step (a state works once)."""
        ...

    def save_publication(self, publication: Publication) -> Publication: ...

    def get_publication(self, publication_id: str) -> Publication | None: ...

    def list_publications(
        self, workspace_id: str, *, statuses: tuple[str, ...] | None = None, clip_ref: str | None = None
    ) -> list[Publication]: ...

    def due_publications(self, now: datetime, limit: int) -> list[Publication]:
        """Scheduled publications whose time has come (and retries whose backoff has passed), oldest first."""
        ...

    def claim_publication(self, publication_id: str, owner: str, now: datetime, until: datetime) -> Publication | None:
        """Atomically take the publication's lease if it is open and not leased by another live owner."""
        ...

    def update_scheduled(self, publication_id: str, changes: dict[str, Any], now: datetime) -> Publication | None:
        """Apply ``changes`` only while the publication is scheduled and unleased (unschedule, publish now)."""
        ...

    def save_resume(self, publication_id: str, owner: str, values: dict[str, Any]) -> None:
        """Persist resumable progress; refuses when ``owner`` no longer holds the lease."""
        ...
