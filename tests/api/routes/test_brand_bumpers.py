"""PUT/GET/DELETE /api/workspaces/{id}/brand-kit/intro|outro: a short video stored in the brand folder."""

from __future__ import annotations

from pathlib import Path

from clipped.brand.kit import BUMPER_FILES, brand_key
from tests.api.conftest import ApiHarness
from tests.unit.test_bumpers import make_video


def test_an_intro_is_uploaded_read_and_removed(sqlite_api: ApiHarness, tmp_path: Path) -> None:
    api, account = sqlite_api, sqlite_api.register()
    base = f"/api/workspaces/{account.workspace_id}/brand-kit"
    assert api.client.get(f"{base}/intro", headers=account.headers).status_code == 204
    bad = api.client.put(f"{base}/intro", headers=account.headers, content=b"not a video")
    assert bad.status_code == 422 and "intro cannot be used" in bad.text
    assert api.client.put(f"{base}/opening", headers=account.headers, content=b"x").status_code == 422

    video = make_video(tmp_path / "intro.mp4", 1.0, "320x180", tone_hz=880).read_bytes()
    uploaded = api.client.put(f"{base}/intro", headers=account.headers, content=video)
    assert uploaded.status_code == 200 and (uploaded.json()["has_intro"], uploaded.json()["has_outro"]) == (True, False)
    assert api.state.storage.exists(brand_key(account.workspace_id, BUMPER_FILES["intro"]))
    read = api.client.get(f"{base}/intro", headers=account.headers)
    assert read.content == video and read.headers["content-type"] == "video/mp4"
    # The kit's own PUT cannot claim an intro that is not stored, nor drop one that is.
    assert api.client.put(base, headers=account.headers, json={"has_outro": True}).json()["has_intro"] is True
    assert api.client.get(base, headers=account.headers).json()["has_outro"] is False

    removed = api.client.delete(f"{base}/intro", headers=account.headers)
    assert removed.status_code == 200 and removed.json()["has_intro"] is False
