"""Scene detection on real encoded video: the bundled sample and small lavfi-generated clips."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipped.media.ffmpeg import MediaToolError, run_ffmpeg
from clipped.understand.scenes import detect_scenes

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "clipped_sample.mp4"
# scripts/make_sample.py cuts each shot to a whole number of frames: 624 and 565 frames at 25 fps.
SAMPLE_CUTS_S = (24.96, 47.56)


@pytest.mark.skipif(not SAMPLE.exists(), reason="bundled sample missing")
def test_sample_cuts_are_found() -> None:
    progress: list[float] = []
    scenes = detect_scenes(SAMPLE, on_progress=progress.append)
    assert len(scenes.cuts_s) == 2
    for found, expected in zip(scenes.cuts_s, SAMPLE_CUTS_S, strict=True):
        assert abs(found - expected) <= 0.5
    assert scenes.duration_s == pytest.approx(74.2, abs=0.1)
    assert progress[-1] == 1.0
    assert progress == sorted(progress)


@pytest.mark.parametrize("container", ["mp4", "ts"])  # MPEG-TS timestamps start at 1.4 s, not 0
def test_cut_between_two_generated_shots(tmp_path: Path, container: str) -> None:
    video = tmp_path / f"two_shots.{container}"
    run_ffmpeg([
        "-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=3",
        "-f", "lavfi", "-i", "mandelbrot=s=640x360:r=30",
        "-filter_complex", "[1:v]trim=duration=2,setpts=PTS-STARTPTS[b];[0:v][b]concat=n=2:v=1[v]",
        "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video),
    ])  # fmt: skip
    scenes = detect_scenes(video)
    assert len(scenes.cuts_s) == 1
    assert abs(scenes.cuts_s[0] - 3.0) <= 0.1
    assert scenes.duration_s == pytest.approx(5.0, abs=0.1)


def test_single_shot_has_no_cuts(tmp_path: Path) -> None:
    video = tmp_path / "one_shot.mp4"
    run_ffmpeg([
        "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=4",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video),
    ])  # fmt: skip
    assert detect_scenes(video).cuts_s == []


def test_audio_only_file_has_no_cuts(tmp_path: Path) -> None:
    audio = tmp_path / "tone.m4a"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=3", "-c:a", "aac", str(audio)])
    scenes = detect_scenes(audio)
    assert scenes.cuts_s == []
    assert scenes.duration_s == pytest.approx(3.0, abs=0.1)


def test_unreadable_file_raises_media_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    with pytest.raises(MediaToolError):
        detect_scenes(broken)
