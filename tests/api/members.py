"""Making someone a member of a workspace the way the API allows it (for tests whose subject is something else)."""

from __future__ import annotations

from tests.api.conftest import Account, ApiHarness


def add_member(api: ApiHarness, inviter: Account, workspace_id: str, member: Account, role: str) -> None:
    added = api.client.post(
        f"/api/workspaces/{workspace_id}/members", headers=inviter.headers, json={"email": member.email, "role": role}
    )
    assert added.status_code == 201, added.text
