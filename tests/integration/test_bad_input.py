"""Each kind of bad input fails `source_video` with one clear line, leaves no output, and touches nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import materialize

from clipped.layout import REQUEST_FILE, SourceRef
from clipped.sources import SourceRequest
from clipped_app.pipeline import first_failure
from clipped_assets.ingest import source_video
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.storage import LocalStorage
from tests.conftest import ClippedEnv, copy_sample, make_video

pytestmark = pytest.mark.xdist_group("bad_input")


def ingest(env: ClippedEnv, request: SourceRequest, policy: IngestPolicy | None = None, video_id: str = "bad-1"):
    storage = LocalStorage(root=str(env.home / "storage"))
    source = SourceRef("acme", video_id)
    storage.write_model(source.key(REQUEST_FILE), request)
    env.instance.add_dynamic_partitions("source_video", [source.partition_key])
    result = materialize(
        [source_video],
        partition_key=source.partition_key,
        instance=env.instance,
        resources={"storage": storage, "ingest": policy or IngestPolicy(allowed_roots=[str(env.media)])},
        raise_on_error=False,
    )
    return result, storage, source


def assert_fails_cleanly(env: ClippedEnv, request: SourceRequest, expected: str, **kwargs) -> None:
    result, storage, source = ingest(env, request, **kwargs)
    assert not result.success
    message = first_failure(result)
    assert expected in message, message
    assert "\n" not in message
    # Nothing but the request remains: no partial source, audio or stage record.
    assert storage.list_keys(f"acme/sources/{source.video_id}") == [source.key(REQUEST_FILE)]
    # Bad input is not retried.
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retries == []


def file_request(path: Path) -> SourceRequest:
    return SourceRequest(kind="file", location=str(path), display_name=path.stem)


def test_non_video_file(clipped_env: ClippedEnv) -> None:
    path = clipped_env.media / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    assert_fails_cleanly(clipped_env, file_request(path), "not a readable video file")


def test_zero_byte_file(clipped_env: ClippedEnv) -> None:
    path = clipped_env.media / "empty.mp4"
    path.touch()
    assert_fails_cleanly(clipped_env, file_request(path), "file is empty (0 bytes)")


def test_truncated_file(clipped_env: ClippedEnv) -> None:
    whole = copy_sample(clipped_env.media, "whole.mp4").read_bytes()
    path = clipped_env.media / "truncated.mp4"
    path.write_bytes(whole[: len(whole) * 2 // 5])
    assert_fails_cleanly(clipped_env, file_request(path), "truncated")


def test_corrupt_file(clipped_env: ClippedEnv) -> None:
    whole = bytearray(copy_sample(clipped_env.media, "whole.mp4").read_bytes())
    whole[:4096] = b"\x00" * 4096  # destroy the container header
    path = clipped_env.media / "corrupt.mp4"
    path.write_bytes(bytes(whole))
    assert_fails_cleanly(clipped_env, file_request(path), "not a readable video file")


def test_video_without_audio_track(clipped_env: ClippedEnv) -> None:
    path = make_video(clipped_env.media / "mute.mp4", audio=None)
    assert_fails_cleanly(clipped_env, file_request(path), "video has no audio track")


def test_silent_audio(clipped_env: ClippedEnv) -> None:
    path = make_video(clipped_env.media / "silent.mp4", audio="anullsrc=r=44100:cl=mono")
    assert_fails_cleanly(clipped_env, file_request(path), "audio track is silent")


def test_video_over_the_resolution_limit(clipped_env: ClippedEnv) -> None:
    path = make_video(clipped_env.media / "huge.mp4", seconds=2, size="4096x2304", rate=1)
    assert_fails_cleanly(clipped_env, file_request(path), "over the 3840x2160 limit")


def test_video_over_the_duration_limit(clipped_env: ClippedEnv) -> None:
    path = copy_sample(clipped_env.media)
    policy = IngestPolicy(allowed_roots=[str(clipped_env.media)], max_duration_s=60)
    assert_fails_cleanly(clipped_env, file_request(path), "over the 0 h limit", policy=policy)


def test_disallowed_url(clipped_env: ClippedEnv) -> None:
    request = SourceRequest(kind="url", location="https://example.com/video.mp4", display_name="video")
    assert_fails_cleanly(clipped_env, request, "not on the allowlist")


def test_private_ip_url(clipped_env: ClippedEnv) -> None:
    request = SourceRequest(kind="url", location="https://169.254.169.254/latest/video.mp4", display_name="video")
    assert_fails_cleanly(clipped_env, request, "private, loopback or link-local")


def test_path_outside_allowed_roots(clipped_env: ClippedEnv, tmp_path: Path) -> None:
    outside = copy_sample(tmp_path, "elsewhere.mp4")
    assert_fails_cleanly(clipped_env, file_request(outside), "outside the allowed roots")


def test_symlink_escaping_allowed_roots(clipped_env: ClippedEnv, tmp_path: Path) -> None:
    outside = copy_sample(tmp_path, "elsewhere.mp4")
    link = clipped_env.media / "innocent.mp4"
    link.symlink_to(outside)
    assert_fails_cleanly(clipped_env, file_request(link), "outside the allowed roots")


def test_upload_key_of_another_workspace(clipped_env: ClippedEnv) -> None:
    request = SourceRequest(kind="upload", location="other/uploads/x.mp4", display_name="x")
    assert_fails_cleanly(clipped_env, request, "outside workspace 'acme'")


def test_a_bad_source_leaves_other_partitions_alone(clipped_env: ClippedEnv) -> None:
    good, storage, _ = ingest(clipped_env, file_request(copy_sample(clipped_env.media)), video_id="good-1")
    assert good.success
    before = {key: storage.size(key) for key in storage.list_keys("acme")}
    path = clipped_env.media / "empty.mp4"
    path.touch()
    bad, _, _ = ingest(clipped_env, file_request(path), video_id="bad-2")
    assert not bad.success
    after = {key: storage.size(key) for key in storage.list_keys("acme") if "/bad-2/" not in key}
    assert after == before


def test_cli_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clipped_app.cli import app

    empty = tmp_path / "empty.mp4"
    empty.touch()
    env = {"CLIPPED_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    result = CliRunner().invoke(app, ["run", str(empty), "--out", str(tmp_path / "clips")], env=env)
    assert result.exit_code == 1
    assert "error: source_video: file is empty (0 bytes)" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "clips").exists()


def test_cli_refuses_a_video_too_short_for_any_clip_at_ingest(tmp_path: Path) -> None:
    from dagster import DagsterEventType, DagsterInstance
    from typer.testing import CliRunner

    from clipped_app.cli import app

    short = make_video(tmp_path / "short.mp4", seconds=5)
    env = {"CLIPPED_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    result = CliRunner().invoke(app, ["run", str(short), "--out", str(tmp_path / "clips")], env=env)
    assert result.exit_code == 1
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "error: source_video: video is 5.0 s long, shorter than the 15 s minimum clip duration" in said
    assert "Traceback" not in result.output
    # Refused before transcription, scenes and audio analysis: no step after source_video started.
    instance = DagsterInstance.from_config(str(tmp_path / "dagster_home"))
    [run] = instance.get_runs()
    events = instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START)
    assert {event.step_key for event in events} == {"source_video"}
    # The minimum is the one asked for: with shorter clips, ingest accepts the same file.
    shorter = ["run", str(short), "--min-duration", "2", "--max-duration", "4", "--max-clips", "1"]
    again = CliRunner().invoke(app, [*shorter, "--out", str(tmp_path / "short_clips")], env=env)
    assert "source_video:" not in again.output, again.output


def test_cli_says_a_directory_is_a_directory(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clipped_app.cli import app

    folder = tmp_path / "talks.mp4"
    folder.mkdir()
    env = {"CLIPPED_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    result = CliRunner().invoke(app, ["run", str(folder), "--out", str(tmp_path / "clips")], env=env)
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    # The console wraps long lines, even inside the path: compare with every whitespace removed.
    expected = f"error: {folder} is a directory, not a video file"  # refused before a run starts
    assert "".join(expected.split()) in "".join(said.split())
    assert "not found" not in said and "Traceback" not in said
