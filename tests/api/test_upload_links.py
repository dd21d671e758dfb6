"""Upload links follow their issuer's access (as media links do), and an upload takes one complete body."""

from __future__ import annotations

from tests.api.conftest import ApiHarness
from tests.api.members import add_member
from tests.api.test_auth import assert_error
from tests.api.test_uploads import HTML, stored_files, ticket
from tests.api.world import FAKE_MP4


def test_upload_link_of_a_removed_member_or_revoked_token_writes_nothing(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    owner, editor = api.register(), api.register()
    ws = owner.workspace_id
    add_member(api, owner, ws, editor, "editor")
    pending = api.client.post(  # in the owner's workspace, not the editor's own
        "/api/uploads",
        headers={**editor.headers, "X-Workspace-Id": ws},
        json={"filename": "a.mp4", "content_type": "video/mp4", "size": len(FAKE_MP4)},
    ).json()
    assert api.client.delete(f"/api/workspaces/{ws}/members/{editor.user_id}", headers=owner.headers).is_success
    assert_error(api.client.put(pending["url"], content=FAKE_MP4, headers=pending["headers"]), 404, "not_found")

    created = api.client.post(
        f"/api/workspaces/{ws}/tokens", headers=owner.headers, json={"name": "ci", "scopes": ["read", "write"]}
    ).json()
    machine = {"Authorization": f"Bearer {created['token']}"}
    issued = api.client.post(
        "/api/uploads", headers=machine, json={"filename": "b.mp4", "content_type": "video/mp4", "size": 4096}
    ).json()
    assert api.client.delete(f"/api/workspaces/{ws}/tokens/{created['id']}", headers=owner.headers).is_success
    assert_error(api.client.put(issued["url"], content=FAKE_MP4, headers=issued["headers"]), 401, "unauthorized")
    assert stored_files(api) == []


def test_an_upload_takes_one_complete_body(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    account = api.register()
    upload = ticket(api, account, size=len(HTML) + len(FAKE_MP4)).json()
    put = api.client.put
    # A refused body (not a video) leaves the upload open for a retry.
    assert_error(put(upload["url"], content=HTML, headers=upload["headers"]), 415)
    assert put(upload["url"], content=FAKE_MP4, headers=upload["headers"]).status_code == 200
    (stored,) = stored_files(api)
    # Once bytes are in, another PUT (before or after confirm) cannot replace them.
    other = FAKE_MP4[:-8] + b"replaced"
    assert_error(put(upload["url"], content=other, headers=upload["headers"]), 409, "conflict")
    assert stored.read_bytes() == FAKE_MP4
    confirmed = api.client.post(f"/api/uploads/{upload['upload_id']}/confirm", headers=account.headers)
    assert confirmed.status_code == 200 and confirmed.json()["size"] == len(FAKE_MP4)
    assert_error(put(upload["url"], content=other, headers=upload["headers"]), 409, "conflict")
    assert stored.read_bytes() == FAKE_MP4
