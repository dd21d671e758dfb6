"""Workspace invitations: an admin offers a role (never above their own) to an email address; whoever signs in with
that address and holds the token accepts or declines it. Nobody is added to a workspace without their consent, and
the answer to an invitation never says whether the address has an account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Response
from sqlalchemy import func, select, update

from api.deps import Principal, PrincipalDep, SessionDep, StateDep, access_to
from api.errors import ApiError, not_found
from api.models import Invitation, Membership, Workspace
from api.roles import Permission, permissions_for, role_at_most
from api.routing import SessionReleasingRoute
from api.schemas import InvitationCreated, InvitationIn, InvitationOut, InvitationTokenIn, WorkspaceOut
from api.tokens import new_opaque_token, token_hash

router = APIRouter(prefix="/api", tags=["workspaces"], route_class=SessionReleasingRoute)
INVITATION_PREFIX = "inv_"
MAX_PENDING_PER_WORKSPACE = 100


def _out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        workspace_id=invitation.workspace_id,
        email=invitation.email,
        role=invitation.role,
        invited_by=invitation.invited_by,
        expires_at=invitation.expires_at,
        created_at=invitation.created_at,
    )


def _pending(now: datetime):
    return (
        Invitation.accepted_at.is_(None),
        Invitation.declined_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )


@router.post("/workspaces/{workspace_id}/invitations", status_code=201, response_model=InvitationCreated)
def invite(
    workspace_id: str, body: InvitationIn, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> InvitationCreated:
    """Invite an email address (whether or not it has an account: the answer is the same)."""
    access = access_to(session, principal, workspace_id).require(Permission.MANAGE)
    if not role_at_most(body.role, access.role):
        raise ApiError(403, f"you cannot offer a role above your own ({access.role})")
    wait = state.invitation_limiter.take(f"invite:{principal.user.id}")
    if wait > 0:
        raise ApiError(429, "too many invitations; try again later", headers={"Retry-After": str(int(wait) + 1)})
    now = datetime.now(UTC)
    pending = session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.workspace_id == workspace_id, *_pending(now))
    )
    if pending >= MAX_PENDING_PER_WORKSPACE:
        raise ApiError(409, f"this workspace has {pending} open invitations; revoke some first")
    # One open invitation per address: a new one replaces the last.
    session.execute(
        update(Invitation)
        .where(Invitation.workspace_id == workspace_id, Invitation.email == body.email, *_pending(now))
        .values(revoked_at=now)
    )
    token = new_opaque_token(INVITATION_PREFIX)
    invitation = Invitation(
        workspace_id=workspace_id,
        email=body.email,
        role=body.role,
        token_hash=token_hash(token),
        invited_by=principal.user.id,
        expires_at=now + timedelta(seconds=state.settings.invitation_ttl_s),
        created_at=now,
    )
    session.add(invitation)
    session.commit()
    return InvitationCreated(**_out(invitation).model_dump(), token=token)


@router.get("/workspaces/{workspace_id}/invitations", response_model=list[InvitationOut])
def list_invitations(workspace_id: str, principal: PrincipalDep, session: SessionDep) -> list[InvitationOut]:
    """The open invitations (not accepted, declined, revoked or expired), oldest first."""
    access_to(session, principal, workspace_id).require(Permission.MANAGE)
    invitations = session.scalars(
        select(Invitation)
        .where(Invitation.workspace_id == workspace_id, *_pending(datetime.now(UTC)))
        .order_by(Invitation.created_at, Invitation.id)
    )
    return [_out(invitation) for invitation in invitations]


@router.delete("/workspaces/{workspace_id}/invitations/{invitation_id}", status_code=204, response_class=Response)
def revoke_invitation(workspace_id: str, invitation_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    access_to(session, principal, workspace_id).require(Permission.MANAGE)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.workspace_id != workspace_id:
        raise not_found("invitation")
    invitation.revoked_at = invitation.revoked_at or datetime.now(UTC)
    session.commit()
    return Response(status_code=204)


def _open_invitation_for(session, principal: Principal, token: str) -> Invitation:
    """The open invitation ``token`` names, addressed to the caller's email and still backed by its sender (an admin
    of the workspace whose role covers it); anything else is the same 404."""
    if principal.api_token is not None:
        raise ApiError(403, "API tokens cannot accept or decline invitations")
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token), *_pending(datetime.now(UTC)))
    )
    if invitation is None or invitation.email != principal.user.email.lower():
        raise not_found("invitation")
    sender = session.get(Membership, (invitation.workspace_id, invitation.invited_by))
    if (
        sender is None
        or Permission.MANAGE not in permissions_for(sender.role)
        or not role_at_most(invitation.role, sender.role)
    ):
        raise not_found("invitation")
    return invitation


@router.post("/invitations/accept", response_model=WorkspaceOut)
def accept_invitation(body: InvitationTokenIn, principal: PrincipalDep, session: SessionDep) -> WorkspaceOut:
    """Join the workspace with the invitation's role (signed in with the address it was sent to)."""
    invitation = _open_invitation_for(session, principal, body.token)
    if session.get(Membership, (invitation.workspace_id, principal.user.id)) is not None:
        raise ApiError(409, "you are already a member of this workspace")
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None), Invitation.declined_at.is_(None))
        .values(accepted_at=datetime.now(UTC))
    )
    if claimed.rowcount != 1:  # accepted or declined at the same moment elsewhere
        raise not_found("invitation")
    session.add(Membership(workspace_id=invitation.workspace_id, user_id=principal.user.id, role=invitation.role))
    session.commit()
    workspace = session.get(Workspace, invitation.workspace_id)
    return WorkspaceOut(id=workspace.id, name=workspace.name, role=invitation.role)


@router.post("/invitations/decline", status_code=204, response_class=Response)
def decline_invitation(body: InvitationTokenIn, principal: PrincipalDep, session: SessionDep) -> Response:
    invitation = _open_invitation_for(session, principal, body.token)
    invitation.declined_at = datetime.now(UTC)
    session.commit()
    return Response(status_code=204)
