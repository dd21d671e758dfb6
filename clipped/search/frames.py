"""Frames sampled from a source for moment search: small thumbnails for results, and on-screen text (OCR).

Each frame is the keyframe at or before its time, read from one open container (:class:`FrameReader`), so a
four-hour source costs one keyframe decode per frame, never a decode of the whole file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
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
JPEG_QUALITY = 85


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
    """One JPEG of ``video`` near ``at_s`` (the keyframe at or before it) through ffmpeg, which applies the
    stream's rotation; scaled to ``width`` (height keeps the aspect, even)."""
    run_ffmpeg(
        [
            "-noaccurate_seek", "-ss", f"{at_s:.3f}", "-i", str(video),
            "-frames:v", "1", "-vf", f"scale={width}:-2", "-q:v", "5", str(out),
        ],
        timeout_s=60,
    )  # fmt: skip
    if not out.exists() or out.stat().st_size == 0:
        raise FileNotFoundError(f"ffmpeg wrote no frame at {at_s:.1f}s")
    return out


class FrameReader:
    """JPEGs of one video at many times, each the keyframe at or before its time, from one open container.

    A result thumbnail or a slide's text does not need the exact frame, and an ffmpeg run per frame re-reads the
    container's index each time (~0.3 CPU s per frame on an hour of 1080p); here a frame costs one keyframe
    decode. A rotated stream (phone video) goes through :func:`extract_frame`, which applies the rotation.
    """

    def __init__(self, video: Path) -> None:
        self._video = video
        self._container: av.container.InputContainer | None = None

    def __enter__(self) -> FrameReader:
        try:
            container = av.open(str(self._video))
        except av.error.FFmpegError:
            return self  # ffmpeg says what is wrong, frame by frame
        if container.streams.video:
            self._container = container
        else:
            container.close()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._container is not None:
            self._container.close()

    def write(self, at_s: float, out: Path, width: int) -> Path:
        frame = self._keyframe_at(at_s)
        if frame is None or frame.rotation:
            return extract_frame(self._video, at_s, out, width)
        height = max(2, round(frame.height * width / frame.width / 2) * 2)
        frame.to_image(width=width, height=height).save(out, format="JPEG", quality=JPEG_QUALITY)
        return out

    def _keyframe_at(self, at_s: float) -> av.VideoFrame | None:
        container = self._container
        if container is None:
            return None
        stream = container.streams.video[0]
        origin = container.start_time / av.time_base if container.start_time else 0.0
        try:
            container.seek(int((at_s + origin) / stream.time_base), stream=stream, backward=True, any_frame=False)
            return next(container.decode(stream), None)
        except (av.error.FFmpegError, StopIteration):
            return None


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
