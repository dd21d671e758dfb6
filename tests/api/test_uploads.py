"""Uploads: refused types and sizes, lying bytes, path traversal in names: clear 4xx and nothing stored.
Also the presigned S3 path on the moto server (prod profile)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.models import Upload
from clipped_resources.s3_storage import S3Storage
from tests.api.conftest import Account, ApiHarness, s3_harness
from tests.api.world import FAKE_MP4

HTML = b"<!doctype html><html><script>alert(1)</script></html>" * 4


def ticket(api: ApiHarness, account: Account, **overrides):
    body = {"filename": "talk.mp4", "content_type": "video/mp4", "size": len(FAKE_MP4), **overrides}
    return api.client.post("/api/uploads", headers=account.headers, json=body)


def stored_files(api: ApiHarness) -> list[Path]:
    root = api.home / "storage"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_refused_declarations_store_nothing(sqlite_api: ApiHarness) -> None:
    account = sqlite_api.register()
    for content_type in ("text/html", "image/svg+xml", "application/octet-stream"):
        refused = ticket(sqlite_api, account, content_type=content_type)
        assert refused.status_code == 415 and refused.json()["error"]["code"] == "unsupported_media_type"
    too_big = ticket(sqlite_api, account, size=sqlite_api.state.settings.max_upload_bytes + 1)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
    assert ticket(sqlite_api, account, size=0).status_code == 422
    with sqlite_api.state.sessions() as session:
        assert session.query(Upload).count() == 0
    assert stored_files(sqlite_api) == []


def test_lying_or_oversized_bytes_are_refused_and_not_stored(sqlite_api: ApiHarness) -> None:
    account = sqlite_api.register()
    html = ticket(sqlite_api, account, size=len(HTML)).json()
    put = sqlite_api.client.put(html["url"], content=HTML, headers=html["headers"])
    assert put.status_code == 415
    longer = ticket(sqlite_api, account, size=100).json()  # declares 100 bytes, sends more
    assert sqlite_api.client.put(longer["url"], content=FAKE_MP4, headers=longer["headers"]).status_code == 413
    webm = ticket(sqlite_api, account, filename="a.webm", content_type="video/webm").json()
    assert sqlite_api.client.put(webm["url"], content=FAKE_MP4, headers=webm["headers"]).status_code == 415
    empty = ticket(sqlite_api, account).json()
    unsent = sqlite_api.client.post(f"/api/uploads/{empty['upload_id']}/confirm", headers=account.headers)
    assert unsent.status_code == 409
    assert stored_files(sqlite_api) == []
    # No job starts from an upload that never arrived.
    job = sqlite_api.client.post("/api/jobs", headers=account.headers, json={"upload_id": empty["upload_id"]})
    assert job.status_code == 409


def test_upload_url_token_is_bound_to_its_upload(sqlite_api: ApiHarness) -> None:
    account = sqlite_api.register()
    first, second = ticket(sqlite_api, account).json(), ticket(sqlite_api, account).json()
    token = first["url"].split("token=")[1]
    swapped = sqlite_api.client.put(f"/api/uploads/{second['upload_id']}/content?token={token}", content=FAKE_MP4)
    assert swapped.status_code == 404
    forged = sqlite_api.client.put(f"/api/uploads/{second['upload_id']}/content?token=abc", content=FAKE_MP4)
    assert forged.status_code == 401
    assert sqlite_api.client.put(f"/api/uploads/{second['upload_id']}/content", content=FAKE_MP4).status_code == 401
    assert stored_files(sqlite_api) == []


@pytest.mark.parametrize(
    "filename", ["../../../../tmp/evil.mp4", "..\\..\\windows\\evil.mp4", "/etc/passwd", "a/../../b.mp4", "\x00.mp4"]
)
def test_path_traversal_names_never_become_paths(sqlite_api: ApiHarness, filename: str, tmp_path: Path) -> None:
    account = sqlite_api.register()
    issued = ticket(sqlite_api, account, filename=filename)
    assert issued.status_code == 201
    upload = issued.json()
    assert sqlite_api.client.put(upload["url"], content=FAKE_MP4, headers=upload["headers"]).status_code == 200
    confirmed = sqlite_api.client.post(f"/api/uploads/{upload['upload_id']}/confirm", headers=account.headers)
    assert confirmed.status_code == 200
    files = stored_files(sqlite_api)
    root = (sqlite_api.home / "storage").resolve()
    assert files == [root / account.workspace_id / "uploads" / f"{upload['upload_id']}.mp4"]
    with sqlite_api.state.sessions() as session:
        label = session.get(Upload, upload["upload_id"]).display_name
    assert "/" not in label and "\\" not in label and ".." not in label and "\x00" not in label
    assert not (tmp_path.parent / "evil.mp4").exists()


def test_confirm_sniffs_what_storage_holds(sqlite_api: ApiHarness) -> None:
    """Bytes that reached storage another way are checked on confirm too: refused ones are deleted."""
    account = sqlite_api.register()
    with sqlite_api.state.sessions() as session:
        keys = {}
        for name in ("html", "video"):
            issued = ticket(sqlite_api, account, size=len(HTML)).json()
            keys[name] = (issued["upload_id"], session.get(Upload, issued["upload_id"]).storage_key)
    sqlite_api.state.storage.write_bytes(keys["html"][1], HTML)
    sqlite_api.state.storage.write_bytes(keys["video"][1], FAKE_MP4[: len(HTML)])
    refused = sqlite_api.client.post(f"/api/uploads/{keys['html'][0]}/confirm", headers=account.headers)
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "unsupported_media_type"
    accepted = sqlite_api.client.post(f"/api/uploads/{keys['video'][0]}/confirm", headers=account.headers)
    assert accepted.status_code == 200 and accepted.json()["size"] == len(HTML)
    assert [p.name for p in stored_files(sqlite_api)] == [f"{keys['video'][0]}.mp4"]


def test_presigned_upload_to_s3_then_confirm(api_env, tmp_path: Path, s3_bucket, monkeypatch) -> None:
    # Confirm sniffs with a ranged GET of the first bytes: it must never fetch the whole object.
    def no_download(*_args, **_kwargs):
        raise AssertionError("confirm downloaded the whole upload")

    monkeypatch.setattr(S3Storage, "download", no_download)
    monkeypatch.setattr(S3Storage, "local_path", no_download)
    monkeypatch.setattr(S3Storage, "read_bytes", no_download)
    harness = s3_harness(api_env, tmp_path, s3_bucket, monkeypatch)
    with harness.client:
        account = harness.register()
        good = ticket(harness, account).json()
        assert good["method"] == "POST" and good["url"].startswith(s3_bucket.endpoint_url) and good["fields"]
        sent = httpx.post(good["url"], data=good["fields"], files={"file": ("talk.mp4", FAKE_MP4, "video/mp4")})
        assert sent.status_code in (200, 204), sent.text
        confirmed = harness.client.post(f"/api/uploads/{good['upload_id']}/confirm", headers=account.headers)
        assert confirmed.status_code == 200 and confirmed.json()["size"] == len(FAKE_MP4)

        lying = ticket(harness, account, size=len(HTML)).json()
        sent = httpx.post(lying["url"], data=lying["fields"], files={"file": ("x.mp4", HTML, "video/mp4")})
        assert sent.status_code in (200, 204)
        refused = harness.client.post(f"/api/uploads/{lying['upload_id']}/confirm", headers=account.headers)
        assert refused.status_code == 415

        # More bytes than declared (put past the presigned policy, straight into the bucket): 413, deleted.
        small = ticket(harness, account, size=100).json()
        with harness.state.sessions() as session:
            small_key = session.get(Upload, small["upload_id"]).storage_key
        s3_bucket.client().put_object(Bucket=s3_bucket.name, Key=small_key, Body=FAKE_MP4)
        oversized = harness.client.post(f"/api/uploads/{small['upload_id']}/confirm", headers=account.headers)
        assert oversized.status_code == 413 and oversized.json()["error"]["code"] == "payload_too_large"
        keys = [o["Key"] for o in s3_bucket.client().list_objects_v2(Bucket=s3_bucket.name).get("Contents", [])]
        assert keys == [f"{account.workspace_id}/uploads/{good['upload_id']}.mp4"]
