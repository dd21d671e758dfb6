"""H.264 encoder choice: NVENC only after a real test encode succeeds, probed once; x264 otherwise."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from clipped.media.ffmpeg import ffmpeg_exe
from clipped.render.encoder import (
    NVENC,
    NVENC_PRESET,
    X264,
    EncoderUnavailableError,
    choose_encoder,
    probe_nvenc,
    video_encoder_args,
)
from clipped_resources.render_options import RenderOptions

ENCODERS_WITH_NVENC = """Encoders:
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
 V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)
 A....D aac                  AAC (Advanced Audio Coding)
"""
ENCODERS_WITHOUT_NVENC = """Encoders:
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
"""


@pytest.fixture(autouse=True)
def fresh_probe_cache():
    probe_nvenc.cache_clear()
    yield
    probe_nvenc.cache_clear()


def fake_ffmpeg(folder: Path, encoders: str, encode_exit: int, encode_stderr: str = "") -> tuple[Path, Path]:
    """An executable that answers ``-encoders`` with ``encoders`` and any encode with ``encode_exit``, logging
    each call, the way a real ffmpeg on a machine with (or without) a working NVENC would."""
    calls = folder / "calls.log"
    listing = folder / "encoders.txt"
    listing.write_text(encoders)
    script = folder / "ffmpeg"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{calls}"\n'
        f'case "$*" in *-encoders*) cat "{listing}"; exit 0;; esac\n'
        f"printf '%s\\n' '{encode_stderr}' >&2\n"
        f"exit {encode_exit}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, calls


def test_this_machine_renders_with_x264_and_the_probe_is_cached() -> None:
    ffmpeg = ffmpeg_exe()
    assert choose_encoder("auto", ffmpeg) == X264
    probe = probe_nvenc(ffmpeg)
    assert not probe.usable
    if probe.listed:  # e.g. imageio-ffmpeg's static build: listed, but there is no GPU to encode on
        assert probe.reason and not probe.reason.startswith("[")
    choose_encoder("auto", ffmpeg)
    assert probe_nvenc.cache_info().misses == 1 and probe_nvenc.cache_info().hits == 2


def test_listed_and_encoding_nvenc_is_chosen_and_probed_once(tmp_path: Path) -> None:
    ffmpeg, calls = fake_ffmpeg(tmp_path, ENCODERS_WITH_NVENC, encode_exit=0)
    assert choose_encoder("auto", str(ffmpeg)) == NVENC
    assert choose_encoder("nvenc", str(ffmpeg)) == NVENC
    assert choose_encoder("auto", str(ffmpeg)) == NVENC
    lines = calls.read_text().splitlines()
    assert len(lines) == 2  # one listing, one test encode, for three choices
    assert "-encoders" in lines[0] and "-c:v h264_nvenc" in lines[1] and "-frames:v 5" in lines[1]


def test_listed_but_failing_nvenc_falls_back_to_x264_and_forcing_it_says_why(tmp_path: Path) -> None:
    ffmpeg, _ = fake_ffmpeg(
        tmp_path,
        ENCODERS_WITH_NVENC,
        encode_exit=187,
        encode_stderr="[h264_nvenc @ 0x5581] OpenEncodeSessionEx failed: unsupported device (2): (no details)",
    )
    assert choose_encoder("auto", str(ffmpeg)) == X264
    probe = probe_nvenc(str(ffmpeg))
    assert probe.listed and not probe.usable
    assert probe.reason == "OpenEncodeSessionEx failed: unsupported device (2): (no details)"
    with pytest.raises(EncoderUnavailableError, match=r"'nvenc'.*unsupported device.*H100/H200.*'auto' or 'x264'"):
        choose_encoder("nvenc", str(ffmpeg))


def test_ffmpeg_without_nvenc_is_not_asked_to_encode(tmp_path: Path) -> None:
    ffmpeg, calls = fake_ffmpeg(tmp_path, ENCODERS_WITHOUT_NVENC, encode_exit=0)
    with pytest.raises(EncoderUnavailableError, match="built without h264_nvenc"):
        choose_encoder("nvenc", str(ffmpeg))
    assert len(calls.read_text().splitlines()) == 1


def test_x264_is_chosen_without_probing(tmp_path: Path) -> None:
    ffmpeg, calls = fake_ffmpeg(tmp_path, ENCODERS_WITH_NVENC, encode_exit=0)
    assert choose_encoder("x264", str(ffmpeg)) == X264
    assert not calls.exists()


def test_missing_ffmpeg_means_no_nvenc(tmp_path: Path) -> None:
    probe = probe_nvenc(str(tmp_path / "no-ffmpeg"))
    assert not probe.listed and not probe.usable and "cannot run" in probe.reason


def test_unknown_encoder_choice_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown encoder 'qsv'.*auto, x264, nvenc"):
        choose_encoder("qsv")
    with pytest.raises(ValidationError):
        RenderOptions(encoder="qsv")  # type: ignore[arg-type]


def test_x264_args_keep_preset_crf_and_threads() -> None:
    assert video_encoder_args(X264, x264_preset="veryfast", crf=21, threads=2) == [
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p", "-threads", "2",
    ]  # fmt: skip


def test_nvenc_args_use_constant_quality_at_the_same_level() -> None:
    args = video_encoder_args(NVENC, x264_preset="veryfast", crf=21, threads=2)
    assert args == [
        "-c:v", "h264_nvenc", "-preset", NVENC_PRESET, "-tune", "hq", "-rc", "vbr", "-cq", "21", "-b:v", "0",
        "-profile:v", "high", "-pix_fmt", "yuv420p",
    ]  # fmt: skip
    assert "veryfast" not in args  # x264 presets mean nothing to NVENC


def test_unknown_video_encoder_args_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown video encoder 'libx265'"):
        video_encoder_args("libx265", x264_preset="veryfast", crf=21, threads=1)


def test_render_options_resolve_the_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ffmpeg, _ = fake_ffmpeg(tmp_path, ENCODERS_WITH_NVENC, encode_exit=0)
    # This fake only knows -encoders, so it would fail the capability probe that CLIPPED_FFMPEG goes through.
    monkeypatch.setattr("clipped.render.encoder.ffmpeg_exe", lambda: str(ffmpeg))
    assert RenderOptions().video_encoder() == NVENC
    assert RenderOptions(encoder="x264").video_encoder() == X264
