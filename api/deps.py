"""Request dependencies: DB session, the caller (user or API token) and their access to a workspace."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ApiError, not_found
from api.models import ApiToken, Membership, User
from api.roles import Permission, permissions_for
from api.state import AppState
from api.tokens import InvalidTokenError, decode_token, is_api_token, token_hash

LAST_USED_RESOLUTION = timedelta(minutes=1)


def get_state(request: Request) -> AppState:
    return request.app.state.clipped


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    with state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass
class Principal:
    """Who is calling: a signed-in user, or an API token acting for its creator within one workspace."""

    user: User
    api_token: ApiToken | None = None


@dataclass
class Access:
    principal: Principal
    workspace_id: str
    role: str
    permissions: frozenset[Permission]

    def require(self, permission: Permission) -> Access:
        if permission not in self.permissions:
            raise ApiError(403, f"your role does not allow '{permission.value}' in this workspace")
        return self

    @property
    def user_id(self) -> str:
        return self.principal.user.id


def _unauthorized(message: str = "missing or invalid credentials") -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


def principal_from_token(session: Session, state: AppState, token: str) -> Principal:
    if is_api_token(token):
        api_token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
        now = datetime.now(UTC)
        if api_token is None or api_token.revoked_at is not None or api_token.expires_at <= now:
            raise _unauthorized()
        user = session.get(User, api_token.user_id)
        if user is None:
            raise _unauthorized()
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
            api_token.last_used_at = now  # coarse, so busy machines do not write on every request
            session.commit()
        return Principal(user=user, api_token=api_token)
    try:
        user_id = decode_token(token, state.settings.jwt_secret)
    except InvalidTokenError as exc:
        raise _unauthorized() from exc
    user = session.get(User, user_id)
    if user is None:
        raise _unauthorized()
    return Principal(user=user)


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_principal(
    session: SessionDep, state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    token = _bearer(authorization)
    if token is None:
        raise _unauthorized()
    return principal_from_token(session, state, token)


def principal_header_or_query(
    session: SessionDep,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
    access_token: Annotated[str | None, Query(description="For <video src> and EventSource (no headers)")] = None,
) -> Principal:
    token = _bearer(authorization) or access_token
    if not token:
        raise _unauthorized()
    return principal_from_token(session, state, token)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
MediaPrincipalDep = Annotated[Principal, Depends(principal_header_or_query)]


def access_to(session: Session, principal: Principal, workspace_id: str) -> Access:
    """The caller's access to ``workspace_id``; 404 (never 403) when they are not in it, so nothing leaks."""
    token = principal.api_token
    if token is not None and token.workspace_id != workspace_id:
        raise not_found("workspace")
    membership = session.get(Membership, (workspace_id, principal.user.id))
    if membership is None:
        raise not_found("workspace")
    scopes = list(token.scopes) if token is not None else None
    return Access(principal, workspace_id, membership.role, permissions_for(membership.role, scopes))


def default_workspace_id(session: Session, principal: Principal) -> str:
    if principal.api_token is not None:
        return principal.api_token.workspace_id
    first = session.scalar(
        select(Membership.workspace_id)
        .where(Membership.user_id == principal.user.id)
        .order_by(Membership.created_at, Membership.workspace_id)
        .limit(1)
    )
    if first is None:
        raise not_found("workspace")
    return first


def workspace_access(
    session: SessionDep,
    principal: PrincipalDep,
    x_workspace_id: Annotated[str | None, Header(description="Workspace to act in (default: your first)")] = None,
) -> Access:
    workspace_id = x_workspace_id or default_workspace_id(session, principal)
    return access_to(session, principal, workspace_id)


WorkspaceDep = Annotated[Access, Depends(workspace_access)]
