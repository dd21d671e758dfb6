"""LocalStorage's listing with versions, copy/move, the workspace view and its (absent) presigned URLs."""

from pathlib import Path

import pytest

from clipped_resources.storage import LocalStorage, StorageKeyError


def test_list_objects_sees_size_and_a_new_version_after_a_rewrite(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    storage.write_bytes("acme/inbox/a.mp4", b"12")
    [before] = storage.list_objects("acme/inbox")
    (tmp_path / "acme/inbox/a.mp4").write_bytes(b"1234")
    [after] = storage.list_objects("acme/inbox/")
    assert (before.key, before.size, after.size) == ("acme/inbox/a.mp4", 2, 4)
    assert before.version != after.version
    assert storage.list_objects("acme/missing") == []


def test_copy_and_move_publish_whole_files(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    storage.write_bytes("acme/inbox/a.mp4", b"video")
    storage.copy("acme/inbox/a.mp4", "acme/sources/v/upload.mp4")
    storage.move("acme/inbox/a.mp4", "acme/quarantine/a.mp4")
    assert storage.read_bytes("acme/sources/v/upload.mp4") == b"video"
    assert storage.read_bytes("acme/quarantine/a.mp4") == b"video"
    assert not storage.exists("acme/inbox/a.mp4")
    with pytest.raises(FileNotFoundError):
        storage.move("acme/inbox/a.mp4", "acme/quarantine/b.mp4")


def test_workspace_view_refuses_keys_of_other_workspaces(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    storage.write_bytes("other/sources/v/secret.json", b"{}")
    acme = storage.for_workspace("acme")
    acme.write_bytes("acme/sources/v/a.json", b"{}")
    for call in (
        lambda: acme.read_bytes("other/sources/v/secret.json"),
        lambda: acme.write_bytes("other/sources/v/planted.json", b"{}"),
        lambda: acme.move("acme/sources/v/a.json", "other/sources/v/a.json"),
        lambda: acme.list_keys("other"),
        lambda: acme.read_bytes("acme/../other/sources/v/secret.json"),
    ):
        with pytest.raises(StorageKeyError):
            call()
    assert storage.list_keys("other") == ["other/sources/v/secret.json"]
    assert acme.list_keys("acme") == ["acme/sources/v/a.json"]


def test_local_storage_has_no_presigned_urls(tmp_path: Path) -> None:
    """None tells the caller to serve or accept the bytes through its own route."""
    storage = LocalStorage(root=str(tmp_path))
    assert storage.presigned_get("acme/clips/c/clip.mp4") is None
    assert storage.presigned_put("acme/inbox/a.mp4", "video/mp4", 10) is None


def test_read_range_returns_the_slice_fewer_bytes_at_the_end_and_none_past_it(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    storage.write_bytes("acme/clips/c/clip.mp4", b"0123456789")
    assert storage.read_range("acme/clips/c/clip.mp4", 2, 3) == b"234"
    assert storage.read_range("acme/clips/c/clip.mp4", 7, 100) == b"789"
    assert storage.read_range("acme/clips/c/clip.mp4", 10, 5) == b""
    assert storage.read_range("acme/clips/c/clip.mp4", 50, 5) == b""
    assert storage.read_range("acme/clips/c/clip.mp4", 0, 0) == b""
    with pytest.raises(FileNotFoundError):
        storage.read_range("acme/clips/c/none.mp4", 0, 4)
    with pytest.raises(FileNotFoundError):
        storage.read_range("acme/clips/c", 0, 4)  # a folder is not an object
    with pytest.raises(ValueError):
        storage.read_range("acme/clips/c/clip.mp4", -1, 4)
    with pytest.raises(ValueError):
        storage.read_range("acme/clips/c/clip.mp4", 0, -4)


def test_workspace_view_reads_ranges_only_inside_its_workspace(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    storage.write_bytes("other/clips/c/clip.mp4", b"secret")
    acme = storage.for_workspace("acme")
    acme.write_bytes("acme/clips/c/clip.mp4", b"mine")
    assert acme.read_range("acme/clips/c/clip.mp4", 1, 2) == b"in"
    for key in ("other/clips/c/clip.mp4", "acme/../other/clips/c/clip.mp4", "/etc/passwd"):
        with pytest.raises(StorageKeyError):
            acme.read_range(key, 0, 6)
