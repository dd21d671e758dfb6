"""Accounts and tokens: register, login, refresh rotation with reuse detection, logout, JWT tampering, API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select

from api.models import ApiToken, RefreshToken
from api.tokens import issue_access_token
from tests.api.conftest import PASSWORD, ApiHarness, make_harness
from tests.api.members import add_member, invite


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "trace_id"} and error["trace_id"] and error["message"]
    assert response.headers["X-Trace-Id"] == error["trace_id"]
    if code:
        assert error["code"] == code
    return error


def test_register_login_me_refresh_logout(api: ApiHarness) -> None:
    account = api.register("Alice@Example.com")
    assert account.email == "Alice@Example.com"
    me = api.client.get("/api/me", headers=account.headers).json()
    assert me["user"]["email"] == "alice@example.com"
    assert me["workspaces"] == [{"id": account.workspace_id, "name": "alice's workspace", "role": "owner"}]

    assert_error(api.client.post("/api/auth/register", json={"email": "alice@example.com", "password": "x" * 9}), 409)
    assert_error(api.client.post("/api/auth/login", json={"email": "alice@example.com", "password": "wrong-pass"}), 401)
    assert_error(api.client.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}), 401)

    rotated = api.client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert rotated.status_code == 200
    pair = rotated.json()
    assert pair["refresh_token"] != account.refresh_token and pair["token_type"] == "bearer"
    assert pair["expires_in"] == 900
    assert api.client.get("/api/me", headers={"Authorization": f"Bearer {pair['access_token']}"}).status_code == 200

    # Only hashes are stored.
    with api.state.sessions() as session:
        stored = session.scalars(select(RefreshToken.token_hash)).all()
    assert pair["refresh_token"] not in stored and all(len(h) == 64 for h in stored)

    assert api.client.post("/api/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert_error(api.client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401)


def test_reused_refresh_token_revokes_the_family(api: ApiHarness) -> None:
    account = api.register()
    first = api.client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token}).json()
    # The old token is replayed (stolen): refused, and the thief's and owner's newer token die with it.
    assert_error(api.client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token}), 401)
    assert_error(api.client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]}), 401)
    # Another login (another family) is unaffected.
    other = api.client.post("/api/auth/login", json={"email": account.email, "password": PASSWORD}).json()
    assert api.client.post("/api/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 200


def test_expired_refresh_token_is_refused(sqlite_api: ApiHarness) -> None:
    account = sqlite_api.register()
    with sqlite_api.state.sessions() as session:
        for token in session.scalars(select(RefreshToken)):
            token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()
    assert_error(sqlite_api.client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token}), 401)


def _header_for(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_bad_access_tokens_are_refused(sqlite_api: ApiHarness) -> None:
    account = sqlite_api.register()
    secret = sqlite_api.state.settings.jwt_secret
    now = datetime.now(UTC)
    good_claims = jwt.decode(account.access_token, secret, algorithms=["HS256"])
    head, body, signature = account.access_token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    cases = {
        "expired": issue_access_token(account.user_id, secret, 900, now=now - timedelta(minutes=16)),
        "tampered signature": f"{head}.{body}.{flipped}",
        "tampered claims": jwt.encode({**good_claims, "sub": "u_x"}, "guessed-" + "s" * 40, algorithm="HS256"),
        "alg none": jwt.encode(good_claims, None, algorithm="none"),
        "wrong algorithm": jwt.encode(good_claims, secret, algorithm="HS512"),
        "wrong type": jwt.encode({**good_claims, "typ": "upload"}, secret, algorithm="HS256"),
        "no expiry": jwt.encode({k: v for k, v in good_claims.items() if k != "exp"}, secret, algorithm="HS256"),
        "garbage": "not-a-token",
    }
    for name, token in cases.items():
        response = sqlite_api.client.get("/api/me", headers=_header_for(token))
        assert response.status_code == 401, name
        assert_error(response, 401, "unauthorized")
    assert_error(sqlite_api.client.get("/api/me"), 401)
    assert_error(sqlite_api.client.get("/api/me", headers={"Authorization": f"Basic {account.access_token}"}), 401)
    assert sqlite_api.client.get("/api/me", headers=account.headers).status_code == 200


def test_login_and_register_are_rate_limited(api_env, tmp_path) -> None:
    harness = make_harness(
        api_env, f"sqlite:///{tmp_path / 'rl.db'}", None, auth_rate_per_minute=3.0, auth_rate_burst=3
    )
    with harness.client as client:
        harness.register("limited@example.com")  # one register + one login
        bad = {"email": "limited@example.com", "password": "bad-password"}
        statuses = [client.post("/api/auth/login", json=bad).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]  # three free failures, then a wait (tests/api/test_throttle.py)
        limited = client.post("/api/auth/login", json={"email": "limited@example.com", "password": PASSWORD})
        assert_error(limited, 429, "rate_limited")
        assert int(limited.headers["Retry-After"]) >= 1
        # Another email from the same address has its own backoff.
        other = client.post("/api/auth/login", json={"email": "x@example.com", "password": "whatever1"})
        assert other.status_code == 401
        # Register: a bucket per address + email (3 here).
        again = {"email": "r@example.com", "password": PASSWORD}
        assert [client.post("/api/auth/register", json=again).status_code for _ in range(4)] == [201, 409, 409, 429]


def test_validation_errors_use_the_error_schema(sqlite_api: ApiHarness) -> None:
    assert_error(sqlite_api.client.post("/api/auth/register", json={"email": "nope", "password": PASSWORD}), 422)
    assert_error(sqlite_api.client.post("/api/auth/register", json={"email": "a@b.co", "password": "short"}), 422)
    broken = sqlite_api.client.post("/api/auth/login", content=b"{", headers={"Content-Type": "application/json"})
    assert_error(broken, 422)
    assert_error(sqlite_api.client.get("/api/no-such-route"), 404, "not_found")


@pytest.mark.parametrize("scopes", [["read"], ["read", "write"]])
def test_api_tokens_are_scoped_hashed_and_expire(sqlite_api: ApiHarness, scopes: list[str]) -> None:
    owner = sqlite_api.register()
    ws = owner.workspace_id
    wanted = {"name": "ci", "scopes": scopes, "expires_in_days": 7}
    created = sqlite_api.client.post(f"/api/workspaces/{ws}/tokens", headers=owner.headers, json=wanted)
    assert created.status_code == 201, created.text
    secret = created.json()["token"]
    machine = _header_for(secret)
    assert sqlite_api.client.get("/api/jobs", headers=machine).status_code == 200
    job = sqlite_api.client.post("/api/jobs", headers=machine, json={"source_url": "http://10.0.0.1/x.mp4"})
    # write scope gets past the role check to URL validation (422); read-only stops at 403.
    assert job.status_code == (422 if "write" in scopes else 403)
    # Tokens never manage tokens or members, whatever their creator's role.
    assert_error(sqlite_api.client.get(f"/api/workspaces/{ws}/tokens", headers=machine), 403)
    listed = sqlite_api.client.get(f"/api/workspaces/{ws}/tokens", headers=owner.headers).json()
    assert [t["name"] for t in listed] == ["ci"] and "token" not in listed[0]
    assert listed[0]["last_used_at"] is not None
    with sqlite_api.state.sessions() as session:
        assert secret not in session.scalars(select(ApiToken.token_hash)).all()
        session.scalars(select(ApiToken)).one().expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()
    assert_error(sqlite_api.client.get("/api/jobs", headers=machine), 401)


def test_revoked_api_token_and_other_workspace(sqlite_api: ApiHarness) -> None:
    owner, stranger = sqlite_api.register(), sqlite_api.register()
    ws = owner.workspace_id
    secret = sqlite_api.client.post(
        f"/api/workspaces/{ws}/tokens", headers=owner.headers, json={"name": "bot", "scopes": ["read"]}
    ).json()
    machine = _header_for(secret["token"])
    # Bound to its workspace: naming another one is a 404, as for any stranger.
    other = sqlite_api.client.get("/api/jobs", headers={**machine, "X-Workspace-Id": stranger.workspace_id})
    assert_error(other, 404)
    token_url = f"/api/workspaces/{ws}/tokens/{secret['id']}"
    assert_error(sqlite_api.client.delete(token_url, headers=stranger.headers), 404)
    assert sqlite_api.client.delete(token_url, headers=owner.headers).status_code == 204
    assert_error(sqlite_api.client.get("/api/jobs", headers=machine), 401)


def test_members_and_owner_rules(api: ApiHarness) -> None:
    owner, admin, editor = api.register(), api.register(), api.register()
    ws = owner.workspace_id
    members = f"/api/workspaces/{ws}/members"
    add_member(api, owner, ws, admin, "admin")
    add_member(api, admin, ws, editor, "editor")
    again = invite(api, admin, ws, editor.email, "viewer").json()["token"]
    assert_error(api.client.post("/api/invitations/accept", headers=editor.headers, json={"token": again}), 409)
    # Admins manage members but cannot make or unmake owners.
    assert_error(api.client.patch(f"{members}/{editor.user_id}", headers=admin.headers, json={"role": "owner"}), 403)
    assert_error(api.client.delete(f"{members}/{owner.user_id}", headers=admin.headers), 403)
    assert_error(invite(api, editor, ws, "z@example.com", "viewer"), 403)
    # The last owner stays.
    assert_error(api.client.patch(f"{members}/{owner.user_id}", headers=owner.headers, json={"role": "admin"}), 409)
    changed = api.client.patch(f"{members}/{editor.user_id}", headers=admin.headers, json={"role": "viewer"})
    assert changed.json()["role"] == "viewer"
    roles = {m["user"]["email"]: m["role"] for m in api.client.get(members, headers=editor.headers).json()}
    assert roles == {owner.email: "owner", admin.email: "admin", editor.email: "viewer"}
    assert api.client.delete(f"{members}/{editor.user_id}", headers=admin.headers).status_code == 204
    assert_error(api.client.get(members, headers=editor.headers), 404)
    workspaces = api.client.get("/api/workspaces", headers=admin.headers).json()
    assert {w["id"]: w["role"] for w in workspaces}[ws] == "admin" and len(workspaces) == 2
