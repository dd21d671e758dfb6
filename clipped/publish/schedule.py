"""When posts go out: a posting plan per account (cadence, daily window in its time zone, a random offset), staggered
across accounts, and daily quota accounting.

Agencies post one clip to many accounts; posting them all at the same minute looks like coordination and trips rate
limits, so each account keeps its own cadence and a clip's posts are spread over the accounts' windows.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clipped.publish.models import Platform


@dataclass(frozen=True)
class PostingPlan:
    """One account's rhythm: at most one post per ``cadence_hours``, inside ``[window_start, window_end)`` local
    time, each slot moved by a random offset of up to ``jitter_minutes``."""

    cadence_hours: float = 12.0
    window_start: time = time(8, 0)
    window_end: time = time(22, 0)
    timezone: str = "UTC"
    jitter_minutes: int = 30

    def __post_init__(self) -> None:
        if self.cadence_hours <= 0:
            raise ValueError("cadence_hours must be positive")
        if self.window_start >= self.window_end:
            raise ValueError("the posting window must start before it ends (same local day)")
        ZoneInfo(self.timezone)  # raises for an unknown zone


def _offset_minutes(seed: str, jitter_minutes: int) -> float:
    """A random but reproducible offset in ``[0, jitter_minutes)``: the same publication gets the same slot."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    return rng.uniform(0, jitter_minutes) if jitter_minutes > 0 else 0.0


def next_slot(plan: PostingPlan, *, not_before: datetime, last_post_at: datetime | None, seed: str) -> datetime:
    """The first moment at or after ``not_before`` and a cadence after ``last_post_at`` that falls inside the
    account's window (local time), plus the publication's offset; returned in UTC."""
    zone = ZoneInfo(plan.timezone)
    earliest = not_before.astimezone(UTC)
    if last_post_at is not None:
        earliest = max(earliest, last_post_at.astimezone(UTC) + timedelta(hours=plan.cadence_hours))
    offset = timedelta(minutes=_offset_minutes(seed, plan.jitter_minutes))
    local = earliest.astimezone(zone)
    for day in range(0, 400):
        candidate_day = local.date() + timedelta(days=day)
        start = datetime.combine(candidate_day, plan.window_start, zone)
        end = datetime.combine(candidate_day, plan.window_end, zone)
        slot = max(start, local) + offset if day == 0 else start + offset
        if slot < end:
            return slot.astimezone(UTC)
    raise ValueError("no slot within a year: check the posting window")


def staggered_slots(
    plans: list[tuple[str, PostingPlan, datetime | None]], *, not_before: datetime, seed: str, stagger_minutes: int = 20
) -> dict[str, datetime]:
    """Slots for one clip posted to several accounts: each account's next slot, the ``i``-th account at least
    ``i × stagger_minutes`` after the first so the same clip never goes out everywhere at once."""
    slots: dict[str, datetime] = {}
    for index, (account_id, plan, last_post_at) in enumerate(plans):
        start = not_before + timedelta(minutes=index * stagger_minutes)
        slots[account_id] = next_slot(plan, not_before=start, last_post_at=last_post_at, seed=f"{seed}:{account_id}")
    return slots


# Daily publishing allowances. YouTube: an upload costs ~1,600 of the default 10,000 units a day per project, which
# resets at midnight Pacific time; Instagram: 50 API-published posts per 24 h per account; TikTok and X limits are
# per token and enforced by their rate limits rather than a daily count.
DAILY_UNITS: dict[Platform, int] = {"youtube": 10_000, "instagram": 50, "tiktok": 0, "x": 0}
UNITS_PER_POST: dict[Platform, int] = {"youtube": 1_600, "instagram": 1, "tiktok": 0, "x": 0}
QUOTA_ZONE: dict[Platform, str] = {"youtube": "America/Los_Angeles", "instagram": "UTC", "tiktok": "UTC", "x": "UTC"}
# Whose allowance a post draws on: YouTube's units are the Google Cloud project's (all channels together),
# Instagram's posts are each account's own.
QUOTA_POOL: dict[Platform, str] = {"youtube": "project", "instagram": "account", "tiktok": "account", "x": "account"}


def quota_day(platform: Platform, at: datetime) -> date:
    """The day a platform's quota counter belongs to (YouTube's resets at midnight Pacific)."""
    return at.astimezone(ZoneInfo(QUOTA_ZONE[platform])).date()


def quota_allows(platform: Platform, units_used_today: int, daily_units: int | None = None) -> bool:
    """Whether one more post fits in today's allowance (platforms without a daily count always allow)."""
    allowance = DAILY_UNITS[platform] if daily_units is None else daily_units
    if allowance <= 0:
        return True
    return units_used_today + UNITS_PER_POST[platform] <= allowance


def next_quota_reset(platform: Platform, at: datetime) -> datetime:
    """When the platform's daily counter starts again after ``at`` (UTC)."""
    zone = ZoneInfo(QUOTA_ZONE[platform])
    tomorrow = at.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0, 0), zone).astimezone(UTC)
