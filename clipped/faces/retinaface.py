"""RetinaFace pre- and post-processing in numpy: input tensor, prior boxes, box decoding and NMS.

The network (MobileNet-0.25 RetinaFace) predicts, for every prior box on three feature maps (strides 8, 16, 32,
two square sizes each), an offset, a face/background softmax and five landmarks. Only boxes and scores are used.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

STRIDES = (8, 16, 32)
PRIOR_SIZES = ((16, 32), (64, 128), (256, 512))
CENTER_VARIANCE = 0.1
SIZE_VARIANCE = 0.2
BGR_MEAN = np.array([104.0, 117.0, 123.0], dtype=np.float32)
# The feature pyramid upsamples deep maps onto shallow ones; padding to the coarsest stride keeps their sizes equal.
_PAD_MULTIPLE = 32


def to_bgr(frame: np.ndarray) -> np.ndarray:
    """A 3-channel BGR view of a grey, BGR or BGRA uint8 frame."""
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 1:
        return cv2.cvtColor(frame[:, :, 0], cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    raise ValueError(f"expected a grey, BGR or BGRA image, got shape {frame.shape}")


def make_input(frame_bgr: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """The network input (1×3×H×W float32, mean-subtracted, zero-padded) and the scale applied to the frame."""
    height, width = frame_bgr.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        frame_bgr = cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)
    resized_h, resized_w = frame_bgr.shape[:2]
    padded_h = math.ceil(resized_h / _PAD_MULTIPLE) * _PAD_MULTIPLE
    padded_w = math.ceil(resized_w / _PAD_MULTIPLE) * _PAD_MULTIPLE
    # Zeros after mean subtraction are "average colour", which the detector treats as background.
    tensor = np.zeros((1, 3, padded_h, padded_w), dtype=np.float32)
    tensor[0, :, :resized_h, :resized_w] = (frame_bgr.astype(np.float32) - BGR_MEAN).transpose(2, 0, 1)
    return tensor, scale


@functools.lru_cache(maxsize=8)
def prior_boxes(height: int, width: int) -> np.ndarray:
    """Priors as (cx, cy, w, h) in pixels, in the order the network emits its predictions (read-only, cached)."""
    per_stride = []
    for stride, sizes in zip(STRIDES, PRIOR_SIZES, strict=True):
        rows, cols = math.ceil(height / stride), math.ceil(width / stride)
        cy, cx = np.meshgrid((np.arange(rows) + 0.5) * stride, (np.arange(cols) + 0.5) * stride, indexing="ij")
        centres = np.stack([cx.ravel(), cy.ravel()], axis=1)
        for_cell = np.repeat(centres, len(sizes), axis=0)
        dims = np.tile(np.array(sizes, dtype=np.float64)[:, None].repeat(2, axis=1), (rows * cols, 1))
        per_stride.append(np.hstack([for_cell, dims]))
    priors = np.vstack(per_stride).astype(np.float32)
    priors.flags.writeable = False  # shared between calls through the cache
    return priors


def decode_boxes(offsets: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """Network offsets → boxes as (x, y, w, h) in the input's pixels."""
    centres = priors[:, :2] + offsets[:, :2] * CENTER_VARIANCE * priors[:, 2:]
    sizes = priors[:, 2:] * np.exp(offsets[:, 2:] * SIZE_VARIANCE)
    return np.hstack([centres - sizes / 2, sizes])


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices of the boxes (x, y, w, h) kept by greedy NMS, best score first."""
    order = np.argsort(-scores)
    x1, y1 = boxes[:, 0], boxes[:, 1]
    x2, y2 = x1 + boxes[:, 2], y1 + boxes[:, 3]
    areas = boxes[:, 2] * boxes[:, 3]
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        overlap_w = np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0, None)
        overlap_h = np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0, None)
        inter = overlap_w * overlap_h
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def detections(
    offsets: np.ndarray,
    face_scores: np.ndarray,
    input_hw: tuple[int, int],
    *,
    score_threshold: float,
    nms_threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (x, y, w, h in input pixels) and scores above ``score_threshold`` after NMS, best first."""
    priors = prior_boxes(*input_hw)
    if priors.shape[0] != offsets.shape[0]:
        raise ValueError(
            f"model emitted {offsets.shape[0]} boxes for {priors.shape[0]} priors: not a RetinaFace model?"
        )
    candidates = np.flatnonzero(face_scores > score_threshold)
    if candidates.size == 0:
        return np.zeros((0, 4), dtype=np.float32), np.zeros((0,), dtype=np.float32)
    boxes = decode_boxes(offsets[candidates], priors[candidates])
    scores = face_scores[candidates]
    kept = non_max_suppression(boxes, scores, nms_threshold)
    return boxes[kept], scores[kept]
