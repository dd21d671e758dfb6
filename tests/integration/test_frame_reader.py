"""Frames for moment search come from one open container: the keyframe at or before each time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clipped.media.ffmpeg import MediaToolError, run_ffmpeg
from clipped.search.frames import FrameReader


@pytest.fixture(scope="module")
def red_then_blue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s at 25 fps, red for 2 s then blue, a keyframe every second."""
    video = tmp_path_factory.mktemp("frames") / "red_blue.mp4"
    run_ffmpeg([
        "-f", "lavfi", "-i", "color=c=red:s=320x240:r=25:d=2", "-f", "lavfi", "-i", "color=c=blue:s=320x240:r=25:d=2",
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-c:v", "libx264", "-g", "25",
        "-pix_fmt", "yuv420p", str(video),
    ])  # fmt: skip
    return video


def mean_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float32).reshape(-1, 3).mean(axis=0)


def test_each_frame_is_the_keyframe_at_or_before_its_time(red_then_blue: Path, tmp_path: Path) -> None:
    with FrameReader(red_then_blue) as frames:
        written = [frames.write(at_s, tmp_path / f"{index}.jpg", 160) for index, at_s in enumerate((3.5, 0.5, 1.9))]

    blue, red, red_too = (mean_rgb(path) for path in written)  # seeking backwards works too
    assert blue[2] > 200 > blue[0] and red[0] > 200 > red[2] and red_too[0] > 200
    assert Image.open(written[0]).size == (160, 120)


def test_an_unreadable_file_is_reported_by_ffmpeg(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    with FrameReader(broken) as frames, pytest.raises(MediaToolError):
        frames.write(1.0, tmp_path / "out.jpg", 160)
