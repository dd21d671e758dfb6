"""The face pass: detect and track faces inside each candidate clip's window of the source video."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from clipped.faces.sampling import open_video, sample_frames
from clipped.faces.tracking import FaceTracker
from clipped.progress import ProgressCallback, no_progress
from clipped.types import CandidateFaces, FaceBox, FaceFrame, FacesResult


class FaceDetector(Protocol):
    """What the face pass needs from a detector; ``clipped_resources.vision.VisionResource`` provides it."""

    @property
    def name(self) -> str: ...

    def detect_faces(self, frame_bgr: np.ndarray) -> list[FaceBox]: ...


def track_faces_in_windows(
    video_path: Path,
    windows: list[tuple[str, float, float]],
    detector: FaceDetector,
    *,
    sample_fps: float = 3.0,
    on_progress: ProgressCallback | None = None,
) -> FacesResult:
    """Faces with track ids at ``sample_fps`` inside each ``(candidate_id, start_s, end_s)`` window.

    Only the windows are decoded (seek, then decode forward). Track ids are per window, starting at 0, and
    stay the same for one face while it keeps being seen.
    """
    report = on_progress or no_progress
    total_s = sum(max(0.0, end_s - start_s) for _id, start_s, end_s in windows)
    done_s = 0.0
    results: list[CandidateFaces] = []
    report(0.0)
    container, stream = open_video(str(video_path))
    try:
        width, height = stream.codec_context.width, stream.codec_context.height
        for candidate_id, start_s, end_s in windows:
            tracker = FaceTracker()
            frames: list[FaceFrame] = []
            for t_s, frame in sample_frames(container, stream, start_s, end_s, sample_fps):
                frames.append(FaceFrame(t_s=t_s, faces=tracker.update(t_s, detector.detect_faces(frame))))
                if total_s > 0:
                    report(min(1.0, (done_s + t_s - start_s) / total_s))
            results.append(CandidateFaces(candidate_id=candidate_id, frames=frames))
            done_s += max(0.0, end_s - start_s)
    finally:
        container.close()
    report(1.0)
    return FacesResult(width=width, height=height, sample_fps=sample_fps, detector=detector.name, windows=results)
