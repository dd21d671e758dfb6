"""Members join by invitation: an admin offers a role no higher than their own to an email address, and whoever
signs in with that address and holds the token accepts or declines it. The answer never says whether the address
has an account, nobody joins without consent, and invitations are rate-limited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from api.models import Invitation, Membership
from tests.api.conftest import ApiHarness, make_harness
from tests.api.members import add_member, invite
from tests.api.test_auth import assert_error


def _accept(api: ApiHarness, account, token: str):
    return api.client.post("/api/invitations/accept", headers=account.headers, json={"token": token})


def _roles(api: ApiHarness, workspace_id: str) -> dict[str, str]:
    with api.state.sessions() as session:
        rows = session.scalars(select(Membership).where(Membership.workspace_id == workspace_id))
        return {m.user_id: m.role for m in rows}


def test_the_same_answer_whether_or_not_the_email_has_an_account(api: ApiHarness) -> None:
    owner, existing = api.register(), api.register()
    ws = owner.workspace_id
    answers = [invite(api, owner, ws, email, "editor") for email in (existing.email, "nobody-here@example.com")]
    assert [a.status_code for a in answers] == [201, 201]
    shapes = [{k: type(v).__name__ for k, v in a.json().items()} for a in answers]
    assert shapes[0] == shapes[1] and set(shapes[0]) == {
        "id", "workspace_id", "email", "role", "invited_by", "expires_at", "created_at", "token",
    }  # fmt: skip
    # Nobody joined: an invitation is only an offer.
    assert set(_roles(api, ws)) == {owner.user_id}
    listed = api.client.get(f"/api/workspaces/{ws}/invitations", headers=owner.headers).json()
    assert [i["email"] for i in listed] == [existing.email, "nobody-here@example.com"] and "token" not in listed[0]
    # The old route that added any account by email is gone.
    old = api.client.post(f"/api/workspaces/{ws}/members", headers=owner.headers, json={"email": existing.email})
    assert old.status_code == 405
    # Only the hash is stored.
    with api.state.sessions() as session:
        hashes = session.scalars(select(Invitation.token_hash)).all()
    assert answers[0].json()["token"] not in hashes


def test_accept_with_the_invited_address_only_and_once(api: ApiHarness) -> None:
    owner, invitee, stranger = api.register(), api.register(), api.register()
    ws = owner.workspace_id
    token = invite(api, owner, ws, invitee.email.upper(), "editor").json()["token"]
    # Someone else holding the token cannot use it; unknown tokens look the same.
    assert_error(_accept(api, stranger, token), 404, "not_found")
    assert_error(_accept(api, stranger, "inv_not-a-token"), 404, "not_found")
    joined = _accept(api, invitee, token)
    assert joined.status_code == 200 and joined.json() == {"id": ws, "name": joined.json()["name"], "role": "editor"}
    assert _roles(api, ws)[invitee.user_id] == "editor"
    assert_error(_accept(api, invitee, token), 404, "not_found")  # used
    assert api.client.get("/api/jobs", headers={**invitee.headers, "X-Workspace-Id": ws}).status_code == 200
    assert api.client.get(f"/api/workspaces/{ws}/invitations", headers=owner.headers).json() == []


def test_decline_revoke_expiry_and_replacement(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    owner, invitee = api.register(), api.register()
    ws = owner.workspace_id
    declined = invite(api, owner, ws, invitee.email, "viewer").json()["token"]
    no_thanks = api.client.post("/api/invitations/decline", headers=invitee.headers, json={"token": declined})
    assert no_thanks.status_code == 204
    assert_error(_accept(api, invitee, declined), 404)

    revoked = invite(api, owner, ws, invitee.email, "viewer").json()
    gone = api.client.delete(f"/api/workspaces/{ws}/invitations/{revoked['id']}", headers=owner.headers)
    assert gone.status_code == 204
    assert_error(_accept(api, invitee, revoked["token"]), 404)

    first = invite(api, owner, ws, invitee.email, "viewer").json()["token"]
    second = invite(api, owner, ws, invitee.email, "editor").json()["token"]  # replaces the first
    assert_error(_accept(api, invitee, first), 404)
    expired = invite(api, owner, ws, "late@example.com", "viewer").json()
    with api.state.sessions() as session:
        session.get(Invitation, expired["id"]).expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()
    late = api.register("late@example.com")
    assert_error(_accept(api, late, expired["token"]), 404)
    assert _accept(api, invitee, second).json()["role"] == "editor"


def test_roles_offered_never_exceed_the_senders(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    owner, admin, editor, invitee = api.register(), api.register(), api.register(), api.register()
    ws = owner.workspace_id
    add_member(api, owner, ws, admin, "admin")
    add_member(api, owner, ws, editor, "editor")
    assert_error(invite(api, admin, ws, invitee.email, "owner"), 403, "forbidden")
    assert_error(invite(api, editor, ws, invitee.email, "viewer"), 403, "forbidden")
    as_admin = invite(api, admin, ws, invitee.email, "admin").json()["token"]
    # The sender is demoted before it is accepted: the offer no longer stands.
    demoted = api.client.patch(
        f"/api/workspaces/{ws}/members/{admin.user_id}", headers=owner.headers, json={"role": "editor"}
    )
    assert demoted.status_code == 200
    assert_error(_accept(api, invitee, as_admin), 404)
    assert invitee.user_id not in _roles(api, ws)
    # API tokens neither invite nor accept.
    created = api.client.post(
        f"/api/workspaces/{ws}/tokens", headers=owner.headers, json={"name": "ci", "scopes": ["read", "write"]}
    ).json()
    machine = {"Authorization": f"Bearer {created['token']}"}
    refused = api.client.post(f"/api/workspaces/{ws}/invitations", headers=machine, json={"email": "m@example.com"})
    assert_error(refused, 403)


def test_invitations_are_rate_limited(api_env, tmp_path: Path) -> None:
    harness = make_harness(api_env, f"sqlite:///{tmp_path / 'inv.db'}", None, invitations_per_hour=5)
    with harness.client:
        owner = harness.register()
        statuses = [
            invite(harness, owner, owner.workspace_id, f"guess{n}@example.com", "viewer").status_code for n in range(8)
        ]
        assert statuses == [201] * 5 + [429] * 3
        limited = invite(harness, owner, owner.workspace_id, "one-more@example.com", "viewer")
        assert_error(limited, 429, "rate_limited")
        assert int(limited.headers["Retry-After"]) >= 1
