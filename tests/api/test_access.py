"""Security suites: no object of another workspace is reachable (IDOR), and each role gets exactly its rights."""

from __future__ import annotations

import pytest

from api.roles import ROLE_PERMISSIONS, Permission, permissions_for
from tests.api.conftest import ApiHarness
from tests.api.members import add_member
from tests.api.routes_table import CASES, UNSCOPED, app_routes, call
from tests.api.world import World, seed_world


def test_route_table_covers_every_api_route(sqlite_api: ApiHarness) -> None:
    covered = {(case.method, case.path) for case in CASES} | UNSCOPED
    missing = app_routes(sqlite_api.client.app) - covered
    assert not missing, f"classify these routes in tests/api/routes_table.py: {sorted(missing)}"


def _snapshot(api: ApiHarness, world: World) -> dict:
    headers = world.owner.headers
    return {
        "job": api.client.get(f"/api/jobs/{world.job_id}", headers=headers).json()["run_id"],
        "clip": api.client.get(f"/api/clips/{world.clip_id}", headers=headers).json(),
        "comments": api.client.get(f"/api/clips/{world.clip_id}/comments", headers=headers).json(),
        "members": api.client.get(f"/api/workspaces/{world.workspace_id}/members", headers=headers).json(),
        "tokens": api.client.get(f"/api/workspaces/{world.workspace_id}/tokens", headers=headers).json(),
    }


def test_other_workspace_objects_are_404_on_every_route(api: ApiHarness) -> None:
    victim = seed_world(api)
    intruder = api.register()
    before = _snapshot(api, victim)
    for case in CASES:
        response = call(api.client, case, victim, intruder.headers)
        assert response.status_code == 404, (case.name, response.status_code, response.text)
        assert response.json()["error"]["code"] == "not_found"
    # The query string never takes an access token (links are signed per file: tests/api/test_links.py).
    for kind in ("video", "thumbnail", "preview"):
        for param in ("access_token", "token"):
            url = f"/api/clips/{victim.clip_id}/{kind}?version=1&{param}={intruder.access_token}"
            assert api.client.get(url).status_code == 401, url
    assert _snapshot(api, victim) == before
    # Lists never show another workspace, and naming it is a 404, not a 403.
    for path in ("/api/jobs", "/api/clips"):
        assert api.client.get(path, headers=intruder.headers).json()["total"] == 0
        named = api.client.get(path, headers={**intruder.headers, "X-Workspace-Id": victim.workspace_id})
        assert named.status_code == 404
    assert api.client.get("/api/streams", headers=intruder.headers).json() == []
    named = api.client.get("/api/streams", headers={**intruder.headers, "X-Workspace-Id": victim.workspace_id})
    assert named.status_code == 404
    batch = api.client.post(
        "/api/clips/batch", headers=intruder.headers, json={"action": "approve", "ids": [victim.clip_id]}
    )
    assert batch.status_code == 200 and batch.json() == {"updated": []}
    assert _snapshot(api, victim) == before


@pytest.mark.parametrize("role", ["viewer", "editor", "admin", "owner"])
def test_role_matrix(sqlite_api: ApiHarness, role: str) -> None:
    api = sqlite_api
    world = seed_world(api)
    member = api.register()
    add_member(api, world.owner, world.workspace_id, member, role)
    allowed = ROLE_PERMISSIONS[role]
    outcomes = {}
    for case in CASES:
        response = call(api.client, case, world, member.headers)
        outcomes[case.name] = response.status_code
        if case.permission in allowed:
            # Allowed: whatever the operation says about this data, never a refusal of the caller.
            assert response.status_code not in (401, 403) and response.status_code < 500, (case.name, response.text)
            if response.status_code == 404:
                assert response.json()["error"]["message"] == "clip source not found", case.name
        else:
            assert response.status_code == 403, (case.name, response.status_code, response.text)
            assert response.json()["error"]["code"] == "forbidden"
    expected_denied = sum(case.permission not in allowed for case in CASES)
    assert sum(status == 403 for status in outcomes.values()) == expected_denied, outcomes


def test_publishing_follows_the_seed_role_table() -> None:
    """Publish: viewer none, editor "request" (read the queue, schedule), admin all. A token's scopes limit what it
    does there: an editor's read-only token reads the queue but schedules nothing; a viewer's token gets nothing."""
    read, edit, publish = Permission.READ, Permission.EDIT, Permission.PUBLISH
    assert publish not in permissions_for("viewer") and publish not in permissions_for("viewer", ["read", "write"])
    assert permissions_for("editor", ["read"]) == {read, publish}
    assert permissions_for("editor", ["read", "write"]) == {read, edit, publish}
    assert {publish, Permission.MANAGE} <= permissions_for("admin")
