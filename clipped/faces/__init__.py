"""Faces in candidate windows: sampled frames, detections, and track ids that follow each face."""

from clipped.faces.tracking import FaceTracker, assign_track_ids
from clipped.faces.windows import FaceDetector, track_faces_in_windows

__all__ = ["FaceDetector", "FaceTracker", "assign_track_ids", "track_faces_in_windows"]
