"""Choosing ffmpeg by what it can run: fake binaries that lack one feature are skipped, and say which."""

from __future__ import annotations

import logging
import os
import shutil
import stat
from pathlib import Path

import pytest

from clipped.media.capabilities import FEATURES, FfmpegIdentity, probe_ffmpeg
from clipped.media.errors import last_error_line
from clipped.media.ffmpeg import (
    OVERRIDE_VARIABLE,
    MediaToolError,
    NoUsableFfmpegError,
    choose_ffmpeg,
    ffmpeg_candidates,
    ffmpeg_exe,
    require_ffmpeg,
)

# Everything the probe's features look for in a working ffmpeg's output, printed by the fake for every command.
WORKING_OUTPUT = r"""progress=end
Command reply for command #0: ret:Success res:
{ "input_i" : "-20.00" }
[Parsed_ebur128_0 @ 0x1] Summary:
  Integrated loudness:
    I:         -21.8 LUFS
[blackdetect @ 0x2] black_start:0 black_end:1 black_duration:1
[freezedetect @ 0x3] lavfi.freezedetect.freeze_start: 0
"""
# What Debian 12's ffmpeg 5.1 prints for the `framelog=quiet` spelling that newer builds accept.
FFMPEG_51_EBUR128_QUIET = """Stream mapping:
  Stream #0:0 -> #0:0 (pcm_s16le (native) -> pcm_s16le (native))
[ebur128 @ 0x55e7a16cec80] [Eval @ 0x7ffef82b8900] Undefined constant or missing '(' in 'quiet'
[ebur128 @ 0x55e7a16cec80] Unable to parse option value "quiet"
[AVFilterGraph @ 0x55e7a16ce2c0] Error initializing filter 'ebur128' with args 'framelog=quiet'
[Parsed_ebur128_0 @ 0x55e7a16ceb40] Summary:

  Integrated loudness:
    I:           0.0 LUFS
    Threshold:   0.0 LUFS
Error reinitializing filters!
Failed to inject frame into filter network: Invalid argument
Error while processing the decoded data for stream #0:0
Conversion failed!
"""


def fake_ffmpeg(folder: Path, *, fails_when: str | None = None, failure: str = "", exit_code: int = 1) -> Path:
    """An executable ffmpeg stand-in: ``-version`` names it, a command whose arguments contain ``fails_when``
    prints ``failure`` and exits ``exit_code``, anything else prints what a working ffmpeg would. Each call is
    appended to ``calls.log`` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    cat = shutil.which("cat")  # by full path: some tests empty PATH
    (folder / "working.txt").write_text(WORKING_OUTPUT)
    (folder / "failure.txt").write_text(failure + "\n")
    failing_case = f'  *"{fails_when}"*) "{cat}" "{folder}/failure.txt" >&2; exit {exit_code};;\n' if fails_when else ""
    script = folder / "ffmpeg"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{folder}/calls.log"\n'
        'case "$*" in\n'
        '  *-version*) echo "ffmpeg version 9.9-fake Copyright (c) the FFmpeg developers"; exit 0;;\n'
        f"{failing_case}"
        "esac\n"
        f'"{cat}" "{folder}/working.txt" >&2\n'
        "exit 0\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def calls(binary: Path) -> list[str]:
    log = binary.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_a_binary_that_runs_every_feature_is_usable_and_reports_its_version(tmp_path: Path) -> None:
    binary = fake_ffmpeg(tmp_path / "good")
    probe = probe_ffmpeg(str(binary))
    assert probe.usable and probe.missing is None and probe.reason == ""
    assert probe.identity() == FfmpegIdentity(path=str(binary), version="9.9-fake")
    assert choose_ffmpeg((str(binary),)) == probe.identity()


def test_a_binary_failing_one_feature_is_skipped_with_the_feature_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = fake_ffmpeg(tmp_path / "debian51", fails_when="ebur128", failure=FFMPEG_51_EBUR128_QUIET)
    good = fake_ffmpeg(tmp_path / "static")
    probe = probe_ffmpeg(str(old))
    assert not probe.usable
    assert probe.missing is not None and "ebur128" in probe.missing
    assert "Error initializing filter 'ebur128' with args 'framelog=quiet'" in probe.reason
    with caplog.at_level(logging.WARNING, logger="clipped.media.ffmpeg"):
        chosen = choose_ffmpeg((str(old), str(good)))
    assert chosen.path == str(good)
    assert f"skipping ffmpeg {old}: cannot run the ebur128 loudness summary" in caplog.text


@pytest.mark.parametrize(
    ("filter_name", "feature"),
    [
        ("vstack", "the split layout"),
        ("movie=", "the logo overlay"),
        ("asplit", "clean-up cuts"),
        ("aeval", "the profanity mute and bleep"),
        ("anullsrc", "brand bumpers"),
    ],
)
def test_a_binary_without_a_finishing_filter_is_skipped_naming_it(
    tmp_path: Path, filter_name: str, feature: str
) -> None:
    binary = fake_ffmpeg(tmp_path / "old", fails_when=filter_name, failure=f"No such filter: '{filter_name}'")
    probe = probe_ffmpeg(str(binary))
    assert probe.missing is not None and probe.missing.startswith(feature)
    assert probe.reason == f"No such filter: '{filter_name}'"


def test_a_filter_that_exits_0_but_refuses_its_command_counts_as_missing(tmp_path: Path) -> None:
    binary = fake_ffmpeg(
        tmp_path / "no-crop-commands",
        fails_when="sendcmd",
        failure="Command reply for command #0: ret:Function not implemented res:",
        exit_code=0,
    )
    probe = probe_ffmpeg(str(binary))
    assert probe.missing is not None and probe.missing.startswith("sendcmd")
    assert "ret:Function not implemented" in probe.reason


def test_a_filter_that_prints_nothing_counts_as_missing(tmp_path: Path) -> None:
    binary = fake_ffmpeg(tmp_path / "silent-ebur128", fails_when="ebur128", failure="", exit_code=0)
    probe = probe_ffmpeg(str(binary))
    assert probe.missing is not None and "ebur128" in probe.missing
    assert "printed nothing" in probe.reason


def test_none_working_names_each_binary_tried_and_what_it_lacks(tmp_path: Path) -> None:
    no_x264 = fake_ffmpeg(tmp_path / "a", fails_when="libx264", failure="Unknown encoder 'libx264'")
    no_ass = fake_ffmpeg(tmp_path / "b", fails_when="ass=", failure="No such filter: 'ass'")
    missing = tmp_path / "c" / "ffmpeg"
    with pytest.raises(NoUsableFfmpegError) as failure:
        choose_ffmpeg((str(no_x264), str(no_ass), str(missing)))
    message = str(failure.value)
    assert f"{no_x264}: cannot run the libx264 encoder (Unknown encoder 'libx264')" in message
    assert f"{no_ass}: cannot run the ass subtitles filter (libass) (No such filter: 'ass')" in message
    assert f"{missing}: cannot run the binary" in message
    assert OVERRIDE_VARIABLE in message
    assert "\n" not in message


def test_no_candidate_at_all_says_where_it_looked() -> None:
    with pytest.raises(NoUsableFfmpegError, match=r"no ffmpeg found.*PATH.*imageio-ffmpeg"):
        choose_ffmpeg(())


def test_the_probe_runs_once_per_binary_and_again_when_the_file_changes(tmp_path: Path) -> None:
    binary = fake_ffmpeg(tmp_path / "counted")
    for _ in range(3):
        assert probe_ffmpeg(str(binary)).usable
        choose_ffmpeg((str(binary),))
    assert len(calls(binary)) == 1 + len(FEATURES)  # -version, then each feature once

    stamp = binary.stat()
    os.utime(binary, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000_000))  # an upgraded binary
    assert probe_ffmpeg(str(binary)).usable
    assert len(calls(binary)) == 2 * (1 + len(FEATURES))


def test_candidates_are_the_override_then_path_then_imageio_each_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imageio_ffmpeg

    override = fake_ffmpeg(tmp_path / "override")
    system = fake_ffmpeg(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(system.parent))
    monkeypatch.setenv(OVERRIDE_VARIABLE, str(override))
    bundled = os.path.abspath(imageio_ffmpeg.get_ffmpeg_exe())
    assert ffmpeg_candidates() == (str(override), str(system), bundled)
    monkeypatch.setenv(OVERRIDE_VARIABLE, str(system))
    assert ffmpeg_candidates() == (str(system), bundled)
    monkeypatch.setenv(OVERRIDE_VARIABLE, "ffmpeg")  # a bare name is looked up on PATH
    assert ffmpeg_candidates() == (str(system), bundled)


def test_ffmpeg_exe_takes_a_working_override_and_skips_a_broken_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    working = fake_ffmpeg(tmp_path / "working")
    broken = fake_ffmpeg(tmp_path / "broken", fails_when="loudnorm", failure="No such filter: 'loudnorm'")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.setenv(OVERRIDE_VARIABLE, str(working))
    assert ffmpeg_exe() == str(working)
    monkeypatch.setenv(OVERRIDE_VARIABLE, str(broken))
    assert ffmpeg_exe() != str(broken)


def test_a_pinned_binary_must_still_report_the_recorded_version(tmp_path: Path) -> None:
    binary = fake_ffmpeg(tmp_path / "pinned")
    pinned = FfmpegIdentity(path=str(binary), version="9.9-fake")
    assert require_ffmpeg(pinned) == pinned
    with pytest.raises(MediaToolError, match=r"is version 9\.9-fake, not the recorded 5\.1"):
        require_ffmpeg(FfmpegIdentity(path=str(binary), version="5.1"))
    broken = fake_ffmpeg(tmp_path / "broken", fails_when="aac", failure="Unknown encoder 'aac'")
    with pytest.raises(NoUsableFfmpegError, match="cannot run the aac encoder"):
        require_ffmpeg(FfmpegIdentity(path=str(broken), version="9.9-fake"))


def test_the_error_line_is_the_failure_not_the_summary_ffmpeg_prints_after_it() -> None:
    assert last_error_line(FFMPEG_51_EBUR128_QUIET) == (
        "[AVFilterGraph @ 0x55e7a16ce2c0] Error initializing filter 'ebur128' with args 'framelog=quiet'"
    )
    assert last_error_line("Input #0\nUnknown encoder 'libx999'\nConversion failed!\n") == ("Unknown encoder 'libx999'")
    assert last_error_line("") == "no output"
