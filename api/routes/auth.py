"""Register, login, refresh (rotated, with reuse detection) and logout."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.deps import SessionDep, StateDep
from api.errors import ApiError
from api.models import Membership, RefreshToken, User, Workspace
from api.passwords import hash_password, verify_password
from api.rate_limit import address_key
from api.routing import SessionReleasingRoute
from api.schemas import LoginIn, RefreshIn, RegisterIn, RegisterOut, TokenPair, UserOut, WorkspaceOut
from api.state import AppState
from api.tokens import issue_access_token, new_opaque_token, token_hash

router = APIRouter(prefix="/api/auth", tags=["auth"], route_class=SessionReleasingRoute)


def client_address(request: Request) -> str:
    """The caller's address for throttling: the peer, or what a trusted proxy says (api.app's ProxyHeaders)."""
    return address_key(request.client.host if request.client else None)


def _too_many(wait: float) -> ApiError:
    retry_after = max(1, math.ceil(round(wait, 3)))  # whole seconds, not rounded up by float noise
    return ApiError(429, "too many attempts; try again later", headers={"Retry-After": str(retry_after)})


def _rate_limit(state: AppState, request: Request, action: str, email: str) -> None:
    # Per address + email here; per address alone was counted before the body was read (api.middleware).
    wait = state.rate_limiter.take(f"{action}:{client_address(request)}:{email}")
    if wait > 0:
        raise _too_many(wait)


@router.post("/register", status_code=201, response_model=RegisterOut)
def register(body: RegisterIn, request: Request, session: SessionDep, state: StateDep) -> RegisterOut:
    _rate_limit(state, request, "register", body.email)
    if session.scalar(select(User.id).where(User.email == body.email)) is not None:
        raise ApiError(409, "an account with this email already exists")
    display_name = (body.display_name or body.email.split("@")[0]).strip() or "user"
    user = User(email=body.email, password_hash=hash_password(body.password), display_name=display_name)
    workspace = Workspace(name=f"{display_name}'s workspace")
    session.add_all([user, workspace])
    session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=user.id, role="owner"))
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent registration of the same email
        session.rollback()
        raise ApiError(409, "an account with this email already exists") from exc
    return RegisterOut(
        user=UserOut(id=user.id, email=user.email, display_name=user.display_name),
        workspace=WorkspaceOut(id=workspace.id, name=workspace.name, role="owner"),
    )


def issue_pair(session: Session, state: AppState, user_id: str, family_id: str | None = None) -> TokenPair:
    refresh = new_opaque_token("rt_")
    session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id or uuid.uuid4().hex,
            token_hash=token_hash(refresh),
            expires_at=datetime.now(UTC) + timedelta(seconds=state.settings.refresh_token_ttl_s),
        )
    )
    session.commit()
    ttl = state.settings.access_token_ttl_s
    return TokenPair(
        access_token=issue_access_token(user_id, state.settings.jwt_secret, ttl), refresh_token=refresh, expires_in=ttl
    )


@router.post("/login", response_model=TokenPair)
def login(body: LoginIn, request: Request, session: SessionDep, state: StateDep) -> TokenPair:
    address = client_address(request)
    wait = state.login_throttle.wait(body.email, address)
    if wait > 0:  # not checked, not counted: the right password works again once the wait is over
        raise _too_many(wait)
    user = session.scalar(select(User).where(User.email == body.email))
    if not verify_password(user.password_hash if user else None, body.password) or user is None:
        state.login_throttle.failed(body.email, address)  # unknown emails too, so both answer alike
        raise ApiError(401, "wrong email or password")
    state.login_throttle.succeeded(body.email, address)
    return issue_pair(session, state, user.id)


def _revoke_family(session: Session, family_id: str) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    session.commit()


@router.post("/refresh", response_model=TokenPair)
def refresh(body: RefreshIn, session: SessionDep, state: StateDep) -> TokenPair:
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash(body.refresh_token)))
    if stored is None:
        raise ApiError(401, "invalid refresh token")
    if stored.revoked_at is not None:
        # A rotated token used again means it was stolen (or replayed): end the whole login.
        _revoke_family(session, stored.family_id)
        raise ApiError(401, "refresh token was already used; please sign in again")
    if stored.expires_at <= datetime.now(UTC):
        raise ApiError(401, "refresh token expired; please sign in again")
    revoked = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    if revoked.rowcount != 1:  # lost a race with another use of the same token
        _revoke_family(session, stored.family_id)
        raise ApiError(401, "refresh token was already used; please sign in again")
    return issue_pair(session, state, stored.user_id, stored.family_id)


@router.post("/logout", status_code=204, response_class=Response)
def logout(body: RefreshIn, session: SessionDep) -> Response:
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash(body.refresh_token)))
    if stored is not None:
        _revoke_family(session, stored.family_id)
    return Response(status_code=204)
