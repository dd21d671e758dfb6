"""Where the crop window sits over time: a virtual camera that follows the main face.

Pure: face detections in, one crop position per output frame out. The path is handed to ffmpeg as a
``sendcmd`` script (see :meth:`CropPath.to_sendcmd`) because a piecewise ``if(lt(t,..),..,if(..))`` expression
for a 90 s clip would nest hundreds of levels deep, and ffmpeg's expression parser already rejects ~100.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

from pydantic import BaseModel

from clipped.types import Aspect, FaceBox, FaceFrame

ASPECT_RATIOS: dict[str, tuple[int, int]] = {"9:16": (9, 16), "1:1": (1, 1), "16:9": (16, 9)}

HOLD_S = 1.0  # a face lost for up to this long is assumed to still be there (detector misses, head turns)
MAX_SPEED_FRAC = 0.5  # fastest calm camera move, in crop widths (or heights) per second
# A followed face about to leave the window may be chased faster, up to this: 1.4 windows/s is 4.7 % of the
# window per frame at 30 fps, under the 5 % a viewer reads as a jump (bench/reframe_bench.py measures both).
CATCH_UP_SPEED_FRAC = 1.4
CATCH_UP_FROM_FRAC = 0.25  # face centre this far from the window centre (in windows): start speeding up
CATCH_UP_FULL_FRAC = 0.42  # ... and this far: full catch-up speed (the window's edge is at 0.5)
CROP_FILTER_NAME = "crop@follow"


class CropKeyframe(BaseModel):
    """Top-left corner of the crop window in source pixels, at t_s in CLIP time."""

    t_s: float
    x: int
    y: int


class CropPath(BaseModel):
    """One keyframe per output frame; the window size never changes within a clip."""

    source_w: int
    source_h: int
    crop_w: int
    crop_h: int
    fps: float
    keyframes: list[CropKeyframe]

    def max_step_px(self) -> int:
        """Largest move, in pixels on either axis, between consecutive frames (snaps at scene cuts included)."""
        steps = [max(abs(b.x - a.x), abs(b.y - a.y)) for a, b in itertools.pairwise(self.keyframes)]
        return max(steps, default=0)

    def to_sendcmd(self, target: str = CROP_FILTER_NAME) -> str:
        """A ``sendcmd`` script that moves ``target``'s x/y only when they change.

        Each command is dated half a frame early: sendcmd fires when a frame's timestamp reaches the command's
        time, and a time printed with rounding could otherwise land just after its frame and act one frame late.
        """
        lines: list[str] = []
        previous: CropKeyframe | None = None
        half_frame = 0.5 / self.fps
        for frame in self.keyframes:
            commands = []
            if previous is None or frame.x != previous.x:
                commands.append(f"{target} x {frame.x}")
            if previous is None or frame.y != previous.y:
                commands.append(f"{target} y {frame.y}")
            if commands:
                lines.append(f"{max(0.0, frame.t_s - half_frame):.4f} {', '.join(commands)};")
            previous = frame
        return "\n".join(lines) + "\n"


def crop_size(source_w: int, source_h: int, aspect: Aspect | str) -> tuple[int, int]:
    """The largest window of ``aspect`` inside the source, in even pixels (4:2:0 chroma needs even sizes)."""
    if aspect not in ASPECT_RATIOS:
        raise ValueError(f"unknown aspect {aspect!r}; allowed: {', '.join(ASPECT_RATIOS)}")
    aspect_w, aspect_h = ASPECT_RATIOS[aspect]
    if source_w * aspect_h >= source_h * aspect_w:  # source is wider than the target: full height
        height = source_h
        width = min(source_w, source_h * aspect_w // aspect_h)
    else:
        width = source_w
        height = min(source_h, source_w * aspect_h // aspect_w)
    return max(2, width - width % 2), max(2, height - height % 2)


def plan_crop_path(
    face_frames: list[FaceFrame],
    clip_start_s: float,
    clip_end_s: float,
    source_w: int,
    source_h: int,
    aspect: Aspect | str,
    scene_cuts_s: list[float],
    *,
    alpha: float = 0.15,
    dead_zone_frac: float = 0.08,
    fps: float = 30,
) -> CropPath:
    """Plan the crop window for every output frame of the clip [clip_start_s, clip_end_s) (source times in).

    The camera aims at the main face of each shot, holds a lost face for up to 1 s, then eases back to the
    centre. It moves smoothly (exponential ``alpha`` per frame, speed-capped) and ignores target motion inside a
    dead zone of ``dead_zone_frac`` of the window; at a scene cut it snaps to the new shot's target.
    """
    crop_w, crop_h = crop_size(source_w, source_h, aspect)
    duration_s = max(0.0, clip_end_s - clip_start_s)
    frame_count = max(1, round(duration_s * fps))
    # Cuts just outside the clip matter too: a face seen before a cut that precedes the clip start is not
    # where the camera should open.
    hold_s = _hold_s(face_frames)
    cuts = sorted(c - clip_start_s for c in scene_cuts_s if -hold_s < c - clip_start_s < duration_s + hold_s)
    targets = _TargetTrack(face_frames, clip_start_s, duration_s, cuts, hold_s)

    x_axis = _AxisCamera(source_w, crop_w, alpha, dead_zone_frac, fps)
    y_axis = _AxisCamera(source_h, crop_h, alpha, dead_zone_frac, fps)
    keyframes: list[CropKeyframe] = []
    previous_shot = -1
    for index in range(frame_count):
        t = index / fps
        shot = bisect.bisect_right(cuts, t)
        target = targets.at(t, shot)
        target_x, target_y = target if target else (source_w / 2, source_h / 2)
        snap = shot != previous_shot
        previous_shot = shot
        x = x_axis.step(target_x, snap, chase=target is not None)
        y = y_axis.step(target_y, snap, chase=target is not None)
        keyframes.append(CropKeyframe(t_s=round(t, 6), x=x, y=y))
    return CropPath(source_w=source_w, source_h=source_h, crop_w=crop_w, crop_h=crop_h, fps=fps, keyframes=keyframes)


@dataclass
class _Sighting:
    t_s: float  # clip time
    cx: float
    cy: float


class _TargetTrack:
    """Where the main face is at any clip time, from sparse detections, one shot at a time."""

    def __init__(
        self, face_frames: list[FaceFrame], clip_start_s: float, duration_s: float, cuts: list[float], hold_s: float
    ):
        self._hold_s = hold_s
        by_shot: dict[int, list[tuple[float, list[FaceBox]]]] = {}
        for frame in face_frames:
            t = frame.t_s - clip_start_s
            # Detections just outside the clip still tell where the face is at its first and last frames.
            if frame.faces and -self._hold_s <= t <= duration_s + self._hold_s:
                by_shot.setdefault(bisect.bisect_right(cuts, t), []).append((t, frame.faces))
        self._sightings: dict[int, list[_Sighting]] = {}
        for shot, frames in by_shot.items():
            main_track = _main_track(frames, duration_s)
            sightings = sorted((_sighting(t, faces, main_track) for t, faces in frames), key=lambda s: s.t_s)
            self._sightings[shot] = sightings
        self._times = {shot: [s.t_s for s in sightings] for shot, sightings in self._sightings.items()}

    def at(self, t: float, shot: int) -> tuple[float, float] | None:
        """The face centre at clip time t, or None where the camera should return to the centre."""
        sightings = self._sightings.get(shot)
        if not sightings:
            return None
        index = bisect.bisect_right(self._times[shot], t)
        before = sightings[index - 1] if index > 0 else None
        after = sightings[index] if index < len(sightings) else None
        hold_s = self._hold_s
        if before and after and after.t_s - before.t_s <= hold_s:
            share = (t - before.t_s) / (after.t_s - before.t_s) if after.t_s > before.t_s else 0.0
            return before.cx + share * (after.cx - before.cx), before.cy + share * (after.cy - before.cy)
        if before and t - before.t_s <= hold_s:
            return before.cx, before.cy
        if before is None and after and after.t_s - t <= hold_s:
            # Start of a shot: the first detection comes a moment after the cut; aim there right away.
            return after.cx, after.cy
        return None


def _hold_s(face_frames: list[FaceFrame]) -> float:
    """How long a lost face is held: HOLD_S, or longer when the detector samples more sparsely than that, so
    consecutive detections are always bridged rather than read as the face leaving between them."""
    times = sorted(frame.t_s for frame in face_frames)
    spacings = sorted(b - a for a, b in itertools.pairwise(times) if b > a)
    if not spacings:
        return HOLD_S
    return max(HOLD_S, 1.5 * spacings[len(spacings) // 2])


def _area_score(face: FaceBox) -> float:
    return max(0.0, face.w) * max(0.0, face.h) * max(0.0, face.score)


def _main_track(frames: list[tuple[float, list[FaceBox]]], duration_s: float) -> int | None:
    """The tracked face with the most area x score inside the clip: the person the shot is about."""
    totals: dict[int, float] = {}
    for t, faces in frames:
        if 0.0 <= t <= duration_s:
            for face in faces:
                if face.track_id >= 0:
                    totals[face.track_id] = totals.get(face.track_id, 0.0) + _area_score(face)
    return max(totals, key=lambda track: totals[track]) if totals else None


def _sighting(t: float, faces: list[FaceBox], main_track: int | None) -> _Sighting:
    tracked = [face for face in faces if main_track is not None and face.track_id == main_track]
    face = tracked[0] if tracked else max(faces, key=lambda f: f.w * f.h)
    return _Sighting(t_s=t, cx=face.x + face.w / 2, cy=face.y + face.h / 2)


class _AxisCamera:
    """One axis of the virtual camera, in window-centre coordinates.

    The dead zone drags an aim point: the aim moves only by how far the target has left the zone, so jitter
    inside it is ignored while a steadily moving face is followed continuously (a plain "move when outside"
    rule would stutter: jump, stop, drift out, jump). The window then eases towards the aim exponentially,
    never faster than MAX_SPEED_FRAC windows per second, unless a followed face is about to leave the window:
    then the cap rises smoothly with how far out the face is, up to CATCH_UP_SPEED_FRAC.
    """

    def __init__(self, source_len: int, crop_len: int, alpha: float, dead_zone_frac: float, fps: float):
        self._low = crop_len / 2
        self._high = source_len - crop_len / 2
        self._crop_len = crop_len
        self._alpha = alpha
        self._dead_zone = dead_zone_frac * crop_len
        self._max_step = MAX_SPEED_FRAC * crop_len / fps
        self._catch_up_step = CATCH_UP_SPEED_FRAC * crop_len / fps
        self._aim = (self._low + self._high) / 2
        self._centre = self._aim

    def step(self, target: float, snap: bool, chase: bool = False) -> int:
        """Advance one frame towards ``target`` (a centre coordinate); return the window's top-left edge."""
        target = min(max(target, self._low), self._high)
        if snap:
            self._aim = self._centre = target
        else:
            offset = target - self._aim
            if abs(offset) > self._dead_zone:
                self._aim += offset - self._dead_zone * (1 if offset > 0 else -1)
            move = self._alpha * (self._aim - self._centre)
            limit = self._max_step
            if chase:
                # How close the face is to the window's edge, 0 (comfortably inside) to 1 (at the edge).
                out = (abs(target - self._centre) / self._crop_len - CATCH_UP_FROM_FRAC) / (
                    CATCH_UP_FULL_FRAC - CATCH_UP_FROM_FRAC
                )
                limit += min(1.0, max(0.0, out)) * (self._catch_up_step - self._max_step)
            self._centre += max(-limit, min(limit, move))
        edge = round(self._centre - self._crop_len / 2)
        return int(min(max(edge, 0), round(self._high - self._low)))
