"""Giving face detections stable track ids across sampled frames (pure logic, no video or model).

Each live track predicts where its face will be from its last position and velocity; detections are matched to
the nearest prediction (centre distance in units of face size, helped by overlap), greedily, best pair first.
A detection too far from every prediction starts a new track; a track unseen for longer than ``max_gap_s`` ends,
so a face that comes back after that gets a new id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from clipped.types import FaceBox, FaceFrame


@dataclass
class _Track:
    track_id: int
    box: FaceBox
    t_s: float
    velocity: tuple[float, float] = (0.0, 0.0)  # centre motion, pixels per second
    hits: int = 1

    def predicted_centre(self, t_s: float) -> tuple[float, float]:
        cx, cy = _centre(self.box)
        dt = t_s - self.t_s
        return cx + self.velocity[0] * dt, cy + self.velocity[1] * dt


@dataclass
class FaceTracker:
    """Assigns track ids frame by frame; feed frames in time order, one tracker per continuous stretch."""

    max_gap_s: float = 1.0  # a track not matched for longer than this ends
    max_jump: float = 1.0  # largest centre distance from the prediction, in face sizes, still the same face
    max_size_ratio: float = 2.0  # larger change of face size between matches is a different face
    velocity_smoothing: float = 0.5  # weight of the newest velocity measurement
    _tracks: list[_Track] = field(default_factory=list, init=False)
    _next_id: int = field(default=0, init=False)

    def update(self, t_s: float, faces: list[FaceBox]) -> list[FaceBox]:
        """The faces seen at ``t_s`` with ``track_id`` set (copies, in the input's order)."""
        self._tracks = [track for track in self._tracks if t_s - track.t_s <= self.max_gap_s]
        pairs = sorted(
            (cost, track_index, face_index)
            for track_index, track in enumerate(self._tracks)
            for face_index, face in enumerate(faces)
            if (cost := self._match_cost(track, face, t_s)) is not None
        )
        assigned: dict[int, int] = {}  # face index -> track index
        used_tracks: set[int] = set()
        for _cost, track_index, face_index in pairs:
            if face_index in assigned or track_index in used_tracks:
                continue
            assigned[face_index] = track_index
            used_tracks.add(track_index)

        labelled: list[FaceBox] = []
        for face_index, face in enumerate(faces):
            if face_index in assigned:
                track = self._tracks[assigned[face_index]]
                self._follow(track, face, t_s)
            else:
                track = _Track(track_id=self._next_id, box=face, t_s=t_s)
                self._next_id += 1
                self._tracks.append(track)
            labelled.append(face.model_copy(update={"track_id": track.track_id}))
        return labelled

    def _match_cost(self, track: _Track, face: FaceBox, t_s: float) -> float | None:
        size = max(_size(track.box), _size(face), 1.0)
        ratio = _size(face) / max(_size(track.box), 1e-6)
        if not 1 / self.max_size_ratio <= ratio <= self.max_size_ratio:
            return None
        px, py = track.predicted_centre(t_s)
        fx, fy = _centre(face)
        distance = math.hypot(fx - px, fy - py) / size
        if distance > self.max_jump:
            return None
        predicted_box = track.box.model_copy(update={"x": px - track.box.w / 2, "y": py - track.box.h / 2})
        return distance - _iou(predicted_box, face)

    def _follow(self, track: _Track, face: FaceBox, t_s: float) -> None:
        dt = t_s - track.t_s
        if dt > 0:
            (old_x, old_y), (new_x, new_y) = _centre(track.box), _centre(face)
            measured = ((new_x - old_x) / dt, (new_y - old_y) / dt)
            # The first measurement has nothing to average with; later ones are smoothed against detector jitter.
            weight = 1.0 if track.hits == 1 else self.velocity_smoothing
            track.velocity = (
                weight * measured[0] + (1 - weight) * track.velocity[0],
                weight * measured[1] + (1 - weight) * track.velocity[1],
            )
        track.box, track.t_s, track.hits = face, t_s, track.hits + 1


def assign_track_ids(frames: list[FaceFrame], tracker: FaceTracker | None = None) -> list[FaceFrame]:
    """``frames`` (sorted by time) with every face given a track id by one tracker run over them."""
    tracker = tracker or FaceTracker()
    return [FaceFrame(t_s=frame.t_s, faces=tracker.update(frame.t_s, frame.faces)) for frame in frames]


def _centre(box: FaceBox) -> tuple[float, float]:
    return box.x + box.w / 2, box.y + box.h / 2


def _size(box: FaceBox) -> float:
    return math.sqrt(max(box.w, 0.0) * max(box.h, 0.0))


def _iou(a: FaceBox, b: FaceBox) -> float:
    overlap_w = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    overlap_h = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = overlap_w * overlap_h
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0
