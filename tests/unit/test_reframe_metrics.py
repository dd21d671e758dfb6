"""Reframing metrics on synthetic moving-face tracks: the face stays in the crop, the crop never jumps."""

from __future__ import annotations

import math

from clipped.render.crop_path import CropKeyframe, CropPath, plan_crop_path
from clipped.render.reframe_metrics import reframe_metrics
from clipped.types import FaceBox, FaceFrame

W, H = 1280, 720
CLIP_START = 100.0


def moving_face(amplitude_px: float, period_s: float, *, duration_s: float = 30.0, sample_fps: float = 3.0):
    """A face swinging left and right (and a little up and down), sampled as the face pass samples."""
    frames = []
    for index in range(int(duration_s * sample_fps)):
        t = index / sample_fps
        cx = W / 2 + amplitude_px * math.sin(2 * math.pi * t / period_s)
        cy = 330 + 40 * math.sin(2 * math.pi * t / (1.3 * period_s))
        face = FaceBox(x=cx - 60, y=cy - 60, w=120, h=120, score=0.9, track_id=0)
        frames.append(FaceFrame(t_s=CLIP_START + t, faces=[face]))
    return frames


def test_a_fast_swinging_face_stays_inside_a_crop_that_never_jumps() -> None:
    # 400 px swings every 4 s: up to 630 px/s, 1.5 windows a second of a 9:16 crop of 720p.
    frames = moving_face(400, 4.0)
    path = plan_crop_path(frames, CLIP_START, CLIP_START + 30, W, H, "9:16", [], fps=30)
    metrics = reframe_metrics(path, frames, CLIP_START, [])
    assert metrics.sampled_frames == 90
    assert metrics.face_inside_share >= 0.99
    assert metrics.max_jump_share <= 0.05


def test_a_still_crop_loses_the_face_and_a_cut_snap_is_not_a_jump() -> None:
    frames = moving_face(400, 4.0)
    still = CropPath(
        source_w=W, source_h=H, crop_w=404, crop_h=720, fps=30,
        keyframes=[CropKeyframe(t_s=i / 30, x=(W - 404) // 2 if i < 450 else 0, y=0) for i in range(900)],
    )  # fmt: skip
    with_cut = reframe_metrics(still, frames, CLIP_START, [CLIP_START + 15.0])
    assert with_cut.face_inside_share < 0.7
    assert with_cut.max_jump_px == 0  # the only move is the snap at the cut
    assert reframe_metrics(still, frames, CLIP_START, []).max_jump_px == (W - 404) // 2
