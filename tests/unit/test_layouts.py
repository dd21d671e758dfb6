"""Layout choice: a split screen only when two face tracks share most of a vertical clip."""

from __future__ import annotations

from pathlib import Path

from clipped.render.layouts import choose_layout, plan_split, split_filter, two_people
from clipped.types import FaceBox, FaceFrame


def frames(tracks_at: dict[int, float], times: range, every: int = 1) -> list[FaceFrame]:
    """Face samples at ``times`` (seconds); track k at x=tracks_at[k], the second track only every ``every``."""
    result = []
    for t in times:
        faces = [
            FaceBox(x=x, y=200, w=100, h=100, score=0.9, track_id=track)
            for track, x in tracks_at.items()
            if track == min(tracks_at) or t % every == 0
        ]
        result.append(FaceFrame(t_s=float(t), faces=faces))
    return result


def test_two_tracks_on_screen_most_of_the_time_split_a_vertical_clip_left_one_on_top() -> None:
    conversation = frames({3: 900.0, 7: 150.0}, range(10))
    assert two_people(conversation, 0.0, 10.0) == (7, 3)
    assert choose_layout("auto", conversation, 0.0, 10.0, "9:16") == (7, 3)
    assert choose_layout("single", conversation, 0.0, 10.0, "9:16") is None
    assert choose_layout("speaker", conversation, 0.0, 10.0, "9:16") is None  # one crop, on whoever talks
    assert choose_layout("auto", conversation, 0.0, 10.0, "16:9") is None  # no stacked halves on a wide frame
    brief_guest = frames({3: 900.0, 7: 150.0}, range(10), every=3)  # seen in 4 of 10 samples
    assert two_people(brief_guest, 0.0, 10.0) is None
    assert two_people(frames({1: 500.0}, range(10)), 0.0, 10.0) is None


def test_each_half_follows_its_own_face_and_the_halves_stack_to_the_frame() -> None:
    conversation = frames({0: 150.0, 1: 1000.0}, range(6))
    split = plan_split((0, 1), conversation, 0.0, 6.0, 1280, 720, [], 30)
    assert split.top.crop_w == split.top.crop_h == 720
    assert split.top.keyframes[-1].x == 0 and split.bottom.keyframes[-1].x == 1280 - 720  # each at its edge
    graph = split_filter(split, Path("/t/top.cmd"), Path("/t/bottom.cmd"), 1080, 1920)
    assert graph.startswith("split[topin][bottomin];") and graph.endswith("[top][bottom]vstack,setsar=1")
    assert graph.count("crop=1080:960:0:60") == 2
