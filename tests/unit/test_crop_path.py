"""Crop path planning: framing, smoothing, dead zone, scene cuts and the sendcmd script."""

from __future__ import annotations

import itertools
import random

import pytest

from clipped.render.crop_path import CropPath, crop_size, plan_crop_path
from clipped.types import FaceBox, FaceFrame

W, H = 1280, 720


def face_at(t_s: float, cx: float, cy: float = 300.0, size: float = 200.0, track_id: int = 1) -> FaceFrame:
    box = FaceBox(x=cx - size / 2, y=cy - size / 2, w=size, h=size, score=0.9, track_id=track_id)
    return FaceFrame(t_s=t_s, faces=[box])


def centres(path: CropPath) -> list[float]:
    return [frame.x + path.crop_w / 2 for frame in path.keyframes]


def assert_in_bounds(path: CropPath) -> None:
    for frame in path.keyframes:
        assert 0 <= frame.x <= path.source_w - path.crop_w
        assert 0 <= frame.y <= path.source_h - path.crop_h


@pytest.mark.parametrize(
    ("aspect", "source", "size"),
    [
        ("9:16", (1280, 720), (404, 720)),
        ("9:16", (1920, 1080), (606, 1080)),
        ("1:1", (1280, 720), (720, 720)),
        ("16:9", (1280, 720), (1280, 720)),
        ("16:9", (1080, 1920), (1080, 606)),
        ("9:16", (1080, 1920), (1080, 1920)),
    ],
)
def test_crop_is_the_largest_even_window_of_the_aspect(aspect, source, size):
    assert crop_size(*source, aspect) == size


def test_unknown_aspect_is_rejected():
    with pytest.raises(ValueError, match="9:16"):
        crop_size(W, H, "4:3")


def test_no_faces_gives_a_centred_crop():
    path = plan_crop_path([], 10.0, 20.0, W, H, "9:16", [])
    assert len(path.keyframes) == 300
    assert {frame.x for frame in path.keyframes} == {(W - 404) // 2}
    assert {frame.y for frame in path.keyframes} == {0}
    assert path.keyframes[0].t_s == 0.0


def test_keyframes_are_in_clip_time():
    path = plan_crop_path([face_at(t / 5, 640) for t in range(100, 200)], 20.0, 30.0, W, H, "9:16", [])
    assert path.keyframes[0].t_s == 0.0
    assert path.keyframes[-1].t_s == pytest.approx(10.0 - 1 / 30)


def test_face_at_the_edge_stays_in_bounds():
    frames = [face_at(t / 5, 30 if t % 20 < 10 else 1270, cy=700) for t in range(0, 100)]
    for aspect in ("9:16", "1:1", "16:9"):
        assert_in_bounds(plan_crop_path(frames, 0.0, 20.0, W, H, aspect, [5.0, 12.0]))


def test_dead_zone_holds_still_for_jitter():
    rng = random.Random(7)
    frames = [face_at(0.0, 700)]
    frames += [face_at(t / 10, 700 + rng.uniform(-25, 25), cy=300 + rng.uniform(-25, 25)) for t in range(1, 101)]
    path = plan_crop_path(frames, 0.0, 10.0, W, H, "9:16", [])
    # 8% of a 404 px window is 32 px: jitter of +-25 px around the first sighting must not move the camera.
    assert {frame.x for frame in path.keyframes} == {700 - 202}


def test_follows_a_moving_face_gradually():
    frames = [face_at(t / 5, 300 + 20 * t) for t in range(0, 51)]  # 100 px/s for 10 s: 300 -> 1300
    path = plan_crop_path(frames, 0.0, 10.0, W, H, "9:16", [])
    assert_in_bounds(path)
    assert path.max_step_px() <= 8  # half a window per second at 30 fps is 6.7 px per frame
    xs = centres(path)
    assert all(b >= a for a, b in itertools.pairwise(xs))  # never backs up while following
    face_at_5s = 300 + 20 * 25
    assert abs(xs[150] - face_at_5s) < 0.08 * 404 + 20


def test_sudden_jump_is_followed_smoothly_not_cut():
    frames = [face_at(t / 5, 300 if t < 25 else 1000) for t in range(0, 51)]
    path = plan_crop_path(frames, 0.0, 10.0, W, H, "9:16", [])
    # The face left the window, so the camera chases it faster than its calm pace, but never faster than 5 % of
    # the window per frame (a visible jump), so the move takes well over a second of frames.
    assert path.max_step_px() <= 0.05 * 404
    xs = centres(path)
    assert sum(1 for a, b in itertools.pairwise(xs) if b != a) >= 30
    assert abs(xs[-1] - 1000) <= 0.08 * 404 + 2


def test_snaps_at_a_scene_cut():
    frames = [face_at(t / 5, 300 if t / 5 < 5.0 else 1000, track_id=1 if t / 5 < 5.0 else 2) for t in range(0, 51)]
    path = plan_crop_path(frames, 0.0, 10.0, W, H, "9:16", [5.0])
    xs = centres(path)
    cut_frame = 150
    assert abs(xs[cut_frame - 1] - 300) <= 2
    assert abs(xs[cut_frame] - 1000) <= 2
    steps = [abs(b - a) for a, b in itertools.pairwise(xs)]
    assert max(steps[: cut_frame - 1] + steps[cut_frame:]) <= 1


def test_faces_from_before_a_cut_preceding_the_clip_are_ignored():
    frames = [face_at(9.0 + t / 10, 300) for t in range(8)]  # old shot, until 9.7 s
    frames += [face_at(10.5 + t / 5, 1000) for t in range(20)]  # new shot from the 9.8 s cut, seen from 10.5 s
    path = plan_crop_path(frames, 10.0, 14.0, W, H, "9:16", [9.8])
    assert abs(centres(path)[0] - 1000) <= 2


def test_lost_face_is_held_then_eases_back_to_centre():
    frames = [face_at(t / 5, 300) for t in range(0, 16)]  # seen until 3.0 s, then gone
    path = plan_crop_path(frames, 0.0, 10.0, W, H, "9:16", [])
    xs = centres(path)
    assert abs(xs[int(3.9 * 30)] - 300) <= 2  # held through the 1 s grace
    assert abs(xs[-1] - W / 2) <= 0.08 * 404 + 2  # back near the centre
    assert path.max_step_px() <= 8


def test_sparse_detections_are_bridged_not_dropped_between_samples():
    frames = [face_at(t * 2.0, 300) for t in range(0, 6)]  # a detector sampling every 2 s
    path = plan_crop_path(frames, 0.0, 10.0, W, H, "9:16", [])
    assert {frame.x for frame in path.keyframes} == {300 - 202}


def test_main_face_is_the_track_with_most_area_and_score():
    frames = []
    for t in range(0, 51):
        big = FaceBox(x=900, y=200, w=220, h=220, score=0.95, track_id=1)
        small = FaceBox(x=200, y=250, w=80, h=80, score=0.99, track_id=2)
        frames.append(FaceFrame(t_s=t / 5, faces=[small, big]))
    path = plan_crop_path(frames, 0.0, 10.0, W, H, "9:16", [])
    assert abs(centres(path)[100] - 1010) <= 2


def test_square_crop_follows_the_face():
    frames = [face_at(t / 5, 900) for t in range(0, 51)]
    path = plan_crop_path(frames, 0.0, 10.0, W, H, "1:1", [])
    assert (path.crop_w, path.crop_h) == (720, 720)
    assert {frame.x for frame in path.keyframes} == {900 - 360}
    near_edge = plan_crop_path([face_at(t / 5, 1150) for t in range(0, 51)], 0.0, 10.0, W, H, "1:1", [])
    assert {frame.x for frame in near_edge.keyframes} == {W - 720}  # wants 790, clamped inside the frame


def test_landscape_crop_from_portrait_moves_vertically():
    frames = [face_at(t / 5, 540, cy=400) for t in range(0, 51)]
    path = plan_crop_path(frames, 0.0, 10.0, 1080, 1920, "16:9", [])
    assert (path.crop_w, path.crop_h) == (1080, 606)
    assert {frame.x for frame in path.keyframes} == {0}
    assert path.keyframes[0].y == 400 - 303
    assert_in_bounds(path)


def test_sendcmd_script_lists_changes_half_a_frame_early():
    frames = [face_at(t / 5, 300 + 20 * t) for t in range(0, 51)]
    path = plan_crop_path(frames, 0.0, 4.0, W, H, "9:16", [])
    script = path.to_sendcmd()
    lines = script.strip().splitlines()
    assert lines[0] == f"0.0000 crop@follow x {path.keyframes[0].x}, crop@follow y 0;"
    changes = sum(1 for a, b in itertools.pairwise(path.keyframes) if a.x != b.x)
    assert len(lines) == changes + 1
    time_s = float(lines[1].split()[0])
    frame_t = next(b.t_s for a, b in itertools.pairwise(path.keyframes) if a.x != b.x)
    assert time_s == pytest.approx(frame_t - 1 / 60, abs=1e-4)
