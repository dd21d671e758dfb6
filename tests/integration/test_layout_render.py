"""A real render of a two-person shot: the vertical clip is split, each half showing one of the two people."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from clipped.effects import ClipEffects
from clipped.media.ffmpeg import run_ffmpeg
from clipped.render.render_clip import RenderSpec, render_clip
from clipped.types import FaceBox, FaceFrame

PHOTO = Path(__file__).resolve().parents[1] / "data" / "astronaut.png"
BACKGROUND = (0x1D, 0x2B, 0x3A)
LEFT_X, RIGHT_X, PHOTO_Y, PHOTO_SIZE = 100, 780, 160, 400


def two_person_source(folder: Path) -> Path:
    video = folder / "two.mp4"
    run_ffmpeg([
        "-f", "lavfi", "-i", "color=c=0x1D2B3A:size=1280x720:rate=30:duration=2", "-i", str(PHOTO),
        "-filter_complex",
        f"[1:v]scale={PHOTO_SIZE}:{PHOTO_SIZE},split[a][b];[0:v][a]overlay={LEFT_X}:{PHOTO_Y}[l];"
        f"[l][b]overlay={RIGHT_X}:{PHOTO_Y}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video),
    ])  # fmt: skip
    return video


def faces() -> list[FaceFrame]:
    """The astronaut's face in each photo, as a tracker would report it (track 0 left, 1 right)."""
    boxes = [
        FaceBox(x=x + 140, y=PHOTO_Y + 50, w=120, h=140, score=0.95, track_id=i)
        for i, x in enumerate((LEFT_X, RIGHT_X))
    ]
    return [FaceFrame(t_s=t / 5, faces=boxes) for t in range(10)]


def photo_share(rgb: np.ndarray) -> float:
    """Share of pixels that are not the background."""
    return float((np.abs(rgb.astype(int) - BACKGROUND).sum(axis=2) > 40).mean())


def test_two_people_in_one_shot_give_a_split_screen_with_one_person_per_half(tmp_path: Path) -> None:
    spec = RenderSpec(
        source_path=two_person_source(tmp_path), start_s=0.0, end_s=2.0, face_frames=faces(),
        source_width=1280, source_height=720, aspect="9:16", effects=ClipEffects(hook_overlay=False),
    )  # fmt: skip
    out = tmp_path / "clip.mp4"
    report = render_clip(spec, out, tmp_path / "thumb.jpg", tmp_path / "captions.ass")
    assert report.layout == "split" and (report.width, report.height) == (1080, 1920)
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    # Each half's middle is a photo; a single centred crop would show the background between the two people.
    assert photo_share(frame[300:700, 300:600]) > 0.9
    assert photo_share(frame[960 + 300 : 960 + 700, 450:800]) > 0.9
