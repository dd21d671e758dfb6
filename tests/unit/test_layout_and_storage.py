from pathlib import Path

import pytest

from clipped.layout import InvalidKeyError, SourceRef, check_key, video_id_for
from clipped.sources import request_for, source_ref_for
from clipped.types import ClipSettings
from clipped_resources.storage import LocalStorage


def test_partition_key_round_trip() -> None:
    ref = SourceRef("acme", "talk-0123456789")
    assert SourceRef.from_partition_key(ref.partition_key) == ref
    assert ref.key("transcript.json") == "acme/sources/talk-0123456789/transcript.json"
    assert ref.clip_key("c1", "clip.mp4") == "acme/clips/c1/clip.mp4"


@pytest.mark.parametrize("key", ["nodot", "../x.y", "Acme.talk", "a.b/c", "a."])
def test_bad_partition_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidKeyError):
        SourceRef.from_partition_key(key)


def test_video_ids_are_slugs_and_stable() -> None:
    first = video_id_for("My Talk (final)!!", "file:/a/b.mp4")
    assert first == video_id_for("My Talk (final)!!", "file:/a/b.mp4")
    assert first.startswith("my-talk-final-")
    assert video_id_for("../../etc/passwd", "x").startswith("etc-passwd-")
    assert video_id_for("日本語", "x").startswith("video-")


def test_same_file_same_partition_url_and_file_classified(tmp_path: Path) -> None:
    settings = ClipSettings()
    file_request = request_for(str(tmp_path / "talk.mp4"), settings)
    assert file_request.kind == "file"
    assert source_ref_for(file_request, "local") == source_ref_for(
        request_for(str(tmp_path / "talk.mp4"), settings), "local"
    )
    assert request_for("https://youtu.be/abc", settings).kind == "url"


@pytest.mark.parametrize("key", ["", "/abs/key", "ws/../other", "ws//x", "ws/a b", "ws/.hidden", "ws\\x", "ws/=x"])
def test_invalid_storage_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidKeyError):
        check_key(key)


def test_hive_style_day_folders_are_valid_keys() -> None:
    assert check_key("ws/analytics/engagement/day=2026-11-27/metrics.parquet", "ws")


def test_keys_outside_the_workspace_are_refused() -> None:
    with pytest.raises(InvalidKeyError, match="outside workspace"):
        check_key("other/sources/x/a.json", "acme")
    assert check_key("acme/sources/x/a.json", "acme")


def test_local_storage_writes_atomically_and_never_publishes_a_failed_write(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    storage.write_json("acme/sources/v/a.json", {"x": 1})
    assert storage.read_json("acme/sources/v/a.json") == {"x": 1}
    with pytest.raises(RuntimeError), storage.writer("acme/sources/v/big.bin") as path:
        path.write_bytes(b"half")
        raise RuntimeError("crash mid-write")
    assert not storage.exists("acme/sources/v/big.bin")
    assert storage.list_keys("acme") == ["acme/sources/v/a.json"]
    with storage.writer("acme/sources/v/big.bin") as path:
        path.write_bytes(b"whole")
    assert storage.read_bytes("acme/sources/v/big.bin") == b"whole"
    assert storage.size("acme/sources/v/big.bin") == 5


def test_local_storage_put_file_and_local_path(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "store"))
    source = tmp_path / "in.mp4"
    source.write_bytes(b"video")
    storage.put_file(source, "acme/uploads/in.mp4")
    with storage.local_path("acme/uploads/in.mp4") as path:
        assert path.read_bytes() == b"video"
    with pytest.raises(FileNotFoundError), storage.local_path("acme/uploads/missing.mp4"):
        pass
    with pytest.raises(InvalidKeyError):
        storage.read_bytes("../outside")
