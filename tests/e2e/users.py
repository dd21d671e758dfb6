"""People for browser tests, made over HTTP the way the API allows: register, sign in, join by invitation."""

from __future__ import annotations

import httpx

from tests.api.conftest import PASSWORD
from tests.e2e.conftest import ApiServer


def register(server: ApiServer, email: str, name: str) -> dict:
    """A user (with their personal workspace) and their bearer headers."""
    body = {"email": email, "password": PASSWORD, "display_name": name}
    registered = httpx.post(f"{server.base_url}/api/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    tokens = httpx.post(f"{server.base_url}/api/auth/login", json={"email": email, "password": PASSWORD}).json()
    return {**registered.json(), "headers": {"Authorization": f"Bearer {tokens['access_token']}"}}


def join(server: ApiServer, inviter: dict, member: dict, role: str) -> None:
    """``member`` joins ``inviter``'s workspace with ``role``: invited, then accepting."""
    workspace_id = inviter["workspace"]["id"]
    invited = httpx.post(
        f"{server.base_url}/api/workspaces/{workspace_id}/invitations",
        headers=inviter["headers"],
        json={"email": member["user"]["email"], "role": role},
    )
    assert invited.status_code == 201, invited.text
    accepted = httpx.post(
        f"{server.base_url}/api/invitations/accept", headers=member["headers"], json={"token": invited.json()["token"]}
    )
    assert accepted.status_code == 200, accepted.text
