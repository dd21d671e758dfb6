"""How well a crop path frames its clip: is the followed face inside the window, and does the window jump?

Pure: a planned :class:`CropPath` and the face detections it was planned from in, two numbers out.

- **Face inside share**: of the sampled frames inside the clip that show the shot's main face (the track with
  the most area × score in that shot, the one the camera follows), the share whose face centre lies inside
  the crop window at that time.
- **Largest jump**: the largest move of the window between consecutive output frames, ignoring the frame at
  each scene cut (where the camera snaps to the new shot on purpose), as a share of the window's width.
"""

from __future__ import annotations

import bisect
import itertools

from pydantic import BaseModel

from clipped.render.crop_path import CropPath
from clipped.types import FaceBox, FaceFrame


class ReframeMetrics(BaseModel):
    sampled_frames: int  # sampled frames inside the clip showing their shot's main face
    face_inside: int  # of those, frames with the face centre inside the crop window
    max_jump_px: int
    crop_w: int

    @property
    def face_inside_share(self) -> float:
        return self.face_inside / self.sampled_frames if self.sampled_frames else 1.0

    @property
    def max_jump_share(self) -> float:
        """Largest frame-to-frame move outside scene cuts, as a share of the crop window's width."""
        return self.max_jump_px / self.crop_w if self.crop_w else 0.0


def reframe_metrics(
    path: CropPath, face_frames: list[FaceFrame], clip_start_s: float, scene_cuts_s: list[float]
) -> ReframeMetrics:
    """Measure ``path`` (planned for the clip starting at ``clip_start_s``, source times in ``face_frames``)."""
    duration_s = len(path.keyframes) / path.fps
    cuts = sorted(cut - clip_start_s for cut in scene_cuts_s if 0.0 < cut - clip_start_s < duration_s)
    by_shot: dict[int, list[tuple[float, list[FaceBox]]]] = {}
    for frame in face_frames:
        t = frame.t_s - clip_start_s
        if frame.faces and 0.0 <= t < duration_s:
            by_shot.setdefault(bisect.bisect_right(cuts, t), []).append((t, frame.faces))
    sampled = inside = 0
    for frames in by_shot.values():
        main = _main_track(frames)
        for t, faces in frames:
            followed = [face for face in faces if face.track_id == main] if main is not None else faces[:1]
            if not followed:
                continue
            face = followed[0]
            window = path.keyframes[min(len(path.keyframes) - 1, int(t * path.fps))]
            cx, cy = face.x + face.w / 2, face.y + face.h / 2
            sampled += 1
            if window.x <= cx <= window.x + path.crop_w and window.y <= cy <= window.y + path.crop_h:
                inside += 1
    cut_frames = {round(cut * path.fps) for cut in cuts}
    jumps = [
        max(abs(b.x - a.x), abs(b.y - a.y))
        for index, (a, b) in enumerate(itertools.pairwise(path.keyframes), start=1)
        if not {index - 1, index, index + 1} & cut_frames
    ]
    return ReframeMetrics(
        sampled_frames=sampled, face_inside=inside, max_jump_px=max(jumps, default=0), crop_w=path.crop_w
    )


def _main_track(frames: list[tuple[float, list[FaceBox]]]) -> int | None:
    totals: dict[int, float] = {}
    for _t, faces in frames:
        for face in faces:
            if face.track_id >= 0:
                totals[face.track_id] = totals.get(face.track_id, 0.0) + face.w * face.h * max(face.score, 0.0)
    return max(totals, key=lambda track: totals[track]) if totals else None
