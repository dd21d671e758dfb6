"""Who is talking: with two people in the shot, the active speaker over time, from mouth motion, without jitter.

Mouth motion is the mean absolute change of the lower third of each face box between consecutive frames, measured
at every face sample. A speaker holds the camera for at least ``min_hold_s`` (2 s): the other person takes over
only after their smoothed motion has been clearly higher (``SWITCH_RATIO``) for a whole second, so a laugh, a nod
or a detector blip does not cut away. :func:`switches_per_minute` states the result's jitter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from clipped.types import FaceBox, FaceFrame

MIN_HOLD_S = 2.0
SMOOTH_S = 1.0  # motion is averaged over this window before speakers are compared
SWITCH_RATIO = 1.5  # the other person's smoothed motion must be this much higher to take over
MOUTH_GRID = (8, 16)  # the mouth region is compared at this size (rows, columns)


@dataclass(frozen=True)
class Turn:
    start_s: float
    end_s: float
    track: int


def mouth_motion(
    video: Path, face_frames: list[FaceFrame], tracks: tuple[int, int], start_s: float, end_s: float
) -> dict[int, list[tuple[float, float]]]:
    """Per track, (time, motion) at each face sample in ``[start_s, end_s)``: how much its mouth region changed
    from the frame before (0..255)."""
    samples = sorted((f for f in face_frames if start_s <= f.t_s < end_s), key=lambda f: f.t_s)
    motion: dict[int, list[tuple[float, float]]] = {track: [] for track in tracks}
    if not samples:
        return motion
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        assert stream.time_base is not None
        container.seek(int(max(0.0, start_s - 1.0) / stream.time_base), stream=stream, backward=True)
        previous: np.ndarray | None = None
        index = 0
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            gray = frame.to_ndarray(format="gray").astype(np.float32)
            while index < len(samples) and frame.time >= samples[index].t_s - 1e-3:
                if previous is not None:
                    for face in samples[index].faces:
                        if face.track_id in motion:
                            change = np.abs(_mouth(gray, face) - _mouth(previous, face)).mean()
                            motion[face.track_id].append((samples[index].t_s, float(change)))
                index += 1
            previous = gray
            if index >= len(samples) or frame.time > end_s:
                break
    return motion


def speaker_turns(
    motion: dict[int, list[tuple[float, float]]], start_s: float, end_s: float, min_hold_s: float = MIN_HOLD_S
) -> list[Turn]:
    """Who holds the camera when, covering ``[start_s, end_s)``; see the module docstring."""
    tracks = list(motion)
    times = sorted({t for series in motion.values() for t, _ in series})
    if not times or len(tracks) < 2:
        return [Turn(start_s, end_s, tracks[0] if tracks else -1)]
    smoothed = {track: [_smoothed(motion[track], t) for t in times] for track in tracks}
    current = max(tracks, key=lambda track: smoothed[track][0])
    turns: list[Turn] = []
    turn_start, louder_since = start_s, None
    for i, t in enumerate(times):
        other = next(track for track in tracks if track != current)
        if smoothed[other][i] > SWITCH_RATIO * max(smoothed[current][i], 0.5):
            louder_since = t if louder_since is None else louder_since
            if t - louder_since >= SMOOTH_S and louder_since - turn_start >= min_hold_s:
                turns.append(Turn(turn_start, louder_since, current))
                current, turn_start, louder_since = other, louder_since, None
        else:
            louder_since = None
    turns.append(Turn(turn_start, end_s, current))
    return turns


def switches_per_minute(turns: list[Turn]) -> float:
    duration = turns[-1].end_s - turns[0].start_s if turns else 0.0
    return round((len(turns) - 1) * 60 / duration, 2) if duration > 0 else 0.0


def speaker_frames(face_frames: list[FaceFrame], turns: list[Turn]) -> list[FaceFrame]:
    """``face_frames`` keeping only the face of whoever holds the camera at each sample."""
    kept = []
    for frame in face_frames:
        turn = next((t for t in turns if t.start_s <= frame.t_s < t.end_s), None)
        faces = [face for face in frame.faces if turn is not None and face.track_id == turn.track]
        kept.append(frame.model_copy(update={"faces": faces}))
    return kept


def _smoothed(series: list[tuple[float, float]], t: float) -> float:
    near = [value for at, value in series if t - SMOOTH_S < at <= t]
    return sum(near) / len(near) if near else 0.0


def _mouth(gray: np.ndarray, face: FaceBox) -> np.ndarray:
    height, width = gray.shape
    x0, x1 = int(max(0, face.x + face.w * 0.2)), int(min(width, face.x + face.w * 0.8))
    y0, y1 = int(max(0, face.y + face.h * 0.65)), int(min(height, face.y + face.h))
    region = gray[y0:y1, x0:x1]
    rows, cols = MOUTH_GRID
    if region.shape[0] < rows or region.shape[1] < cols:
        return np.zeros(MOUTH_GRID, dtype=np.float32)
    region = region[: region.shape[0] // rows * rows, : region.shape[1] // cols * cols]
    return region.reshape(rows, region.shape[0] // rows, cols, region.shape[1] // cols).mean(axis=(1, 3))
