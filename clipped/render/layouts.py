"""Layouts: one crop following the main face, or, when two people share the shot, a split screen of two crops
stacked, each following its own face.

Chosen per clip: ``auto`` splits a vertical clip when two face tracks are both on screen for most of it (a
conversation filmed in one wide shot), and keeps one crop otherwise; ``single`` and ``split`` force either;
``speaker`` keeps one crop on whoever is talking (mouth motion, no switch within 2 s; clipped.render.speakers).
The split is drawn in the same ffmpeg pass: the frame is split, each half cropped by its own ``sendcmd``-driven
crop, and the halves stacked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from clipped.render.crop_path import CropPath, plan_crop_path
from clipped.render.filtergraph import sendcmd_filter
from clipped.render.speakers import Turn, mouth_motion, speaker_frames, speaker_turns
from clipped.types import FaceFrame

TWO_PEOPLE_MIN_SHARE = 0.5  # each of the two tracks is seen in at least this share of the clip's face samples
SPLIT_ASPECTS = ("9:16",)  # two stacked square-ish halves only make sense on a tall frame
TOP_CROP, BOTTOM_CROP = "crop@top", "crop@bottom"


@dataclass(frozen=True)
class SplitLayout:
    """Two crop paths: the top half follows ``top_track``, the bottom half ``bottom_track``."""

    top_track: int
    bottom_track: int
    top: CropPath
    bottom: CropPath


def two_people(face_frames: list[FaceFrame], start_s: float, end_s: float) -> tuple[int, int] | None:
    """The two face tracks that share the window, left one first, or None when it is not a two-person shot."""
    samples = [frame for frame in face_frames if start_s <= frame.t_s < end_s]
    if not samples:
        return None
    seen = Counter(
        track for frame in samples for track in {face.track_id for face in frame.faces if face.track_id >= 0}
    )
    common = [track for track, count in seen.most_common(2) if count >= TWO_PEOPLE_MIN_SHARE * len(samples)]
    if len(common) < 2:
        return None
    return tuple(sorted(common, key=lambda track: _mean_x(samples, track)))  # type: ignore[return-value]


def choose_layout(
    layout: str, face_frames: list[FaceFrame], start_s: float, end_s: float, aspect: str
) -> tuple[int, int] | None:
    """The two tracks to split between, or None for the single-crop layout; ``layout`` is the per-clip choice."""
    if layout in ("single", "speaker") or aspect not in SPLIT_ASPECTS:
        return None
    return two_people(face_frames, start_s, end_s)


def active_speaker(
    video: Path, face_frames: list[FaceFrame], start_s: float, end_s: float
) -> tuple[list[FaceFrame], list[Turn]] | None:
    """For the ``speaker`` layout: the face samples reduced to whoever talks (clipped.render.speakers) and the
    turns, so one crop follows the active speaker and cuts (a turn start is a scene cut) at each change; None when
    the window does not hold two people."""
    tracks = two_people(face_frames, start_s, end_s)
    if tracks is None:
        return None
    turns = speaker_turns(mouth_motion(video, face_frames, tracks, start_s, end_s), start_s, end_s)
    return speaker_frames(face_frames, turns), turns


def plan_split(
    tracks: tuple[int, int],
    face_frames: list[FaceFrame],
    start_s: float,
    end_s: float,
    source_w: int,
    source_h: int,
    scene_cuts_s: list[float],
    fps: int,
) -> SplitLayout:
    """A square crop path per person (each half shows the middle of a square scaled to the frame's width)."""
    paths = [
        plan_crop_path(only_track(face_frames, track), start_s, end_s, source_w, source_h, "1:1", scene_cuts_s, fps=fps)
        for track in tracks
    ]
    return SplitLayout(tracks[0], tracks[1], paths[0], paths[1])


def only_track(face_frames: list[FaceFrame], track: int) -> list[FaceFrame]:
    return [
        frame.model_copy(update={"faces": [face for face in frame.faces if face.track_id == track]})
        for frame in face_frames
    ]


def split_filter(split: SplitLayout, top_script: Path, bottom_script: Path, width: int, height: int) -> str:
    """Framing for the split layout (after ``fps``): both halves cropped, scaled to the width, stacked."""
    half = height // 2
    halves = []
    for label, path, script, name in (
        ("top", split.top, top_script, TOP_CROP),
        ("bottom", split.bottom, bottom_script, BOTTOM_CROP),
    ):
        first = path.keyframes[0]
        halves.append(
            f"[{label}in]{sendcmd_filter(script)},"
            f"{name}=w={path.crop_w}:h={path.crop_h}:x={first.x}:y={first.y}:exact=1,"
            f"scale={width}:{width}:flags=bicubic,crop={width}:{half}:0:{(width - half) // 2}[{label}]"
        )
    return f"split[topin][bottomin];{';'.join(halves)};[top][bottom]vstack,setsar=1"


def _mean_x(samples: list[FaceFrame], track: int) -> float:
    centres = [face.x + face.w / 2 for frame in samples for face in frame.faces if face.track_id == track]
    return sum(centres) / len(centres)
