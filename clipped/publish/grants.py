"""Keeping connected accounts' grants alive and their encryption current, outside any single publication."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from clipped.publish.adapter import PlatformAdapter
from clipped.publish.models import NeedsReconnectError, Platform, PublishError
from clipped.publish.publishing import store_grant
from clipped.publish.records import Account, PublishingStore
from clipped.publish.token_vault import TokenVault

# Instagram long-lived tokens may be refreshed once they are 24 h old and die at 60 days; refresh well before.
MIN_AGE_BEFORE_REFRESH: dict[Platform, timedelta] = {"instagram": timedelta(hours=24)}
REFRESH_WHEN_LEFT = timedelta(days=30)


def needs_proactive_refresh(account: Account, now: datetime) -> bool:
    """Whether the grant's long-lived part (refresh token, or Instagram's long-lived token) is close to expiry."""
    if account.health in ("needs_reconnect", "disabled"):
        return False
    if now - account.token_obtained_at < MIN_AGE_BEFORE_REFRESH.get(account.platform, timedelta(0)):
        return False
    lasting = account.refresh_expires_at if account.platform != "instagram" else account.access_expires_at
    return lasting is not None and lasting - now < REFRESH_WHEN_LEFT


def refresh_expiring_grants(
    store: PublishingStore,
    vault: TokenVault,
    adapters: Mapping[Platform, PlatformAdapter],
    now: datetime,
) -> dict[str, str]:
    """Refresh every account whose grant would otherwise lapse; returns account id → outcome, for the run log.

    A refused refresh marks the account ``needs_reconnect`` (the review app then asks an admin to connect again).
    """
    outcomes: dict[str, str] = {}
    for account in store.all_accounts():
        if account.platform not in adapters or not needs_proactive_refresh(account, now):
            continue
        grant = vault.open(account.sealed_grant)
        try:
            refreshed = adapters[account.platform].refresh(grant.refresh_token or grant.access_token)
        except NeedsReconnectError as exc:
            account.health, account.health_detail = "needs_reconnect", str(exc)[:300]
            store.save_account(account)
            outcomes[account.id] = "needs_reconnect"
            continue
        except PublishError as exc:
            outcomes[account.id] = f"retry later: {exc}"
            continue
        store_grant(store, vault, account, refreshed, now)
        outcomes[account.id] = "refreshed"
    return outcomes


def reseal_all_grants(store: PublishingStore, vault: TokenVault) -> int:
    """Re-encrypt every stored grant with the vault's newest key (key rotation); returns how many."""
    count = 0
    for account in store.all_accounts():
        account.sealed_grant = vault.rotate(account.sealed_grant)
        store.save_account(account)
        count += 1
    return count
