"""Making someone a member of a workspace the way the API allows it (for tests whose subject is something else):
an invitation from an admin or owner, accepted by the invitee."""

from __future__ import annotations

from tests.api.conftest import Account, ApiHarness


def invite(api: ApiHarness, inviter: Account, workspace_id: str, email: str, role: str):
    return api.client.post(
        f"/api/workspaces/{workspace_id}/invitations", headers=inviter.headers, json={"email": email, "role": role}
    )


def add_member(api: ApiHarness, inviter: Account, workspace_id: str, member: Account, role: str) -> None:
    invited = invite(api, inviter, workspace_id, member.email, role)
    assert invited.status_code == 201, invited.text
    token = invited.json()["token"]
    accepted = api.client.post("/api/invitations/accept", headers=member.headers, json={"token": token})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {**accepted.json(), "id": workspace_id, "role": role}
