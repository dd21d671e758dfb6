"""Connected platform accounts: list, connect (OAuth authorization code, PKCE, bound to the browser), the OAuth
callback, posting plans, disable and disconnect.

Tokens never leave the vault: responses, redirects and logs carry account names and health, never a token, an
authorization code or a PKCE verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from api.deps import Access, Principal, PrincipalDep, SessionDep, StateDep, access_to
from api.errors import ApiError, not_found
from api.models import User
from api.roles import Permission
from api.routing import SessionReleasingRoute
from api.schemas import (
    AccountOut,
    AccountPatch,
    ConnectIn,
    ConnectOut,
    PlanOut,
    Platform,
    PlatformOut,
)
from api.state import AppState
from clipped.publish.adapter import PlatformAdapter
from clipped.publish.metadata import LIMITS
from clipped.publish.models import PLATFORMS, PublishError, TokenGrant
from clipped.publish.oauth import code_challenge_s256, new_code_verifier, new_state
from clipped.publish.publishing import store_grant
from clipped.publish.records import OPEN_STATUSES, Account, OAuthFlow, PlanSettings
from clipped.publish.token_vault import TokenVault, VaultKeyError
from clipped_resources.publishing_store import SqlPublishingStore

log = logging.getLogger("clipped.api")
router = APIRouter(prefix="/api", tags=["accounts"], route_class=SessionReleasingRoute)

PLATFORM_NAMES: dict[str, str] = {"youtube": "YouTube", "tiktok": "TikTok", "instagram": "Instagram", "x": "X"}
FLOW_TTL = timedelta(minutes=10)
BINDING_COOKIE = "clipped_oauth_"
ACCOUNTS_PAGE = "/#/accounts"


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        workspace_id=account.workspace_id,
        platform=account.platform,
        display_name=account.display_name,
        health=account.health,
        health_detail=account.health_detail,
        rate_limited_until=account.rate_limited_until,
        plan=PlanOut(**account.plan.model_dump()),
        last_post_at=account.last_post_at,
        connected_at=account.created_at,
        updated_at=account.updated_at,
    )


def load_account(
    session: Session, principal: Principal, store: SqlPublishingStore, account_id: str, permission: Permission
) -> tuple[Account, Access]:
    """The account if the caller's workspace holds it (else 404) and their role opens publishing and allows
    ``permission`` (else 403)."""
    account = store.get_account(account_id)
    if account is None:
        raise not_found("account")
    try:
        access = access_to(session, principal, account.workspace_id)
    except ApiError as exc:
        raise not_found("account") from exc
    return account, access.require(Permission.PUBLISH, permission)


def vault_of(state: AppState) -> TokenVault:
    try:
        return state.publisher.vault()
    except VaultKeyError as exc:
        log.error("publishing is not usable: %s", exc)
        raise ApiError(503, "token encryption is not configured on this server (CLIPPED_TOKEN_KEYS)") from exc


@contextmanager
def platform_adapter(state: AppState, platform: Platform) -> Iterator[PlatformAdapter]:
    """The configured adapter for ``platform`` (409 when this server has no app there), closed after use."""
    if platform not in state.publisher.configured_platforms():
        raise ApiError(
            409,
            f"{PLATFORM_NAMES[platform]} is not set up on this server (CLIPPED_{platform.upper()}_CLIENT_ID)",
            code="platform_not_configured",
        )
    adapter = state.publisher.adapter(platform)
    try:
        yield adapter
    finally:
        close = getattr(adapter, "close", None)
        if callable(close):
            close()


def flow_binding(secret: str, oauth_state: str) -> tuple[str, str]:
    """The cookie (name, value) that ties a connect flow to the browser that started it: a keyed hash of the state,
    so only the browser that received the cookie can complete the flow, and the state itself is never stored in it."""
    digest = hmac.new(secret.encode(), f"oauth-flow:{oauth_state}".encode(), hashlib.sha256).hexdigest()
    return BINDING_COOKIE + digest[:16], digest


def callback_path(platform: str) -> str:
    return f"/api/oauth/{platform}/callback"


@router.get("/platforms", response_model=list[PlatformOut])
def list_platforms(principal: PrincipalDep, state: StateDep) -> list[PlatformOut]:
    """The platforms Clipped can post to, whether this server has an app on each, and their main limits."""
    configured = set(state.publisher.configured_platforms())
    return [
        PlatformOut(
            id=platform,
            name=PLATFORM_NAMES[platform],
            configured=platform in configured,
            caption_max=LIMITS[platform].caption_max,
            max_duration_s=LIMITS[platform].max_duration_s,
        )
        for platform in PLATFORMS
    ]


@router.get("/workspaces/{workspace_id}/accounts", response_model=list[AccountOut])
def list_accounts(workspace_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> list[AccountOut]:
    """Every account the workspace connected (editors need the list to schedule), with health and posting plan;
    viewers have no publishing access (403)."""
    access_to(session, principal, workspace_id).require(Permission.PUBLISH, Permission.READ)
    return [account_out(account) for account in state.publisher.store().list_accounts(workspace_id)]


@router.post("/workspaces/{workspace_id}/accounts/connect", response_model=ConnectOut)
def connect_account(
    workspace_id: str,
    body: ConnectIn,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
) -> ConnectOut:
    """Start connecting an account (admins): open ``authorize_url`` in this browser; the platform sends it back to
    the callback, which only completes in the browser holding this response's cookie."""
    access = access_to(session, principal, workspace_id).require(Permission.PUBLISH, Permission.MANAGE)
    publisher = state.publisher
    with platform_adapter(state, body.platform) as adapter:
        vault = vault_of(state)
        oauth_state = new_state()
        verifier = new_code_verifier() if adapter.uses_pkce else None
        expires_at = datetime.now(UTC) + FLOW_TTL
        redirect_uri = publisher.redirect_uri(body.platform)
        publisher.store().put_flow(
            OAuthFlow(
                state=oauth_state,
                workspace_id=workspace_id,
                user_id=access.user_id,
                platform=body.platform,
                sealed_verifier=vault.seal_text(verifier) if verifier else "",
                redirect_uri=redirect_uri,
                expires_at=expires_at,
            )
        )
        url = adapter.authorization_url(
            state=oauth_state,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge_s256(verifier) if verifier else None,
        )
    name, value = flow_binding(state.settings.jwt_secret, oauth_state)
    response.set_cookie(
        name,
        value,
        max_age=int(FLOW_TTL.total_seconds()),
        path=callback_path(body.platform),
        httponly=True,
        samesite="lax",  # sent on the platform's top-level redirect back to us, never on cross-site subrequests
        secure=request.url.scheme == "https" or publisher.redirect_base_url.startswith("https://"),
    )
    return ConnectOut(authorize_url=url, expires_at=expires_at)


def _back_to_accounts(platform: str, cookie: str | None, **flags: str) -> RedirectResponse:
    """303 to the web app's accounts page with an outcome flag; the flow's cookie is removed either way."""
    redirect = RedirectResponse(f"{ACCOUNTS_PAGE}?{urlencode(flags)}", status_code=303)
    if cookie is not None:
        redirect.delete_cookie(cookie, path=callback_path(platform), httponly=True, samesite="lax")
    return redirect


@router.get(
    "/oauth/{platform}/callback",
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "Back to the web app: #/accounts?connected=<platform> or ?error=<reason>"}},
)
def oauth_callback(
    platform: Platform,
    request: Request,
    session: SessionDep,
    state: StateDep,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    oauth_state: Annotated[str | None, Query(alias="state", max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
) -> RedirectResponse:
    """Where the platform sends the browser back. No bearer token here: the one-time flow named by ``state`` and the
    cookie set when it started identify who connects. Errors redirect with a reason code, never a platform message,
    code or token."""
    if not oauth_state:
        return _back_to_accounts(platform, None, error="invalid_state")
    cookie, expected = flow_binding(state.settings.jwt_secret, oauth_state)
    store = state.publisher.store()
    flow = store.take_flow(oauth_state)  # single use, whatever happens next
    if flow is None or flow.platform != platform:
        return _back_to_accounts(platform, cookie, error="expired")
    if not hmac.compare_digest(request.cookies.get(cookie, ""), expected):
        log.warning("a %s connect flow came back in another browser session; refused", platform)
        return _back_to_accounts(platform, cookie, error="session_mismatch")
    if error:
        return _back_to_accounts(platform, cookie, error="denied")
    if not code:
        return _back_to_accounts(platform, cookie, error="invalid_state")
    user = session.get(User, flow.user_id)
    try:
        if user is None:
            raise not_found("user")
        access_to(session, Principal(user=user), flow.workspace_id).require(Permission.MANAGE)
    except ApiError:
        return _back_to_accounts(platform, cookie, error="forbidden")
    try:
        vault = vault_of(state)
        with platform_adapter(state, platform) as adapter:
            verifier = vault.open_text(flow.sealed_verifier) if flow.sealed_verifier else None
            grant = adapter.exchange_code(code=code, redirect_uri=flow.redirect_uri, code_verifier=verifier)
    except (ApiError, VaultKeyError):
        return _back_to_accounts(platform, cookie, error="not_configured")
    except PublishError as exc:
        # Adapter messages name the call and the platform's error code, never a token or a code.
        log.warning("connecting a %s account failed: %s", platform, exc)
        return _back_to_accounts(platform, cookie, error="exchange_failed")
    except Exception as exc:  # a network failure: its text may hold URLs, so only its kind is logged
        log.warning("connecting a %s account failed: %s", platform, type(exc).__name__)
        return _back_to_accounts(platform, cookie, error="exchange_failed")
    if not grant.account_id:
        return _back_to_accounts(platform, cookie, error="exchange_failed")
    account = save_grant(store, vault, flow, grant)
    log.info("workspace %s connected %s account %s", flow.workspace_id, platform, account.id)
    return _back_to_accounts(platform, cookie, connected=platform)


def save_grant(store: SqlPublishingStore, vault: TokenVault, flow: OAuthFlow, grant: TokenGrant) -> Account:
    """Create the account, or on reconnect replace the sealed grant of the one already connected (same platform
    account in the same workspace) and make it active again."""
    now = datetime.now(UTC)
    existing = store.find_account(flow.workspace_id, flow.platform, grant.account_id)
    if existing is not None:
        existing.display_name = grant.display_name or existing.display_name
        existing.health, existing.health_detail, existing.rate_limited_until = "active", "", None
        store_grant(store, vault, existing, grant, now)
        return existing
    return store.save_account(
        Account(
            workspace_id=flow.workspace_id,
            platform=flow.platform,
            platform_account_id=grant.account_id,
            display_name=grant.display_name or grant.account_id,
            sealed_grant=vault.seal(grant),
            access_expires_at=grant.expires_at,
            refresh_expires_at=grant.refresh_expires_at,
            token_obtained_at=now,
            connected_by=flow.user_id,
        )
    )


def checked_plan(current: PlanSettings, changes: dict) -> PlanSettings:
    """``current`` with ``changes``, refused (422) unless it gives slots: a real zone, a window that starts before
    it ends and is longer than the random offset."""
    plan = current.model_copy(update=changes)
    try:
        ZoneInfo(plan.timezone)
    except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError; malformed names a ValueError
        raise ApiError(422, f"plan.timezone: unknown time zone {plan.timezone!r}") from exc
    start, end = time.fromisoformat(plan.window_start), time.fromisoformat(plan.window_end)
    window_minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    if window_minutes <= 0:
        raise ApiError(422, "plan: the posting window must start before it ends (same local day)")
    if plan.jitter_minutes >= window_minutes:
        raise ApiError(422, "plan: the random offset must be shorter than the posting window")
    return plan


@router.patch("/accounts/{account_id}", response_model=AccountOut)
def update_account(
    account_id: str, body: AccountPatch, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> AccountOut:
    """Change the posting plan, or disable (nothing posts to it) and enable the account again (admins)."""
    store = state.publisher.store()
    account, _ = load_account(session, principal, store, account_id, Permission.MANAGE)
    if body.plan is not None:
        account.plan = checked_plan(account.plan, body.plan.model_dump(exclude_none=True))
    if body.disabled is True:
        account.health, account.health_detail = "disabled", "disabled by an admin"
    elif body.disabled is False and account.health == "disabled":
        account.health, account.health_detail = "active", ""
    return account_out(store.save_account(account))


@router.delete("/accounts/{account_id}", status_code=204)
def disconnect_account(account_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> Response:
    """Forget the account and its tokens (admins); its scheduled posts are canceled. Revoking Clipped's access in the
    platform's own settings is up to the account's owner."""
    store = state.publisher.store()
    account, _ = load_account(session, principal, store, account_id, Permission.MANAGE)
    waiting = store.list_publications(account.workspace_id, statuses=OPEN_STATUSES)
    mine = [publication for publication in waiting if publication.account_id == account.id]
    if any(publication.status == "publishing" for publication in mine):
        # The attempt holds the account's grant and records its outcome on the account: let it finish first.
        raise ApiError(409, "a post to this account is being published right now; disconnect it when that is done")
    now = datetime.now(UTC)
    for publication in mine:
        store.update_scheduled(publication.id, {"status": "canceled", "error": "the account was disconnected"}, now)
    store.delete_account(account.id)
    log.info("account %s (%s) disconnected", account.id, account.platform)
    return Response(status_code=204)
