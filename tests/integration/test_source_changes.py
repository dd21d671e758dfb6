"""New bytes under an old name are a new source: never the old outputs, never the old failure.

The CLI story first (a file replaced in place), then each kind of source on its own: local files (the cheap stamp
and when the hash is taken), uploads (the storage object's version), URLs (yt-dlp's id), and the inbox.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dagster import materialize
from typer.testing import CliRunner

from clipped.inbox.intake import InboxSettings, run_inbox_pass
from clipped.inbox.readiness import InboxCursor
from clipped.ingest import identity as identity_module
from clipped.ingest.fetch import Download, video_stamp
from clipped.ingest.identity import SourceIdentity, locate_source, remembered_identity
from clipped.ingest.prepare import PreparedSource, sha256_of
from clipped.ingest.probe import probe_media
from clipped.layout import INFO_FILE, REQUEST_FILE, SourceRef
from clipped.media.ffmpeg import run_ffmpeg
from clipped.sources import SourceRequest
from clipped.stage_record import load_record
from clipped_app.cli import app
from clipped_app.pipeline import first_failure
from clipped_assets.ingest import source_video
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.storage import LocalStorage
from tests.conftest import SAMPLE, ClippedEnv, make_video

pytestmark = pytest.mark.xdist_group("source_changes")
POLICY = {"allowed_domains": ["youtube.com"], "max_download_bytes": 10**9}


def cut(seconds: float, out: Path) -> Path:
    """The sample's first ``seconds`` (stream copy: quick, and other bytes than the whole sample)."""
    run_ffmpeg(["-t", str(seconds), "-i", str(SAMPLE), "-c", "copy", "-f", "mp4", str(out)])
    return out


def replace_in_place(path: Path, content: Path) -> None:
    """Overwrite ``path``'s bytes through the same inode, the way `cp new.mp4 talk.mp4` does."""
    with path.open("r+b") as handle:
        handle.truncate(0)
        handle.write(content.read_bytes())


@pytest.mark.slow
def test_cli_processes_a_replaced_file_again_and_forgets_its_old_failure(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    talk = make_video(media / "talk.mp4", seconds=6)
    env = {
        "CLIPPED_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "CLIPPED_ALLOWED_ROOTS": str(media),
    }
    out = tmp_path / "clips"

    def clipped_run() -> dict:
        result = CliRunner().invoke(app, ["run", str(talk), "--max-clips", "1", "--out", str(out)], env=env)
        assert result.exit_code == 0, result.output
        return json.loads((out / "clips.json").read_text())

    too_short = CliRunner().invoke(app, ["run", str(talk), "--out", str(out)], env=env)
    assert too_short.exit_code == 1
    said = " ".join(too_short.output.split())  # the console wraps long lines
    assert "source_video: video is 6.0 s long, shorter than the 15 s minimum clip duration" in said

    replace_in_place(talk, SAMPLE)
    whole = clipped_run()
    assert whole["source"]["duration_s"] == pytest.approx(74.2, abs=0.5)

    shorter = cut(45, tmp_path / "cut.mp4")
    replace_in_place(talk, shorter)
    again = clipped_run()
    assert again["source"]["partition"] == whole["source"]["partition"]  # same path, same partition: new content
    assert again["source"]["duration_s"] == pytest.approx(probe_media(shorter).duration_s, abs=0.1)
    assert again["source"]["duration_s"] < 50
    assert again["clips"][0]["end_s"] <= again["source"]["duration_s"]
    home_storage = LocalStorage(root=str(tmp_path / "home" / "storage"))
    source = SourceRef.from_partition_key(again["source"]["partition"])
    assert home_storage.read_model(source.key(INFO_FILE), PreparedSource).content_sha256 == sha256_of(shorter)


def test_a_file_is_hashed_only_when_its_stamp_changes_and_a_kept_mtime_does_not_hide_new_bytes(
    tmp_path: Path,
) -> None:
    talk = make_video(tmp_path / "talk.mp4", seconds=2)
    request = SourceRequest(kind="file", location=str(talk), display_name="talk")

    def locate(known: SourceIdentity | None) -> SourceIdentity:
        kwargs = {"allowed_roots": [str(tmp_path)], **POLICY}
        located = locate_source(
            request, tmp_path, LocalStorage(root=str(tmp_path / "s")), "acme", known=known, **kwargs
        )
        assert located.path == talk.resolve()
        return located.identity

    first = locate(None)
    assert first.content_sha256 == sha256_of(talk)
    # The same stamp: the remembered hash is taken as it is (a made-up one proves nothing was read).
    remembered = first.model_copy(update={"content_sha256": "f" * 64})
    assert locate(remembered).content_sha256 == "f" * 64
    # Touched: another stamp, so the bytes are hashed again; the same bytes give the same hash.
    os.utime(talk, ns=(talk.stat().st_atime_ns, talk.stat().st_mtime_ns + 10**9))
    touched = locate(remembered)
    assert touched.stamp != first.stamp and touched.content_sha256 == first.content_sha256
    # Other bytes of the same size, the mtime set back: the ctime still moved, so they are hashed.
    mtime_ns = talk.stat().st_mtime_ns
    data = bytearray(talk.read_bytes())
    data[-10:] = bytes(byte ^ 0xFF for byte in data[-10:])
    (tmp_path / "flipped.mp4").write_bytes(bytes(data))
    replace_in_place(talk, tmp_path / "flipped.mp4")
    os.utime(talk, ns=(mtime_ns, mtime_ns))
    changed = locate(touched)
    assert changed.content_sha256 == sha256_of(talk) != first.content_sha256


def test_an_upload_replaced_under_the_same_key_is_prepared_again(clipped_env: ClippedEnv, tmp_path: Path) -> None:
    storage = LocalStorage(root=str(clipped_env.home / "storage"))
    source = SourceRef("acme", "upload-1")
    key = "acme/uploads/up_1.mp4"
    storage.put_file(cut(40, tmp_path / "first.mp4"), key)
    storage.write_model(source.key(REQUEST_FILE), SourceRequest(kind="upload", location=key, display_name="up"))
    clipped_env.instance.add_dynamic_partitions("source_video", [source.partition_key])

    def ingest() -> tuple[str, str]:
        result = materialize(
            [source_video],
            partition_key=source.partition_key,
            instance=clipped_env.instance,
            resources={"storage": storage, "ingest": IngestPolicy(allowed_roots=[])},
            raise_on_error=False,
        )
        assert result.success, first_failure(result)
        record = load_record(storage, source, "source_video")
        return record.fingerprint, storage.read_model(source.key(INFO_FILE), PreparedSource).content_sha256

    fingerprint, first_sha = ingest()
    prepared_at = (clipped_env.home / "storage" / source.key(INFO_FILE)).stat().st_mtime_ns
    assert ingest() == (fingerprint, first_sha)
    assert (clipped_env.home / "storage" / source.key(INFO_FILE)).stat().st_mtime_ns == prepared_at, "reused"

    storage.put_file(cut(20, tmp_path / "second.mp4"), key)
    new_fingerprint, new_sha = ingest()
    assert new_sha == sha256_of(tmp_path / "second.mp4") != first_sha
    assert new_fingerprint != fingerprint
    assert storage.read_model(source.key(INFO_FILE), PreparedSource).media.duration_s < 25
    remembered = remembered_identity(storage, source)
    assert remembered is not None and remembered.content_sha256 == new_sha


def test_a_url_is_downloaded_again_only_for_another_video_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    videos = {"abc": make_video(tmp_path / "abc.mp4", seconds=2), "def": make_video(tmp_path / "def.mp4", seconds=3)}
    served = {"id": "abc"}
    downloads: list[str] = []

    def fake_download(url: str, work_dir: Path, *, skip_download, **_: object) -> Download:
        stamp = video_stamp({"id": served["id"], "extractor_key": "Youtube"})
        if skip_download(stamp):
            return Download(stamp=stamp, path=None)
        downloads.append(served["id"])
        target = work_dir / f"download-{len(downloads)}.mp4"
        target.write_bytes(videos[served["id"]].read_bytes())
        return Download(stamp=stamp, path=target)

    monkeypatch.setattr(identity_module, "download_url", fake_download)
    request = SourceRequest(kind="url", location="https://www.youtube.com/watch?v=x", display_name="x")

    def locate(known: SourceIdentity | None):
        storage = LocalStorage(root=str(tmp_path / "s"))
        return locate_source(request, tmp_path, storage, "acme", known=known, allowed_roots=[], **POLICY)

    first = locate(None)
    assert first.identity.stamp == "Youtube:abc" and first.identity.content_sha256 == sha256_of(videos["abc"])
    again = locate(first.identity)
    assert again.path is None and again.identity == first.identity and downloads == ["abc"]
    served["id"] = "def"  # the same URL now plays another video
    other = locate(first.identity)
    assert other.identity.content_sha256 == sha256_of(videos["def"]) and downloads == ["abc", "def"]
    assert video_stamp({}) == ""


def test_the_inbox_makes_new_content_under_a_claimed_name_a_new_source(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    inbox = tmp_path / "acme" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "talk.mp4.done").write_bytes(b"")
    make_video(inbox / "talk.mp4", seconds=2)
    settings = InboxSettings(workspace_ids=["acme"], allowed_extensions=[".mp4"], max_upload_bytes=10**9)
    registered: set[str] = set()

    first = run_inbox_pass(storage, settings, InboxCursor(), registered.__contains__, now=100.0)
    [accepted] = first.accepted
    registered.add(accepted.source.partition_key)
    # Replaced before the next pass removes the claimed file: its version changed, so it is new content.
    replace_in_place(inbox / "talk.mp4", make_video(tmp_path / "other.mp4", seconds=3))
    second = run_inbox_pass(storage, settings, first.cursor, registered.__contains__, now=200.0)
    [again] = second.accepted
    assert again.source != accepted.source and again.content_sha256 == sha256_of(tmp_path / "other.mp4")
    for result in (accepted, again):
        request = storage.read_model(result.source.key(REQUEST_FILE), SourceRequest)
        with storage.local_path(request.location) as upload:
            assert sha256_of(upload) == result.content_sha256
