"""Scene detection on real encoded video: the bundled sample and small lavfi-generated clips."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipped.media.ffmpeg import MediaToolError, run_ffmpeg
from clipped.understand.scenes import detect_scenes, detect_scenes_full_rate

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


def test_coarse_pass_finds_the_full_rate_cuts_between_keyframes(tmp_path: Path) -> None:
    """A VOD-like stream whose encoder never puts a keyframe on a cut (fixed 2 s GOPs, scene-cut keyframes off,
    B-frames): every cut lies inside a GOP, where only the coarse pass's packet-size and keyframe signs can see
    it; its recall against the full-rate pass must be complete, each cut on its exact frame."""
    video = tmp_path / "fixed_gops.mp4"
    shots = ["testsrc2=s=320x180:r=30", "mandelbrot=s=320x180:r=30", "smptehdbars=s=320x180:r=30",
             "testsrc2=s=320x180:r=30,hflip,negate"]  # fmt: skip
    lengths_s = [1.5, 2.2, 1.6, 2.7]  # cuts at 1.5, 3.7 and 5.3 s: frames 45, 111 and 159, none on a keyframe
    inputs = [arg for shot in shots for arg in ("-f", "lavfi", "-i", shot)]
    trims = ";".join(f"[{i}:v]trim=duration={length},setpts=PTS-STARTPTS[s{i}]" for i, length in enumerate(lengths_s))
    joined = "".join(f"[s{i}]" for i in range(len(shots)))
    run_ffmpeg([
        *inputs, "-filter_complex", f"{trims};{joined}concat=n={len(shots)}:v=1[v]", "-map", "[v]",
        "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
        "-pix_fmt", "yuv420p", str(video),
    ])  # fmt: skip
    coarse, full = detect_scenes(video), detect_scenes_full_rate(video)
    assert full.cuts_s == pytest.approx([1.5, 3.7, 5.3], abs=0.034)  # the reference sees every cut
    assert coarse.cuts_s == full.cuts_s


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
