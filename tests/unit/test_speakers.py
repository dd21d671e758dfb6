"""Active speaker: mouth motion per face, turns that hold at least 2 s, and the jitter they leave."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clipped.media.ffmpeg import run_ffmpeg
from clipped.render.layouts import active_speaker
from clipped.render.speakers import mouth_motion, speaker_frames, speaker_turns, switches_per_minute
from clipped.types import FaceBox, FaceFrame


def alternating(seconds: int, every_s: float, blips_at: tuple[float, ...] = ()) -> dict[int, list[tuple[float, float]]]:
    """Track 0 talks first, then they swap every ``every_s``; a 0.4 s burst from the listener at each blip."""
    rng = np.random.default_rng(5)
    motion: dict[int, list[tuple[float, float]]] = {0: [], 1: []}
    for step in range(seconds * 5):
        t = step / 5
        talking = int(t // every_s) % 2
        for track in (0, 1):
            level = 8.0 if track == talking else 1.0
            if track != talking and any(b <= t < b + 0.4 for b in blips_at):
                level = 20.0
            motion[track].append((t, level + rng.uniform(0, 1)))
    return motion


def test_turns_follow_who_talks_and_ignore_short_bursts() -> None:
    turns = speaker_turns(alternating(24, 6.0, blips_at=(2.0, 9.0)), 0.0, 24.0)
    assert [turn.track for turn in turns] == [0, 1, 0, 1]
    assert all(abs(turn.start_s - 6.0 * i) <= 1.5 for i, turn in enumerate(turns))
    assert switches_per_minute(turns) == 7.5  # three switches in 24 s: the turns, nothing more


def test_no_switch_within_the_minimum_hold() -> None:
    turns = speaker_turns(alternating(12, 1.0), 0.0, 12.0)
    assert all(turn.end_s - turn.start_s >= 2.0 for turn in turns[:-1])
    assert switches_per_minute(turns) <= 30


def test_mouth_motion_is_measured_where_the_mouth_moves(tmp_path: Path) -> None:
    video = tmp_path / "two.mp4"
    # Two grey faces; a flickering mouth on the left one for 2 s, then on the right one.
    run_ffmpeg([
        "-f", "lavfi", "-i", "color=c=gray:size=320x180:rate=30:duration=4",
        "-vf", "drawbox=x=40:y=110:w=40:h=12:color=white:t=fill:enable='lt(t,2)*eq(mod(n,2),0)',"
        "drawbox=x=220:y=110:w=40:h=12:color=white:t=fill:enable='gte(t,2)*eq(mod(n,2),0)'",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video),
    ])  # fmt: skip
    boxes = [
        FaceBox(x=30, y=50, w=60, h=80, score=0.9, track_id=0),
        FaceBox(x=210, y=50, w=60, h=80, score=0.9, track_id=1),
    ]
    frames = [FaceFrame(t_s=step / 5, faces=boxes) for step in range(1, 20)]
    motion = mouth_motion(video, frames, (0, 1), 0.0, 4.0)
    left_first = np.mean([m for t, m in motion[0] if t < 2]) > 5 * np.mean([m for t, m in motion[1] if t < 2])
    right_then = np.mean([m for t, m in motion[1] if t >= 2.2]) > 5 * np.mean([m for t, m in motion[0] if t >= 2.2])
    assert left_first and right_then
    turns = speaker_turns(motion, 0.0, 4.0)
    assert [turn.track for turn in turns] == [0, 1]
    assert [len(frame.faces) for frame in speaker_frames(frames, turns)] == [1] * len(frames)
    following, layout_turns = active_speaker(video, frames, 0.0, 4.0) or ([], [])
    assert layout_turns == turns  # the speaker layout follows the left face, then the right one
    assert {f.faces[0].track_id for f in following if f.t_s < 1.5} == {0}
    assert {f.faces[0].track_id for f in following if f.t_s > 3} == {1}
