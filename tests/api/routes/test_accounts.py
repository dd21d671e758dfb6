"""Connecting platform accounts through the API, end to end against the local fake TikTok and X: the browser's
part of the flow is played with httpx (the fake's consent page redirects at once) and the TestClient (its cookie
jar is the browser's). Then plans, disable and disconnect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.api.conftest import Account, ApiHarness, RecordingLauncher, fake_platform_env, make_harness
from tests.api.members import add_member
from tests.api.world import seed_world
from tests.support.fake_tiktok import FakeTikTok, fake_tiktok_fixture  # noqa: F401  (provides fake_tiktok)
from tests.support.fake_x import FakeX, fake_x_fixture  # noqa: F401  (provides fake_x)

PUBLIC_URL = "http://testserver"  # the TestClient's own origin, so the platforms redirect back into it


@pytest.fixture
def api(
    api_env: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_tiktok: FakeTikTok,
    fake_x: FakeX,
) -> Iterator[ApiHarness]:
    """The app with TikTok and X configured to the fakes (YouTube and Instagram left unconfigured)."""
    for name, value in fake_platform_env(PUBLIC_URL, tiktok=fake_tiktok, x=fake_x).items():
        monkeypatch.setenv(name, value)
    harness = make_harness(api_env, f"sqlite:///{tmp_path / 'app.db'}", RecordingLauncher())
    with harness.client:
        yield harness


def start_connect(api: ApiHarness, admin: Account, platform: str) -> str:
    """POST connect; the authorize URL (the response also set the flow's cookie in the client)."""
    started = api.client.post(
        f"/api/workspaces/{admin.workspace_id}/accounts/connect", headers=admin.headers, json={"platform": platform}
    )
    assert started.status_code == 200, started.text
    return started.json()["authorize_url"]


def consent(authorize_url: str) -> str:
    """The platform's consent page (the fakes consent at once): the callback URL it sends the browser to."""
    answer = httpx.get(authorize_url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def come_back(api: ApiHarness, callback_url: str) -> dict[str, list[str]]:
    """Follow the platform's redirect into the API; the web app page it redirects to, as its hash query."""
    back = api.client.get(callback_url, follow_redirects=False)
    assert back.status_code == 303, back.text
    location = back.headers["location"]
    assert location.startswith("/#/accounts?"), location
    return parse_qs(location.split("?", 1)[1])


def connect(api: ApiHarness, admin: Account, platform: str) -> dict[str, list[str]]:
    return come_back(api, consent(start_connect(api, admin, platform)))


def accounts_of(api: ApiHarness, member: Account) -> list[dict]:
    listed = api.client.get(f"/api/workspaces/{member.workspace_id}/accounts", headers=member.headers)
    assert listed.status_code == 200, listed.text
    return listed.json()


def test_connect_binds_the_flow_to_the_browser_and_stores_the_account(api: ApiHarness, fake_tiktok: FakeTikTok):
    admin = api.register()
    authorize_url = start_connect(api, admin, "tiktok")
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/api/oauth/tiktok/callback"]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    [cookie] = [c for c in api.client.cookies.jar if c.name.startswith("clipped_oauth_")]
    assert cookie.path == "/api/oauth/tiktok/callback" and cookie.has_nonstandard_attr("HttpOnly")
    assert query["state"][0] not in cookie.value  # a keyed hash of the state, not the state

    assert come_back(api, consent(authorize_url)) == {"connected": ["tiktok"]}
    assert not [c for c in api.client.cookies.jar if c.name.startswith("clipped_oauth_")]  # removed on the way back
    [account] = accounts_of(api, admin)
    assert account["platform"] == "tiktok" and account["display_name"] == fake_tiktok.display_name
    assert account["health"] == "active" and account["plan"]["cadence_hours"] == 12
    [grant] = fake_tiktok.grants
    listed = api.client.get(f"/api/workspaces/{admin.workspace_id}/accounts", headers=admin.headers).text
    assert grant.access_token not in listed and grant.refresh_token not in listed and "sealed" not in listed
    # Stored sealed: the store's rows hold no token in the clear.
    stored = api.state.publisher.store().get_account(account["id"])
    assert grant.access_token not in stored.model_dump_json()


def test_x_connects_with_pkce(api: ApiHarness, fake_x: FakeX) -> None:
    admin = api.register()
    assert connect(api, admin, "x") == {"connected": ["x"]}
    [account] = accounts_of(api, admin)
    assert account["platform"] == "x" and account["health"] == "active"


def test_a_state_works_once(api: ApiHarness) -> None:
    admin = api.register()
    callback = consent(start_connect(api, admin, "tiktok"))
    cookies = list(api.client.cookies.jar)
    assert come_back(api, callback) == {"connected": ["tiktok"]}
    for cookie in cookies:  # even with the flow's cookie put back, the same state again is refused
        api.client.cookies.set(cookie.name, cookie.value, domain=cookie.domain, path=cookie.path)
    assert come_back(api, callback) == {"error": ["expired"]}
    assert len(accounts_of(api, admin)) == 1


def test_a_callback_without_the_flows_cookie_is_refused(api: ApiHarness, fake_tiktok: FakeTikTok) -> None:
    admin = api.register()
    callback = consent(start_connect(api, admin, "tiktok"))
    # Another browser (an attacker's link opened by someone else) has no cookie, or a cookie of another flow.
    api.client.cookies.clear()
    assert come_back(api, callback) == {"error": ["session_mismatch"]}
    assert accounts_of(api, admin) == [] and fake_tiktok.grants == []  # the code was never exchanged
    callback = consent(start_connect(api, admin, "tiktok"))
    for cookie in list(api.client.cookies.jar):
        api.client.cookies.set(cookie.name, "0" * 64, domain=cookie.domain, path=cookie.path)
    assert come_back(api, callback) == {"error": ["session_mismatch"]}
    assert accounts_of(api, admin) == []


def test_refusals_at_the_platform_and_bad_states_say_why_without_echoing(api: ApiHarness) -> None:
    admin = api.register()
    callback = consent(start_connect(api, admin, "tiktok"))
    state = parse_qs(urlsplit(callback).query)["state"][0]
    denied = f"/api/oauth/tiktok/callback?error=access_denied&error_description=nope&state={state}"
    assert come_back(api, denied) == {"error": ["denied"]}
    assert come_back(api, "/api/oauth/tiktok/callback?code=abc") == {"error": ["invalid_state"]}
    back = api.client.get("/api/oauth/tiktok/callback?code=secret-code&state=made-up", follow_redirects=False)
    assert back.status_code == 303 and "secret-code" not in back.headers["location"]
    # A flow started for TikTok cannot finish as X.
    callback = consent(start_connect(api, admin, "tiktok"))
    assert come_back(api, callback.replace("/oauth/tiktok/", "/oauth/x/")) == {"error": ["expired"]}
    assert accounts_of(api, admin) == []


def test_reconnect_after_needs_reconnect_updates_the_same_account(api: ApiHarness, fake_tiktok: FakeTikTok) -> None:
    admin = api.register()
    connect(api, admin, "tiktok")
    [before] = accounts_of(api, admin)
    store = api.state.publisher.store()
    account = store.get_account(before["id"])
    first_sealed = account.sealed_grant
    account.health, account.health_detail = "needs_reconnect", "TikTok token refresh: HTTP 400 (invalid_grant)"
    store.save_account(account)
    [marked] = accounts_of(api, admin)
    assert marked["health"] == "needs_reconnect" and "invalid_grant" in marked["health_detail"]

    assert connect(api, admin, "tiktok") == {"connected": ["tiktok"]}
    [after] = accounts_of(api, admin)
    assert after["id"] == before["id"] and after["health"] == "active" and after["health_detail"] == ""
    stored = store.get_account(before["id"])
    assert stored.sealed_grant != first_sealed
    assert api.state.publisher.vault().open(stored.sealed_grant).access_token == fake_tiktok.grants[-1].access_token


def test_connect_needs_an_admin_and_a_configured_platform(api: ApiHarness) -> None:
    admin = api.register()
    editor = api.register()
    add_member(api, admin, admin.workspace_id, editor, "editor")
    connect_url = f"/api/workspaces/{admin.workspace_id}/accounts/connect"
    refused = api.client.post(connect_url, headers=editor.headers, json={"platform": "tiktok"})
    assert refused.status_code == 403
    unconfigured = api.client.post(connect_url, headers=admin.headers, json={"platform": "youtube"})
    assert unconfigured.status_code == 409 and unconfigured.json()["error"]["code"] == "platform_not_configured"
    assert "CLIPPED_YOUTUBE_CLIENT_ID" in unconfigured.json()["error"]["message"]
    unknown = api.client.post(connect_url, headers=admin.headers, json={"platform": "myspace"})
    assert unknown.status_code == 422
    platforms = {p["id"]: p for p in api.client.get("/api/platforms", headers=editor.headers).json()}
    assert {k for k, p in platforms.items() if p["configured"]} == {"tiktok", "x"}
    assert platforms["x"]["caption_max"] == 280
    # Editors read the list (they schedule to these accounts); viewers have no Publish access (the seed's roles).
    assert api.client.get(f"/api/workspaces/{admin.workspace_id}/accounts", headers=editor.headers).status_code == 200
    viewer = api.register()
    add_member(api, admin, admin.workspace_id, viewer, "viewer")
    refused = api.client.get(f"/api/workspaces/{admin.workspace_id}/accounts", headers=viewer.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


def test_a_member_removed_during_the_flow_cannot_finish_it(api: ApiHarness) -> None:
    owner = api.register()
    admin = api.register()
    members = f"/api/workspaces/{owner.workspace_id}/members"
    add_member(api, owner, owner.workspace_id, admin, "admin")
    as_admin = Account(admin.user_id, admin.email, owner.workspace_id, admin.access_token, admin.refresh_token)
    callback = consent(start_connect(api, as_admin, "tiktok"))
    api.client.delete(f"{members}/{admin.user_id}", headers=owner.headers)
    assert come_back(api, callback) == {"error": ["forbidden"]}
    assert accounts_of(api, owner) == []


def test_plan_changes_are_checked_and_disable_enable(api: ApiHarness) -> None:
    admin = api.register()
    connect(api, admin, "tiktok")
    [account] = accounts_of(api, admin)
    url = f"/api/accounts/{account['id']}"
    plan = {"cadence_hours": 6, "window_start": "09:30", "window_end": "21:00", "timezone": "Europe/Paris"}
    changed = api.client.patch(url, headers=admin.headers, json={"plan": plan})
    assert changed.status_code == 200, changed.text
    assert changed.json()["plan"] == {**plan, "jitter_minutes": 30}
    for bad in (
        {"timezone": "Mars/Olympus"},
        {"timezone": "../../etc/passwd"},
        {"window_start": "22:00", "window_end": "08:00"},
        {"window_start": "8am"},
        {"window_start": "10:00", "window_end": "10:20", "jitter_minutes": 30},
        {"cadence_hours": 0},
    ):
        refused = api.client.patch(url, headers=admin.headers, json={"plan": bad})
        assert refused.status_code == 422, (bad, refused.text)
    assert accounts_of(api, admin)[0]["plan"]["timezone"] == "Europe/Paris"
    disabled = api.client.patch(url, headers=admin.headers, json={"disabled": True}).json()
    assert disabled["health"] == "disabled"
    assert api.client.patch(url, headers=admin.headers, json={"disabled": False}).json()["health"] == "active"


def test_disconnect_cancels_the_accounts_scheduled_posts(api: ApiHarness) -> None:
    world = seed_world(api)
    headers = world.owner.headers
    assert api.client.delete(f"/api/accounts/{world.account_id}", headers=headers).status_code == 204
    assert accounts_of(api, world.owner) == []
    [publication] = api.client.get(f"/api/clips/{world.clip_id}/publications", headers=headers).json()
    assert publication["status"] == "canceled" and publication["error"] == "the account was disconnected"
    assert publication["account_name"] == ""
    assert api.client.delete(f"/api/accounts/{world.account_id}", headers=headers).status_code == 404


def test_an_account_is_not_disconnected_mid_post(api: ApiHarness) -> None:
    world = seed_world(api)
    store = api.state.publisher.store()
    publication = store.get_publication(world.publication_id)
    publication.status = "publishing"
    store.save_publication(publication)
    refused = api.client.delete(f"/api/accounts/{world.account_id}", headers=world.owner.headers)
    assert refused.status_code == 409 and "being published" in refused.json()["error"]["message"]
    assert store.get_account(world.account_id) is not None
