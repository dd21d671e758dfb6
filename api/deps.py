"""Request dependencies: DB session, the caller (user or API token) and their access to a workspace."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Header, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ApiError, not_found
from api.links import LinkIssuer
from api.models import ApiToken, Membership, User
from api.roles import Permission, permissions_for
from api.state import AppState
from api.tokens import InvalidTokenError, decode_access_token, decode_link_token, is_api_token, token_hash

LAST_USED_RESOLUTION = timedelta(minutes=1)


# Dependencies that do no I/O are async: FastAPI runs each sync one in a worker thread of its own, and every such hop
# waits for one of the limiter's 40 threads.
async def get_state(request: Request) -> AppState:
    return request.app.state.clipped


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    with state.sessions() as session:
        yield session


# Closed when the route function returns, not once its response is sent: a streamed body (an event stream, a media
# file to a slow reader, a zip) would otherwise hold one of the pool's connections for as long as it lasts, and a
# few dozen open streams would leave every other request waiting for a connection. Streams open their own sessions.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def release_connection(session: Session) -> None:
    """End the session's transaction so its pooled connection goes back before the next dependency or the route.

    Each sync dependency and the route run in separate worker threads, and between them a request waits for a free
    thread. A connection held across that wait deadlocks the API under load: the requests holding the pool's
    connections wait for threads, while every thread waits for a connection (bench/load_api.py). The loaded rows
    stay usable (sessions do not expire them on commit).
    """
    if session.in_transaction():
        session.commit()


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

    def require(self, *permissions: Permission) -> Access:
        for permission in permissions:
            if permission not in self.permissions:
                raise ApiError(403, f"your role does not allow '{permission.value}' in this workspace")
        return self

    @property
    def user_id(self) -> str:
        return self.principal.user.id


def _unauthorized(message: str = "missing or invalid credentials") -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


def _usable(api_token: ApiToken | None, now: datetime) -> bool:
    return api_token is not None and api_token.revoked_at is None and api_token.expires_at > now


def principal_from_token(session: Session, state: AppState, token: str) -> Principal:
    if is_api_token(token):
        api_token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
        now = datetime.now(UTC)
        if not _usable(api_token, now):
            raise _unauthorized()
        user = session.get(User, api_token.user_id)
        if user is None:
            raise _unauthorized()
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
            api_token.last_used_at = now  # coarse, so busy machines do not write on every request
            session.commit()
        return Principal(user=user, api_token=api_token)
    try:
        user_id = decode_access_token(token, state.settings.jwt_secret)
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
    principal = principal_from_token(session, state, token)
    release_connection(session)
    return principal


def principal_from_link(session: Session, state: AppState, token: str, purpose: str, resource: str) -> Principal:
    """The caller a link token of ``purpose`` stands for, if it names exactly ``resource``; else 401.

    The link only says who asked for it: their access to the resource is checked again on every use, so a member
    removed (or an API token revoked) since the link was issued gets nothing from it.
    """
    try:
        grant = decode_link_token(token, purpose, state.settings.jwt_secret)
    except InvalidTokenError as exc:
        raise _unauthorized("invalid or expired link") from exc
    if grant.resource != resource:
        raise _unauthorized("this link is not valid for this resource")
    user = session.get(User, grant.user_id)
    if user is None:
        raise _unauthorized("invalid or expired link")
    api_token = None
    if grant.api_token_id is not None:
        api_token = session.get(ApiToken, grant.api_token_id)
        if not _usable(api_token, datetime.now(UTC)):
            raise _unauthorized("invalid or expired link")
    return Principal(user=user, api_token=api_token)


@dataclass
class LinkCredentials:
    """The Authorization header, or a signed link token in ``?token=`` for URLs a browser opens without headers."""

    bearer: str | None
    link: str | None

    def principal(self, session: Session, state: AppState, purpose: str, resource: str | None) -> Principal:
        """Who is calling; ``resource`` None means no link can name what was asked for (only the header works)."""
        if self.bearer is not None:
            return principal_from_token(session, state, self.bearer)
        if self.link is None:
            raise _unauthorized()
        if resource is None:
            raise _unauthorized("this link is not valid for this resource")
        return principal_from_link(session, state, self.link, purpose, resource)


async def link_credentials(
    authorization: Annotated[str | None, Header()] = None,
    token: Annotated[
        str | None,
        Query(max_length=2000, description="A signed link token (from video_url, thumbnail_url or stream-token)"),
    ] = None,
) -> LinkCredentials:
    return LinkCredentials(bearer=_bearer(authorization), link=token or None)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
LinkCredentialsDep = Annotated[LinkCredentials, Depends(link_credentials)]


async def link_issuer(state: StateDep, principal: PrincipalDep) -> LinkIssuer:
    settings = state.settings
    return LinkIssuer(
        secret=settings.jwt_secret,
        user_id=principal.user.id,
        api_token_id=principal.api_token.id if principal.api_token is not None else None,
        media_ttl_s=settings.media_link_ttl_s,
        events_ttl_s=settings.stream_token_ttl_s,
    )


LinkIssuerDep = Annotated[LinkIssuer, Depends(link_issuer)]


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


class WorkspaceOwned(Protocol):
    workspace_id: str


OwnedT = TypeVar("OwnedT", bound=WorkspaceOwned)


def load_in_workspace(
    session: Session, principal: Principal, model: type[OwnedT], item_id: str, permission: Permission, noun: str
) -> tuple[OwnedT, Access]:
    """The ``model`` row ``item_id`` if the caller's workspace holds it (else 404, named ``noun``) and their role
    allows ``permission`` (else 403)."""
    item = session.get(model, item_id)
    if item is None:
        raise not_found(noun)
    try:
        access = access_to(session, principal, item.workspace_id)
    except ApiError as exc:
        raise not_found(noun) from exc
    return item, access.require(permission)


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
    access = access_to(session, principal, workspace_id)
    release_connection(session)
    return access


WorkspaceDep = Annotated[Access, Depends(workspace_access)]
