"""Frames sampled from a source for moment search: small thumbnails for results, and on-screen text (OCR).

Each frame is one fast-seek ffmpeg call (keyframe seek, then decode to the exact time), so a four-hour source
costs as many short decodes as frames, never a decode of the whole file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipped.media.ffmpeg import run_ffmpeg

THUMBNAIL_WIDTH = 320
OCR_WIDTH = 640  # slide text stays legible; the detector costs less than at full size
MIN_THUMBNAIL_EVERY_S = 10.0
MAX_THUMBNAILS = 120
# OCR takes one to two seconds per frame on a CPU core: a frame per five minutes (at least two, at most twelve)
# finds slides and titles without dominating the cost of indexing.
OCR_EVERY_S = 300.0
MIN_OCR_FRAMES = 2
DEFAULT_OCR_FRAMES = 12
MIN_OCR_CONFIDENCE = 0.6


class ScreenTextUnavailableError(RuntimeError):
    """rapidocr-onnxruntime is not installed (it is installed with --no-deps; see the Makefile)."""


@dataclass(frozen=True)
class ScreenText:
    """Text read from one frame."""

    at_s: float
    text: str


def thumbnail_times(duration_s: float) -> list[float]:
    """When to take a result thumbnail: every 10 s, or spread so there are at most 120, mid-interval."""
    if duration_s <= 0:
        return []
    every = max(MIN_THUMBNAIL_EVERY_S, duration_s / MAX_THUMBNAILS)
    count = max(1, int(duration_s // every))
    return [round(min(duration_s - 0.05, (index + 0.5) * every), 3) for index in range(count)]


def ocr_times(duration_s: float, max_frames: int = DEFAULT_OCR_FRAMES) -> list[float]:
    """One time per five minutes of source (2 to ``max_frames``), evenly inside it (never its first or last
    frame: fades and black)."""
    if duration_s <= 0 or max_frames <= 0:
        return []
    frames = min(max_frames, max(MIN_OCR_FRAMES, math.ceil(duration_s / OCR_EVERY_S)))
    return [round(duration_s * (index + 1) / (frames + 1), 3) for index in range(frames)]


def nearest(times: Sequence[float], at_s: float) -> int:
    """Index of the time in ``times`` (sorted, non-empty) closest to ``at_s``."""
    position = int(np.searchsorted(times, at_s))
    if position == 0:
        return 0
    if position >= len(times):
        return len(times) - 1
    return position if times[position] - at_s < at_s - times[position - 1] else position - 1


def extract_frame(video: Path, at_s: float, out: Path, width: int) -> Path:
    """One JPEG of ``video`` at ``at_s``, scaled to ``width`` (height keeps the aspect, even)."""
    run_ffmpeg(
        ["-ss", f"{at_s:.3f}", "-i", str(video), "-frames:v", "1", "-vf", f"scale={width}:-2", "-q:v", "5", str(out)],
        timeout_s=60,
    )
    if not out.exists() or out.stat().st_size == 0:
        raise FileNotFoundError(f"ffmpeg wrote no frame at {at_s:.1f}s")
    return out


def load_screen_reader() -> Callable[[Path], str]:
    """A function from an image file to the text on it (lines joined, low-confidence lines dropped)."""
    try:
        from rapidocr_onnxruntime import RapidOCR  # optional: the CPU image installs it with --no-deps
    except ImportError as exc:
        raise ScreenTextUnavailableError(
            "on-screen text needs rapidocr-onnxruntime (pip install --no-deps rapidocr-onnxruntime)"
        ) from exc
    engine = RapidOCR()

    def read(image: Path) -> str:
        lines, _ = engine(str(image))
        return " ".join(text.strip() for _box, text, score in lines or [] if float(score) >= MIN_OCR_CONFIDENCE)

    return read
