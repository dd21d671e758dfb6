"""The caller, their workspaces, members and API tokens (members join by invitation: api/routes/invitations.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Response
from sqlalchemy import func, select

from api.deps import Access, PrincipalDep, SessionDep, access_to
from api.errors import ApiError, not_found
from api.models import ApiToken, Membership, User, Workspace
from api.roles import Permission
from api.routing import SessionReleasingRoute
from api.schemas import (
    ApiTokenCreated,
    ApiTokenIn,
    ApiTokenOut,
    MemberOut,
    MemberPatch,
    MeOut,
    UserOut,
    WorkspaceIn,
    WorkspaceOut,
)
from api.tokens import API_TOKEN_PREFIX, new_opaque_token, token_hash

router = APIRouter(prefix="/api", tags=["workspaces"], route_class=SessionReleasingRoute)


def _user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, display_name=user.display_name)


def _workspaces_of(session, principal) -> list[WorkspaceOut]:
    query = (
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == principal.user.id)
        .order_by(Membership.created_at, Workspace.id)
    )
    if principal.api_token is not None:
        query = query.where(Workspace.id == principal.api_token.workspace_id)
    return [WorkspaceOut(id=ws.id, name=ws.name, role=role) for ws, role in session.execute(query)]


@router.get("/me", response_model=MeOut)
def me(principal: PrincipalDep, session: SessionDep) -> MeOut:
    return MeOut(user=_user_out(principal.user), workspaces=_workspaces_of(session, principal))


@router.get("/workspaces", response_model=list[WorkspaceOut])
def list_workspaces(principal: PrincipalDep, session: SessionDep) -> list[WorkspaceOut]:
    return _workspaces_of(session, principal)


@router.post("/workspaces", status_code=201, response_model=WorkspaceOut)
def create_workspace(body: WorkspaceIn, principal: PrincipalDep, session: SessionDep) -> WorkspaceOut:
    if principal.api_token is not None:
        raise ApiError(403, "API tokens cannot create workspaces")
    workspace = Workspace(name=body.name.strip())
    session.add(workspace)
    session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=principal.user.id, role="owner"))
    session.commit()
    return WorkspaceOut(id=workspace.id, name=workspace.name, role="owner")


def _access(session, principal, workspace_id: str, permission: Permission) -> Access:
    return access_to(session, principal, workspace_id).require(permission)


@router.get("/workspaces/{workspace_id}/members", response_model=list[MemberOut])
def list_members(workspace_id: str, principal: PrincipalDep, session: SessionDep) -> list[MemberOut]:
    _access(session, principal, workspace_id, Permission.READ)
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(Membership.created_at, User.email)
    )
    return [MemberOut(user=_user_out(user), role=m.role, created_at=m.created_at) for m, user in rows]


def _check_owner_change(access: Access, *roles: str) -> None:
    if "owner" in roles and Permission.OWN not in access.permissions:
        raise ApiError(403, "only an owner can grant or change the owner role")


def _owner_count(session, workspace_id: str) -> int:
    return session.scalar(
        select(func.count()).where(Membership.workspace_id == workspace_id, Membership.role == "owner")
    )


def _member(session, workspace_id: str, user_id: str) -> Membership:
    membership = session.get(Membership, (workspace_id, user_id))
    if membership is None:
        raise not_found("member")
    return membership


@router.patch("/workspaces/{workspace_id}/members/{user_id}", response_model=MemberOut)
def change_member(
    workspace_id: str, user_id: str, body: MemberPatch, principal: PrincipalDep, session: SessionDep
) -> MemberOut:
    access = _access(session, principal, workspace_id, Permission.MANAGE)
    membership = _member(session, workspace_id, user_id)
    _check_owner_change(access, body.role, membership.role)
    if membership.role == "owner" and body.role != "owner" and _owner_count(session, workspace_id) == 1:
        raise ApiError(409, "a workspace needs at least one owner")
    membership.role = body.role
    session.commit()
    return MemberOut(user=_user_out(session.get(User, user_id)), role=membership.role, created_at=membership.created_at)


@router.delete("/workspaces/{workspace_id}/members/{user_id}", status_code=204, response_class=Response)
def remove_member(workspace_id: str, user_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    access = _access(session, principal, workspace_id, Permission.MANAGE)
    membership = _member(session, workspace_id, user_id)
    _check_owner_change(access, membership.role)
    if membership.role == "owner" and _owner_count(session, workspace_id) == 1:
        raise ApiError(409, "a workspace needs at least one owner")
    session.delete(membership)
    session.commit()
    return Response(status_code=204)


def _token_out(token: ApiToken) -> ApiTokenOut:
    return ApiTokenOut(
        id=token.id,
        name=token.name,
        scopes=list(token.scopes),
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
        created_at=token.created_at,
    )


@router.post("/workspaces/{workspace_id}/tokens", status_code=201, response_model=ApiTokenCreated)
def create_token(workspace_id: str, body: ApiTokenIn, principal: PrincipalDep, session: SessionDep) -> ApiTokenCreated:
    _access(session, principal, workspace_id, Permission.MANAGE)
    secret = new_opaque_token(API_TOKEN_PREFIX)
    token = ApiToken(
        workspace_id=workspace_id,
        user_id=principal.user.id,
        name=body.name,
        token_hash=token_hash(secret),
        scopes=sorted(set(body.scopes)),
        expires_at=datetime.now(UTC) + timedelta(days=body.expires_in_days),
    )
    session.add(token)
    session.commit()
    return ApiTokenCreated(**_token_out(token).model_dump(), token=secret)


@router.get("/workspaces/{workspace_id}/tokens", response_model=list[ApiTokenOut])
def list_tokens(workspace_id: str, principal: PrincipalDep, session: SessionDep) -> list[ApiTokenOut]:
    _access(session, principal, workspace_id, Permission.MANAGE)
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.workspace_id == workspace_id).order_by(ApiToken.created_at)
    )
    return [_token_out(token) for token in tokens]


@router.delete("/workspaces/{workspace_id}/tokens/{token_id}", status_code=204, response_class=Response)
def revoke_token(workspace_id: str, token_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    _access(session, principal, workspace_id, Permission.MANAGE)
    token = session.get(ApiToken, token_id)
    if token is None or token.workspace_id != workspace_id:
        raise not_found("token")
    token.revoked_at = token.revoked_at or datetime.now(UTC)
    session.commit()
    return Response(status_code=204)
