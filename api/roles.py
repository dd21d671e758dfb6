"""Roles and what they allow (seed plan §4): viewer reads; editor creates, reviews and publishes; admin deletes and
manages members, tokens and connected accounts; owner also manages owners.

The seed's role table gives viewers no Publish access: connected accounts and the publishing queue are for editors
("request": read the queue, schedule and unschedule) and admins (also connect, change and disconnect accounts)."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    READ = "read"  # see jobs, clips, comments, members
    EDIT = "edit"  # create jobs and uploads, approve/reject/edit/re-render clips, comment
    DELETE = "delete"  # delete clips (the publish-queue level)
    MANAGE = "manage"  # members and API tokens
    OWN = "own"  # grant or take the owner role
    PUBLISH = "publish"  # the publishing area: accounts and the queue (reading; with EDIT, scheduling)


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "viewer": frozenset({Permission.READ}),
    "editor": frozenset({Permission.READ, Permission.EDIT, Permission.PUBLISH}),
    "admin": frozenset({Permission.READ, Permission.EDIT, Permission.PUBLISH, Permission.DELETE, Permission.MANAGE}),
    "owner": frozenset(Permission),
}

# Each role holds every right of the ones before it: an invitation never offers more than its sender's role.
ROLE_ORDER = ("viewer", "editor", "admin", "owner")


def role_at_most(role: str, ceiling: str) -> bool:
    return ROLE_ORDER.index(role) <= ROLE_ORDER.index(ceiling)


# API tokens act for machines: never more than their creator's role, and never membership or token management.
API_TOKEN_SCOPES: dict[str, Permission] = {
    "read": Permission.READ,
    "write": Permission.EDIT,
    "delete": Permission.DELETE,
}
# Areas a role opens or closes; a token's scopes say which operations it does there (read, write, delete), so an
# editor's read-only token still reads the queue and cannot schedule, and a viewer's token never reaches it.
ROLE_AREAS = frozenset({Permission.PUBLISH})


def permissions_for(role: str, scopes: list[str] | None = None) -> frozenset[Permission]:
    allowed = ROLE_PERMISSIONS.get(role, frozenset())
    if scopes is None:
        return allowed
    scoped = frozenset(API_TOKEN_SCOPES[scope] for scope in scopes if scope in API_TOKEN_SCOPES)
    return allowed & (scoped | ROLE_AREAS)
