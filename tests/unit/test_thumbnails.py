"""Thumbnail choice: the sharpest candidate frame with a face, and the title drawn in the brand's style."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from clipped.brand.kit import BrandKit
from clipped.media.ffmpeg import ffmpeg_exe, run_ffmpeg
from clipped.render.thumbnails import (
    ThumbnailChoice,
    best_frame,
    candidate_times,
    has_face_near,
    laplacian_variance,
    title_ass,
    write_thumbnail,
)
from clipped.types import FaceBox, FaceFrame

FACE = FaceBox(x=10, y=10, w=50, h=50, score=0.9)


def test_laplacian_variance_ranks_a_sharp_image_above_its_blurred_copy() -> None:
    rng = np.random.default_rng(7)
    sharp = rng.integers(0, 255, size=(120, 160)).astype(np.float32)
    blurred = (sharp[:-2, :-2] + sharp[1:-1, 1:-1] + sharp[2:, 2:] + sharp[:-2, 2:] + sharp[2:, :-2]) / 5
    assert laplacian_variance(sharp) > 3 * laplacian_variance(blurred)
    assert laplacian_variance(np.full((50, 50), 128)) == 0.0


def test_a_frame_with_a_face_beats_a_sharper_one_without() -> None:
    frames = [FaceFrame(t_s=10.0 + t, faces=[FACE] if t >= 2 else []) for t in (0.0, 1.0, 2.0, 3.0)]
    assert not has_face_near(frames, 11.1) and has_face_near(frames, 12.4) and not has_face_near(frames, 20.0)
    chosen = best_frame([ThumbnailChoice(1.0, 900.0, False), ThumbnailChoice(2.0, 300.0, True),
                         ThumbnailChoice(3.0, 500.0, True)])  # fmt: skip
    assert chosen.at_s == 3.0
    times = candidate_times(20.0)
    assert len(times) == 6 and times[0] == pytest.approx(3.0) and times[-1] == pytest.approx(17.0)


def test_title_uses_the_brand_font_and_colours_and_stays_literal() -> None:
    brand = BrandKit(caption_font="DejaVu Serif", hook_text_colour="#112233")
    script = title_ass("How {we} got\nhere", 1080, 1920, brand)
    assert "Style: Title,DejaVu Serif," in script and "&H00332211" in script
    assert script.rstrip().endswith(r"How \{we\} got here")


def test_the_thumbnail_is_the_sharp_part_of_the_clip_with_the_title_over_it(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    # Blurred for the first 3 s, sharp after: the sharp frames must win.
    run_ffmpeg([
        "-f", "lavfi", "-i", "testsrc2=size=360x640:rate=30:duration=5", "-vf", "gblur=sigma=6:enable='lt(t,3)'",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video),
    ])  # fmt: skip
    faces = [FaceFrame(t_s=100 + i * 0.2, faces=[FACE]) for i in range(26)]
    common = dict(duration_s=5.0, width=360, height=640, face_frames=faces, start_s=100.0, ffmpeg=ffmpeg_exe())
    titled, bare = tmp_path / "titled.jpg", tmp_path / "bare.jpg"
    choice = write_thumbnail(video, titled, title="A title", brand=BrandKit(), **common)
    assert choice.at_s >= 3.0 and choice.has_face
    assert write_thumbnail(video, bare, title="", brand=BrandKit(), **common) == choice
    images = []
    for path in (titled, bare):
        with av.open(str(path)) as container:
            images.append(next(container.decode(video=0)).to_ndarray(format="gray").astype(int))
    difference = np.abs(images[0] - images[1])
    assert difference[100:200].mean() > 10  # the title band (upper third) changed
    assert difference[450:].mean() < 3  # the rest is the same frame
