"""Overlays on the reframed picture: where the hook goes so it never covers the face, and the logo watermark.

Pure: face boxes and the crop path in, a placement or a filtergraph fragment out.
"""

from __future__ import annotations

import bisect
from pathlib import Path

from clipped.render.crop_path import CropPath
from clipped.render.filtergraph import escape_filter_value
from clipped.render.safe_areas import SafeArea
from clipped.types import FaceFrame

FACE_MARGIN_FRAC = 0.15  # of the face box's height, above and below: hair and chin belong to the face


def face_bands(
    face_frames: list[FaceFrame],
    path: CropPath,
    clip_start_s: float,
    until_s: float,
    width: int,
    height: int,
) -> list[tuple[float, float]]:
    """Vertical extents (y0, y1) in OUTPUT pixels of every face seen in the clip's first ``until_s`` seconds,
    through the crop window the render uses at that moment; faces outside the window are left out."""
    scale_x, scale_y = width / path.crop_w, height / path.crop_h
    times = [keyframe.t_s for keyframe in path.keyframes]
    bands = []
    for frame in face_frames:
        t = frame.t_s - clip_start_s
        if not 0 <= t <= until_s or not path.keyframes:
            continue
        window = path.keyframes[max(0, bisect.bisect_right(times, t) - 1)]
        for face in frame.faces:
            left, right = (face.x - window.x) * scale_x, (face.x + face.w - window.x) * scale_x
            if right <= 0 or left >= width:
                continue
            pad = face.h * FACE_MARGIN_FRAC
            y0, y1 = (face.y - pad - window.y) * scale_y, (face.y + face.h + pad - window.y) * scale_y
            if y1 > 0 and y0 < height:
                bands.append((max(0.0, y0), min(float(height), y1)))
    return bands


def hook_position(bands: dict[str, tuple[float, float]], faces: list[tuple[float, float]]) -> str:
    """``top`` unless a face reaches into the top band and the band above the captions is clearer.

    ``bands`` are the hook box's extents at each position (:func:`clipped.render.captions_ass.hook_band`).
    With faces in both, the one overlapping them least wins, the top on a tie.
    """

    def overlap(band: tuple[float, float]) -> float:
        return sum(max(0.0, min(band[1], y1) - max(band[0], y0)) for y0, y1 in faces)

    top, bottom = overlap(bands["top"]), overlap(bands["bottom"])
    return "bottom" if bottom < top else "top"


def logo_filter(
    logo: Path, position: str, width_frac: float, opacity: float, width: int, height: int, safe: SafeArea
) -> str:
    """The filtergraph fragment that overlays ``logo`` on the stream before it: ``[main]`` in, unlabelled out.

    The logo (RGBA PNG) is scaled to ``width_frac`` of the frame's width, made ``opacity`` transparent on top of
    its own alpha, and placed in the chosen corner inside the platform's safe area. ``movie`` reads it inside
    the same graph, so the render stays one ffmpeg pass with one input.
    """
    if position not in ("top_left", "top_right", "bottom_left", "bottom_right"):
        raise ValueError(f"unknown logo position {position!r}")
    logo_w = max(2, round(width * width_frac / 2) * 2)
    vertical, horizontal = position.split("_")
    x = f"{round(safe.left * width)}" if horizontal == "left" else f"W-w-{round(safe.right * width)}"
    y = f"{round(safe.top * height)}" if vertical == "top" else f"H-h-{round(safe.bottom * height)}"
    return (
        f"movie=filename={escape_filter_value(str(logo))},format=rgba,scale={logo_w}:-2:flags=bicubic,"
        f"colorchannelmixer=aa={opacity:.3f}[logo];[main][logo]overlay=x={x}:y={y}:format=auto"
    )
