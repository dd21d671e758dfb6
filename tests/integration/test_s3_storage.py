"""S3Storage against moto's S3 server over HTTP on 127.0.0.1 (a real endpoint, not an in-process mock)."""

import base64
import json
import os
from pathlib import Path

import httpx
import pytest

from clipped.layout import InvalidKeyError
from clipped_resources.s3_storage import S3Storage
from tests.support.s3_server import S3Bucket

MIB = 1024**2


@pytest.fixture
def storage(s3_bucket: S3Bucket, tmp_path: Path) -> S3Storage:
    return S3Storage(
        bucket=s3_bucket.name,
        endpoint_url=s3_bucket.endpoint_url,
        region_name="us-east-1",
        work_dir=str(tmp_path / "work"),
        # S3's smallest part is 5 MiB: a 12 MiB file is three parts.
        multipart_threshold_bytes=5 * MIB,
        multipart_chunk_bytes=5 * MIB,
        max_upload_bytes=1 * MIB,
    )


def test_bytes_json_listing_and_missing_keys(storage: S3Storage) -> None:
    storage.write_json("acme/sources/v/a.json", {"x": 1})
    storage.write_bytes("acme/sources/v/b.bin", b"12345")
    storage.write_bytes("acme-other/sources/v/c.bin", b"no")  # same prefix characters, other workspace
    assert storage.read_json("acme/sources/v/a.json") == {"x": 1}
    assert storage.exists("acme/sources/v/b.bin") and not storage.exists("acme/sources/v/none.bin")
    assert storage.size("acme/sources/v/b.bin") == 5
    assert storage.list_keys("acme") == ["acme/sources/v/a.json", "acme/sources/v/b.bin"]
    [info] = [o for o in storage.list_objects("acme/sources") if o.key.endswith("b.bin")]
    assert info.size == 5 and info.version
    with pytest.raises(FileNotFoundError):
        storage.read_bytes("acme/sources/v/none.bin")
    with pytest.raises(FileNotFoundError), storage.local_path("acme/sources/v/none.bin"):
        pass
    storage.delete("acme/sources/v/b.bin")
    assert not storage.exists("acme/sources/v/b.bin")


def test_bad_keys_and_keys_of_another_workspace_are_refused(storage: S3Storage, s3_bucket: S3Bucket) -> None:
    for key in ["../x", "/abs/key", "acme//x", "acme/../other/x", ""]:
        with pytest.raises(InvalidKeyError):
            storage.write_bytes(key, b"x")
    acme = storage.for_workspace("acme")
    acme.write_bytes("acme/sources/v/mine.bin", b"mine")
    storage.write_bytes("other/sources/v/theirs.bin", b"theirs")
    with pytest.raises(InvalidKeyError):
        acme.read_bytes("other/sources/v/theirs.bin")
    with pytest.raises(InvalidKeyError):
        acme.write_bytes("other/sources/v/planted.bin", b"x")
    with pytest.raises(InvalidKeyError):
        acme.list_keys("other")
    with pytest.raises(InvalidKeyError):
        acme.presigned_get("other/sources/v/theirs.bin")
    assert acme.read_bytes("acme/sources/v/mine.bin") == b"mine"
    keys = [item["Key"] for item in s3_bucket.client().list_objects_v2(Bucket=s3_bucket.name)["Contents"]]
    assert sorted(keys) == ["acme/sources/v/mine.bin", "other/sources/v/theirs.bin"]


def test_read_range_is_a_ranged_get_with_fewer_bytes_at_the_end(storage: S3Storage) -> None:
    storage.write_bytes("acme/clips/c/clip.mp4", b"0123456789")
    storage.write_bytes("acme/clips/c/empty.mp4", b"")
    storage.write_bytes("other/clips/c/clip.mp4", b"secret")
    assert storage.read_range("acme/clips/c/clip.mp4", 2, 3) == b"234"
    assert storage.read_range("acme/clips/c/clip.mp4", 7, 100) == b"789"
    assert storage.read_range("acme/clips/c/clip.mp4", 10, 5) == b""
    assert storage.read_range("acme/clips/c/clip.mp4", 50, 5) == b""
    assert storage.read_range("acme/clips/c/clip.mp4", 3, 0) == b""
    assert storage.read_range("acme/clips/c/empty.mp4", 0, 5) == b""
    for start, length in ((0, 4), (0, 0)):
        with pytest.raises(FileNotFoundError):
            storage.read_range("acme/clips/c/none.mp4", start, length)
    with pytest.raises(ValueError):
        storage.read_range("acme/clips/c/clip.mp4", -1, 4)
    acme = storage.for_workspace("acme")
    assert acme.read_range("acme/clips/c/clip.mp4", 0, 4) == b"0123"
    for key in ("other/clips/c/clip.mp4", "acme/../other/clips/c/clip.mp4"):
        with pytest.raises(InvalidKeyError):
            acme.read_range(key, 0, 6)


def test_rename_raw_copies_server_side_then_deletes_and_never_overwrites(
    storage: S3Storage, s3_bucket: S3Bucket
) -> None:
    client = s3_bucket.client()
    for key in ("acme/inbox/My Stream (Nov 20) é.mp4", "acme/inbox/..\\x.mp4", "acme/inbox/../../escape.mp4"):
        client.put_object(Bucket=s3_bucket.name, Key=key, Body=key.encode())
    acme = storage.for_workspace("acme")
    acme.rename_raw("acme/inbox/My Stream (Nov 20) é.mp4", "acme/inbox/my-stream-nov-20-e.mp4")
    assert acme.read_bytes("acme/inbox/my-stream-nov-20-e.mp4") == "acme/inbox/My Stream (Nov 20) é.mp4".encode()
    with pytest.raises(FileExistsError):
        acme.rename_raw("acme/inbox/..\\x.mp4", "acme/inbox/my-stream-nov-20-e.mp4")
    with pytest.raises(InvalidKeyError):
        acme.rename_raw("acme/inbox/../../escape.mp4", "acme/inbox/escape.mp4")
    with pytest.raises(InvalidKeyError):
        acme.rename_raw("acme/inbox/..\\x.mp4", "other/inbox/x.mp4")
    with pytest.raises(FileNotFoundError):
        acme.rename_raw("acme/inbox/Gone Talk.mp4", "acme/inbox/gone.mp4")
    acme.rename_raw("acme/inbox/..\\x.mp4", "acme/inbox/x.mp4")
    keys = sorted(item["Key"] for item in client.list_objects_v2(Bucket=s3_bucket.name)["Contents"])
    assert keys == ["acme/inbox/../../escape.mp4", "acme/inbox/my-stream-nov-20-e.mp4", "acme/inbox/x.mp4"]


def test_large_file_goes_multipart_and_streams_back_to_the_work_dir(storage: S3Storage, tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(12 * MIB))
    storage.put_file(big, "acme/sources/v/source.mp4")
    head = storage.s3_client().head_object(Bucket=storage.bucket, Key="acme/sources/v/source.mp4")
    assert head["ETag"].strip('"').endswith("-3"), "a 12 MiB file with 5 MiB parts is a 3-part upload"
    assert head["ContentType"] == "video/mp4"
    with storage.local_path("acme/sources/v/source.mp4") as local:
        assert local.is_relative_to(tmp_path / "work")
        assert local.read_bytes() == big.read_bytes()
    assert not local.exists(), "the downloaded copy is removed when the block ends"
    assert list((tmp_path / "work").iterdir()) == []


def test_failed_multipart_upload_leaves_no_visible_object(storage: S3Storage, tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(12 * MIB))
    client = storage.s3_client()
    parts_sent = []

    def fail_after_first_part(**_: object) -> None:
        parts_sent.append(1)
        if len(parts_sent) > 1:
            raise ConnectionError("network dropped mid-upload")

    client.meta.events.register("before-call.s3.UploadPart", fail_after_first_part)
    with pytest.raises(ConnectionError):
        storage.put_file(big, "acme/sources/v/source.mp4")
    client.meta.events.unregister("before-call.s3.UploadPart", fail_after_first_part)
    assert not storage.exists("acme/sources/v/source.mp4")
    assert storage.list_keys("acme") == []
    assert client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", []) == [], "upload was aborted"


def test_writer_publishes_only_a_completed_block(storage: S3Storage) -> None:
    with pytest.raises(RuntimeError), storage.writer("acme/clips/c1/clip.mp4") as path:
        path.write_bytes(b"half")
        raise RuntimeError("render crashed")
    assert not storage.exists("acme/clips/c1/clip.mp4")
    with storage.writer("acme/clips/c1/clip.mp4") as path:
        path.write_bytes(b"whole")
    assert storage.read_bytes("acme/clips/c1/clip.mp4") == b"whole"


def test_copy_and_move_are_server_side_and_complete(storage: S3Storage) -> None:
    storage.write_bytes("acme/inbox/talk.mp4", b"video bytes")
    storage.copy("acme/inbox/talk.mp4", "acme/sources/v/upload.mp4")
    storage.move("acme/inbox/talk.mp4", "acme/quarantine/talk.mp4")
    assert storage.read_bytes("acme/sources/v/upload.mp4") == b"video bytes"
    assert storage.read_bytes("acme/quarantine/talk.mp4") == b"video bytes"
    assert not storage.exists("acme/inbox/talk.mp4")
    with pytest.raises(FileNotFoundError):
        storage.move("acme/inbox/talk.mp4", "acme/quarantine/again.mp4")


def test_presigned_get_works_over_plain_http(storage: S3Storage) -> None:
    storage.write_bytes("acme/clips/c1/clip.mp4", b"clip bytes")
    url = storage.presigned_get("acme/clips/c1/clip.mp4", expires_s=60)
    assert "X-Amz-Expires=60" in url and "X-Amz-Signature=" in url
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == b"clip bytes"


def test_presigned_upload_accepts_a_video_over_http(storage: S3Storage, tmp_path: Path) -> None:
    upload = storage.for_workspace("acme").presigned_put("acme/inbox/talk.mp4", "video/mp4", 1000, expires_s=120)
    assert upload.method == "POST" and upload.max_bytes == 1000
    response = httpx.post(upload.url, data=upload.fields, files={"file": ("talk.mp4", b"\x00" * 500, "video/mp4")})
    assert response.status_code in (200, 201, 204), response.text
    assert storage.read_bytes("acme/inbox/talk.mp4") == b"\x00" * 500
    # The limits travel in the signed policy the store checks (AWS S3 and MinIO enforce it).
    policy = json.loads(base64.b64decode(upload.fields["policy"]))
    assert ["content-length-range", 1, 1000] in policy["conditions"]
    assert {"Content-Type": "video/mp4"} in policy["conditions"]
    assert {"key": "acme/inbox/talk.mp4"} in policy["conditions"]


def test_presigned_upload_refuses_other_types_oversized_caps_and_other_workspaces(storage: S3Storage) -> None:
    with pytest.raises(ValueError, match="not an accepted video type"):
        storage.presigned_put("acme/inbox/page.html", "text/html")
    with pytest.raises(ValueError, match="between 1 and"):
        storage.presigned_put("acme/inbox/huge.mp4", "video/mp4", max_bytes=2 * MIB)
    with pytest.raises(InvalidKeyError):
        storage.for_workspace("acme").presigned_put("other/inbox/talk.mp4", "video/mp4")
    for content_type in ("video/quicktime", "video/webm", "video/x-matroska"):
        assert storage.presigned_put("acme/inbox/ok", content_type).content_type == content_type
