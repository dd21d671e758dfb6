"""A clip's thumbnail: its sharpest frame that shows a face, with the title drawn over it in the brand's style.

Candidates are spread over the middle of the rendered clip; each is scored by the variance of its Laplacian (a
blurred or mid-motion frame has little high-frequency energy). A frame where the face tracker saw a face beats any
frame without one. The title goes on in one ffmpeg run with libass, in the brand kit's font and hook colours, so it
looks like the hook the clip opens with.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from clipped.brand.kit import BrandKit
from clipped.media.capabilities import REPRODUCIBLE_OUTPUT_ARGS
from clipped.media.ffmpeg import decode_threads, filter_threads, run_ffmpeg
from clipped.render.captions_ass import escape_ass_text
from clipped.render.filtergraph import ass_filter
from clipped.render.finishing import caption_look
from clipped.types import FaceFrame

CANDIDATES = 6
SPREAD = (0.15, 0.85)  # of the clip: clear of the hook's opening seconds and of the last words
FACE_NEAR_S = 0.5  # a face sample this close to a candidate counts as a face in that frame
SCORE_HEIGHT = 480  # frames are scored at this height: sharpness ranks the same, at a fraction of the cost


@dataclass(frozen=True)
class ThumbnailChoice:
    at_s: float  # in the rendered clip
    sharpness: float
    has_face: bool


def candidate_times(duration_s: float, count: int = CANDIDATES) -> list[float]:
    low, high = SPREAD
    if count == 1:
        return [duration_s / 3]
    return [round(duration_s * (low + (high - low) * i / (count - 1)), 3) for i in range(count)]


def laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of a greyscale image: higher is sharper."""
    image = gray.astype(np.float32)
    laplacian = image[1:-1, :-2] + image[1:-1, 2:] + image[:-2, 1:-1] + image[2:, 1:-1] - 4 * image[1:-1, 1:-1]
    return float(laplacian.var())


def has_face_near(face_frames: list[FaceFrame], t_s: float) -> bool:
    """Whether the face sample nearest ``t_s`` (same timeline) is within :data:`FACE_NEAR_S` and holds a face."""
    near = [frame for frame in face_frames if abs(frame.t_s - t_s) <= FACE_NEAR_S]
    if not near:
        return False
    return bool(min(near, key=lambda frame: abs(frame.t_s - t_s)).faces)


def best_frame(scored: list[ThumbnailChoice]) -> ThumbnailChoice:
    """A frame with a face first, then the sharpest; ties go to the earlier frame."""
    return max(scored, key=lambda choice: (choice.has_face, choice.sharpness, -choice.at_s))


def score_candidates(
    video: Path, times_s: list[float], face_frames: list[FaceFrame], start_s: float, threads: int | None = None
) -> list[ThumbnailChoice]:
    """Decode the frame at each time of ``video`` and score it; ``face_frames`` are on the clip's source-based
    timeline, which starts at ``start_s``. ``threads`` caps the decoder's threads (None: every core)."""
    scored = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if threads:
            stream.codec_context.thread_count = threads
        assert stream.time_base is not None
        for t in times_s:
            container.seek(int(t / stream.time_base), stream=stream, backward=True)
            frame = next((f for f in container.decode(stream) if f.time is not None and f.time >= t - 1e-3), None)
            if frame is None:
                continue
            small = frame.reformat(height=SCORE_HEIGHT, width=round(frame.width * SCORE_HEIGHT / frame.height))
            sharpness = laplacian_variance(small.to_ndarray(format="gray"))
            scored.append(ThumbnailChoice(t, round(sharpness, 3), has_face_near(face_frames, start_s + t)))
    return scored


def title_ass(title: str, width: int, height: int, brand: BrandKit) -> str:
    """One event for the whole frame: the title, bold on the brand's hook box, centred in the upper third."""
    look = caption_look(brand)
    size = round(0.075 * min(width, height))
    margin = round(0.08 * width)
    return (
        "[Script Info]\nScriptType: v4.00+\n"
        f"PlayResX: {width}\nPlayResY: {height}\nWrapStyle: 0\nScaledBorderAndShadow: yes\nYCbCr Matrix: TV.709\n\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding\n"
        f"Style: Title,{look.font},{size},{look.hook_text},{look.hook_text},{look.hook_box},{look.hook_box},"
        f"-1,0,0,0,100,100,0,0,3,{max(4, round(size * 0.25))},0,8,{margin},{margin},{round(0.2 * height)},1\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        f"Dialogue: 0,0:00:00.00,9:00:00.00,Title,,0,0,0,,{escape_ass_text(' '.join(title.split()))}\n"
    )


def write_thumbnail(
    video: Path,
    out_thumbnail: Path,
    *,
    duration_s: float,
    width: int,
    height: int,
    face_frames: list[FaceFrame],
    start_s: float,
    title: str,
    brand: BrandKit,
    ffmpeg: str,
    threads: int | None = None,
) -> ThumbnailChoice:
    """Pick the frame (see the module docstring) and write it as a JPEG with ``title`` over it (none if empty);
    ``threads`` caps decoder and filter threads (None: every core)."""
    scored = score_candidates(video, candidate_times(duration_s), face_frames, start_s, threads)
    choice = best_frame(scored) if scored else ThumbnailChoice(duration_s / 3, 0.0, False)
    with tempfile.TemporaryDirectory(prefix="clipped-thumb-") as work:
        overlay: list[str] = []
        if title.strip():
            ass = Path(work) / "title.ass"
            ass.write_text(title_ass(title, width, height, brand))
            overlay = ["-vf", ass_filter(ass)]
        capped = [*decode_threads(threads), *filter_threads(threads)]
        run_ffmpeg([
            *capped, "-ss", f"{choice.at_s:.3f}", "-i", str(video),
            "-frames:v", "1", *overlay, "-q:v", "3", "-update", "1",
            *REPRODUCIBLE_OUTPUT_ARGS, "-f", "image2", "-c:v", "mjpeg", str(out_thumbnail),
        ], ffmpeg=ffmpeg)  # fmt: skip
    return choice
