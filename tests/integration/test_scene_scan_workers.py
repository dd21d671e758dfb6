"""Suspect stretches are scanned by one decoder per core side by side; the cuts must not depend on how many."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from clipped.media.ffmpeg import run_ffmpeg
from clipped.understand import scenes

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "clipped_sample.mp4"


@pytest.mark.parametrize("cores", [2, 3])
def test_cuts_are_the_same_whatever_the_number_of_scanners(monkeypatch: pytest.MonkeyPatch, cores: int) -> None:
    monkeypatch.setattr(scenes, "available_cores", lambda: 1)
    one = scenes.detect_scenes(SAMPLE)
    scanners: set[str] = set()
    scan = scenes._RangeScanner.scan

    def recording_scan(self, *args, **kwargs):
        scanners.add(threading.current_thread().name)
        return scan(self, *args, **kwargs)

    monkeypatch.setattr(scenes._RangeScanner, "scan", recording_scan)
    monkeypatch.setattr(scenes, "available_cores", lambda: cores)
    progress: list[float] = []
    several = scenes.detect_scenes(SAMPLE, on_progress=progress.append)

    assert several == one and len(one.cuts_s) == 2
    assert len(scanners) >= 2  # the sample's two cuts lie in separate stretches, one per scanner
    assert progress == sorted(progress) and progress[-1] == 1.0


@pytest.fixture(scope="module")
def long_shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """133 s of four alternating shots of 333 frames (a cut every 13.32 s, one by the middle, none on a keyframe),
    fixed 2 s GOPs, B-frames."""
    video = tmp_path_factory.mktemp("scenes") / "long_shots.mp4"
    shots = [
        "testsrc2=s=160x90:r=25",
        "mandelbrot=s=160x90:r=25",
        "smptehdbars=s=160x90:r=25",
        "rgbtestsrc=s=160x90:r=25",
    ]
    inputs = [arg for n in range(10) for arg in ("-f", "lavfi", "-t", "13.32", "-i", shots[n % 4])]
    joined = "".join(f"[{n}:v]" for n in range(10))
    run_ffmpeg([
        *inputs, "-filter_complex", f"{joined}concat=n=10:v=1[v]", "-map", "[v]", "-c:v", "libx264",
        "-preset", "ultrafast", "-g", "50", "-sc_threshold", "0", "-bf", "2", "-pix_fmt", "yuv420p", str(video),
    ])  # fmt: skip
    return video


def test_keyframes_read_as_two_halves_join_exactly(monkeypatch: pytest.MonkeyPatch, long_shots: Path) -> None:
    monkeypatch.setattr(scenes, "available_cores", lambda: 1)
    whole, whole_end = scenes._keyframe_pass(long_shots, None)
    one = scenes.detect_scenes(long_shots)
    monkeypatch.setattr(scenes, "available_cores", lambda: 2)
    halves, halves_end = scenes._keyframe_pass(long_shots, None)
    progress: list[float] = []
    two = scenes.detect_scenes(long_shots, on_progress=progress.append)

    def summary(keyframes):
        return [(k.t_s, k.pts, k.spike_before, None if k.image is None else k.image.tobytes()) for k in keyframes]

    assert summary(halves) == summary(whole) and halves_end == whole_end
    assert len(whole) == 68  # a keyframe every 2 s, plus the end of the video
    assert two == one and one.cuts_s == pytest.approx([13.32 * n for n in range(1, 10)], abs=0.05)
    assert progress == sorted(progress) and progress[-1] == 1.0
