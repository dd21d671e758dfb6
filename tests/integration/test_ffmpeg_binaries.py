"""Each real ffmpeg (the system one and imageio-ffmpeg's) passes the probe, measures and inspects alike, and
renders the same spec to the same bytes every time."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile

from clipped.media.capabilities import clear_probe_cache, probe_ffmpeg
from clipped.media.ffmpeg import ffmpeg_identity, run_ffmpeg
from clipped.render.inspect_clip import inspect_clip
from clipped.render.loudness import integrated_loudness
from clipped.render.render_clip import RenderSpec, render_clip
from clipped.types import Word
from tests.conftest import SAMPLE
from tests.support.ffmpeg_binaries import ffmpeg_binary_fixture  # noqa: F401  (provides ffmpeg_binary)

# The probe takes 0.2-0.7 s on a quiet machine; the bound leaves room for a CI box busy with other tests.
PROBE_BUDGET_S = 5.0


def test_the_binary_passes_the_probe_quickly(ffmpeg_binary: str) -> None:
    clear_probe_cache()
    probe = probe_ffmpeg(ffmpeg_binary)
    assert probe.usable, probe.describe()
    assert probe.version not in (None, "", "unknown")
    assert probe.elapsed_s < PROBE_BUDGET_S
    assert ffmpeg_identity() == probe.identity()


def test_integrated_loudness_matches_an_independent_meter(ffmpeg_binary: str, tmp_path: Path) -> None:
    rate = 48_000
    t = np.arange(rate * 4) / rate
    tone = 0.1 * np.sin(2 * np.pi * 997 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    stereo = np.stack([tone, 0.5 * tone], axis=1)
    wav = tmp_path / "tone.wav"
    soundfile.write(wav, stereo, rate, subtype="FLOAT")
    expected = pyloudnorm.Meter(rate).integrated_loudness(stereo)
    assert integrated_loudness(wav, ffmpeg=ffmpeg_binary) == pytest.approx(expected, abs=0.3)


def test_inspection_finds_black_and_frozen_stretches(ffmpeg_binary: str, tmp_path: Path) -> None:
    # 1.5 s black, 2.5 s of one grey picture, 2 s of moving test pattern, over a tone.
    video = tmp_path / "stretches.mp4"
    run_ffmpeg([
        "-f", "lavfi", "-i", "color=c=black:s=320x240:r=30:d=1.5",
        "-f", "lavfi", "-i", "color=c=gray:s=320x240:r=30:d=2.5",
        "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=2",
        "-f", "lavfi", "-i", "sine=f=440:r=48000:d=6",
        "-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1:a=0[v]", "-map", "[v]", "-map", "3:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(video),
    ], ffmpeg=ffmpeg_binary)  # fmt: skip
    info = inspect_clip(video, ffmpeg=ffmpeg_binary)
    # Capped to one decoder and filter thread, as a clip rendered beside others is inspected: the same findings.
    assert inspect_clip(video, ffmpeg=ffmpeg_binary, threads=1) == info
    assert info.has_audio and info.integrated_lufs is not None
    assert len(info.black_stretches) == 1
    assert info.black_stretches[0] == pytest.approx((0.0, 1.5), abs=0.1)
    assert len(info.frozen_stretches) == 1
    assert info.frozen_stretches[0] == pytest.approx((1.5, 4.0), abs=0.1)


def test_the_same_spec_renders_to_the_same_bytes(ffmpeg_binary: str, tmp_path: Path) -> None:
    words = [Word(word=w, start_s=2.0 + 0.4 * i, end_s=2.3 + 0.4 * i) for i, w in enumerate(["one", "two", "three"])]
    spec = RenderSpec(
        source_path=SAMPLE, start_s=2.0, end_s=4.0, words=words, source_width=1280, source_height=720, aspect="1:1"
    )
    digests = []
    for attempt in ("first", "second"):
        folder = tmp_path / attempt
        folder.mkdir()
        report = render_clip(spec, folder / "clip.mp4", folder / "thumb.jpg", folder / "captions.ass", threads=2)
        assert report.ffmpeg is not None and report.ffmpeg.path == ffmpeg_binary
        digests.append([sha256(folder / name) for name in ("clip.mp4", "thumb.jpg", "captions.ass")])
        spec = spec.model_copy(update={"ffmpeg": report.ffmpeg})  # the second render pins the recorded binary
    assert digests[0] == digests[1]
    assert b"Lavf" not in (tmp_path / "first" / "clip.mp4").read_bytes()  # no library version in the file


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
