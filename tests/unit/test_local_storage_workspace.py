"""LocalStorage's listing with versions, copy/move, the workspace view and its (absent) presigned URLs."""

from pathlib import Path

import pytest

from clipped.layout import InvalidKeyError
from clipped_resources.storage import LocalStorage


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
        with pytest.raises(InvalidKeyError):
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
        with pytest.raises(InvalidKeyError):
            acme.read_range(key, 0, 6)


def test_rename_raw_gives_an_odd_inbox_name_a_safe_key_without_copying_or_overwriting(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    inbox = tmp_path / "acme" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "My Talk (1).mp4").write_bytes(b"video")
    inode = (inbox / "My Talk (1).mp4").stat().st_ino
    acme = storage.for_workspace("acme")
    acme.rename_raw("acme/inbox/My Talk (1).mp4", "acme/inbox/my-talk-1.mp4")
    assert acme.read_bytes("acme/inbox/my-talk-1.mp4") == b"video"
    assert (inbox / "my-talk-1.mp4").stat().st_ino == inode, "same file, no copy"
    assert not (inbox / "My Talk (1).mp4").exists()

    (inbox / "Other Talk.mp4").write_bytes(b"other")
    with pytest.raises(FileExistsError):
        acme.rename_raw("acme/inbox/Other Talk.mp4", "acme/inbox/my-talk-1.mp4")
    assert (inbox / "Other Talk.mp4").read_bytes() == b"other"
    assert acme.read_bytes("acme/inbox/my-talk-1.mp4") == b"video"
    with pytest.raises(FileNotFoundError):
        acme.rename_raw("acme/inbox/Gone Talk.mp4", "acme/inbox/gone.mp4")


@pytest.mark.parametrize(
    ("raw_key", "target_key"),
    [
        ("acme/inbox/..", "acme/inbox/x.mp4"),
        ("acme/inbox/.", "acme/inbox/x.mp4"),
        ("acme/inbox/", "acme/inbox/x.mp4"),
        ("acme/inbox/a\0b.mp4", "acme/inbox/x.mp4"),
        ("acme/inbox/../sources/v/upload.mp4", "acme/inbox/x.mp4"),
        ("acme/inbox/Odd Folder/a.mp4", "acme/inbox/x.mp4"),
        ("acme/sources/v/Odd Name.mp4", "acme/sources/v/x.mp4"),
        ("other/inbox/Odd Name.mp4", "other/inbox/x.mp4"),
        ("acme/inbox/Odd Name.mp4", "acme/inbox/bad name.mp4"),
        ("acme/inbox/Odd Name.mp4", "other/inbox/x.mp4"),
        ("acme/inbox/Odd Name.mp4", "acme/../other/x.mp4"),
    ],
)
def test_rename_raw_refuses_anything_but_a_name_directly_in_its_own_inbox(
    tmp_path: Path, raw_key: str, target_key: str
) -> None:
    storage = LocalStorage(root=str(tmp_path))
    for key in ("acme/inbox/Odd Name.mp4", "acme/inbox/Odd Folder/a.mp4", "acme/sources/v/Odd Name.mp4"):
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(b"kept")
    (tmp_path / "other/inbox").mkdir(parents=True)
    (tmp_path / "other/inbox/Odd Name.mp4").write_bytes(b"kept")
    before = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())
    with pytest.raises(InvalidKeyError):
        storage.for_workspace("acme").rename_raw(raw_key, target_key)
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file()) == before


def test_rename_raw_never_follows_a_name_out_of_the_inbox(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "storage"))
    inbox = tmp_path / "storage" / "acme" / "inbox"
    inbox.mkdir(parents=True)
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"secret")
    (inbox / "Link (1).mp4").symlink_to(secret)
    (inbox / "..\\..\\evil.mp4").write_bytes(b"dropped")  # a backslash is an ordinary character on POSIX
    with pytest.raises(InvalidKeyError):
        storage.rename_raw("acme/inbox/Link (1).mp4", "acme/inbox/link-1.mp4")
    assert secret.read_bytes() == b"secret" and (inbox / "Link (1).mp4").is_symlink()
    assert not (inbox / "link-1.mp4").exists()
    storage.rename_raw("acme/inbox/..\\..\\evil.mp4", "acme/inbox/evil.mp4")
    assert storage.read_bytes("acme/inbox/evil.mp4") == b"dropped"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["secret.mp4", "storage"]


def test_listing_refuses_a_prefix_outside_the_layout(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "storage"))
    (tmp_path / "outside.txt").write_bytes(b"x")
    with pytest.raises(InvalidKeyError):
        storage.list_keys("..")
