"""Measure a rendered clip for the render stage's asset checks: format, loudness, black or frozen video, captions.

Everything is measured on the delivered file, never taken from what the renderer meant to produce.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import av
import numpy as np
from pydantic import BaseModel

from clipped.media.capabilities import EBUR128_SUMMARY_FILTER, child_process_options
from clipped.media.ffmpeg import (
    MediaToolError,
    decode_threads,
    ffmpeg_exe,
    filter_threads,
    last_error_line,
    run_ffmpeg,
)
from clipped.render.filtergraph import FONTS_DIR, ass_filter
from clipped.render.loudness import parse_integrated_lufs

BLACK_MIN_S = 1.0
FREEZE_MIN_S = 2.0
# freezedetect compares each frame with the FIRST frame of a candidate freeze, not with its neighbour, so a slow
# pan accumulates difference and is never called frozen: a photo drifting 3 px/s measured far above this
# threshold, and the sample's drifting face never registers. An x264-encoded still frame measures ~1e-5, so
# -70 dB (3e-4) sits 30x above re-encoding noise and still catches a truly static picture. Changing burned
# captions over a still picture also measure above it: the picture is frozen, but the clip is not.
FREEZE_NOISE = 0.0003
BLACK_PIXEL_THRESHOLD = 0.10  # luma fraction counted as black; dark but lit scenes stay above it

_TIME = r"(-?[\d.]+)"


class ClipInspection(BaseModel):
    width: int
    height: int
    fps: float
    duration_s: float
    has_audio: bool
    integrated_lufs: float | None  # None without audible audio
    black_stretches: list[tuple[float, float]]  # (start_s, end_s), each >= 1 s
    frozen_stretches: list[tuple[float, float]]  # (start_s, end_s), each >= 2 s


class CaptionCheck(BaseModel):
    """How many sampled caption moments show the ASS text burned where libass draws it."""

    samples: int
    matched: int
    band_top_frac: float | None  # highest and lowest caption pixel over the samples, as fractions of the height
    band_bottom_frac: float | None

    @property
    def all_matched(self) -> bool:
        return self.samples > 0 and self.matched == self.samples


def inspect_clip(path: Path, *, ffmpeg: str | None = None, threads: int | None = None) -> ClipInspection:
    """Probe ``path`` and scan it once (with ``ffmpeg``, default :func:`ffmpeg_exe`) for loudness, black
    stretches and frozen stretches; ``threads`` caps the scan's decoder and filter threads (None: every core)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaToolError(f"{path.name} has no video stream")
            video = container.streams.video[0]
            width, height = video.codec_context.width, video.codec_context.height
            fps = float(video.average_rate or video.guessed_rate or 0)
            if video.duration is not None and video.time_base is not None:
                duration_s = float(video.duration * video.time_base)
            else:
                duration_s = float(container.duration or 0) / 1e6
            has_audio = bool(container.streams.audio)
    except av.error.FFmpegError as exc:
        raise MediaToolError(f"cannot open {path.name}: {exc}") from exc

    args = [
        "-nostats", *decode_threads(threads), "-i", str(path), *filter_threads(threads),
        "-map", "0:v:0", "-vf",
        f"blackdetect=d={BLACK_MIN_S}:pix_th={BLACK_PIXEL_THRESHOLD},freezedetect=n={FREEZE_NOISE}:d={FREEZE_MIN_S}",
        "-f", "null", "-",
    ]  # fmt: skip
    if has_audio:
        args[-3:-3] = ["-map", "0:a:0", "-af", EBUR128_SUMMARY_FILTER]
    stderr = run_ffmpeg(args, ffmpeg=ffmpeg).stderr
    return ClipInspection(
        width=width,
        height=height,
        fps=round(fps, 3),
        duration_s=duration_s,
        has_audio=has_audio,
        integrated_lufs=parse_integrated_lufs(stderr) if has_audio else None,
        black_stretches=parse_black_stretches(stderr),
        frozen_stretches=parse_frozen_stretches(stderr, duration_s),
    )


def parse_black_stretches(stderr: str) -> list[tuple[float, float]]:
    """(start, end) pairs from blackdetect's log lines."""
    pattern = rf"black_start:{_TIME}\s+black_end:{_TIME}"
    return [(float(start), float(end)) for start, end in re.findall(pattern, stderr)]


def parse_frozen_stretches(stderr: str, duration_s: float) -> list[tuple[float, float]]:
    """(start, end) pairs from freezedetect's log lines; a freeze still running at the end closes at the end."""
    stretches: list[tuple[float, float]] = []
    start: float | None = None
    for kind, value in re.findall(rf"lavfi\.freezedetect\.freeze_(start|end): {_TIME}", stderr):
        if kind == "start":
            start = float(value)
        elif start is not None:
            stretches.append((start, float(value)))
            start = None
    if start is not None and duration_s - start >= FREEZE_MIN_S:
        stretches.append((start, duration_s))
    return _merge_touching(stretches)


def _merge_touching(stretches: list[tuple[float, float]]) -> list[tuple[float, float]]:
    # A keyframe inside a still picture is re-coded slightly differently and restarts freezedetect's
    # reference, which splits one long freeze into two that touch; they are one stretch.
    merged: list[tuple[float, float]] = []
    for start, end in stretches:
        if merged and start - merged[-1][1] < 0.05:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def caption_check(
    video: Path,
    ass_path: Path,
    *,
    samples: int = 6,
    fonts_dir: Path = FONTS_DIR,
    ffmpeg: str | None = None,
    threads: int | None = None,
) -> CaptionCheck:
    """Check the captions in ``ass_path`` are burned into ``video``.

    libass draws the same script on a plain grey canvas; where it puts letter fill (bright) and outline (black)
    at a moment, the clip must be bright and dark in the same places. Background that merely happens to be
    light or dark cannot pass both halves, so this tells a burned caption from a busy picture. ``threads`` caps
    each ffmpeg's decoder and filter threads (None: every core).
    """
    events = _dialogue_times(ass_path.read_text())
    if not events:
        return CaptionCheck(samples=0, matched=0, band_top_frac=None, band_bottom_frac=None)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        fps = float(stream.average_rate or 30)
        duration_s = float(container.duration or 0) / 1_000_000
    picks = [events[round(i * (len(events) - 1) / max(1, samples - 1))] for i in range(min(samples, len(events)))]
    # An event may end on the clip's last instant; its midpoint can still fall past the last encoded frame.
    last_frame = max(0, int(duration_s * fps) - 2) if duration_s else None
    indices = sorted({int((start + end) / 2 * fps) for start, end in picks})
    if last_frame is not None:
        indices = [index for index in indices if index <= last_frame] or [last_frame]
    last_s = indices[-1] / fps + 1
    ffmpeg = ffmpeg or ffmpeg_exe()
    # libass draws only the sampled canvas frames: select keeps their times, which is all it reads.
    canvas = _gray_frames(
        ffmpeg, ["-f", "lavfi", "-i", f"color=c=gray:s={width}x{height}:r={fps}:d={last_s:.3f}",
                 *filter_threads(threads)],
        indices, width, height, then=f"{ass_filter(ass_path, fonts_dir)},",
    )  # fmt: skip
    frames = _gray_frames(
        ffmpeg, [*decode_threads(threads), "-i", str(video), *filter_threads(threads)], indices, width, height
    )
    matched = 0
    rows: list[int] = []
    for drawn, shown in zip(canvas, frames, strict=True):
        fill, outline = drawn > 200, drawn < 50
        if fill.sum() < 50 or outline.sum() < 50:
            continue  # nothing drawn at this moment (a caption shorter than a frame)
        ys = np.nonzero(fill | outline)[0]
        rows += [int(ys.min()), int(ys.max())]
        if shown[fill].mean() - shown[outline].mean() > 100:
            matched += 1
    return CaptionCheck(
        samples=len(indices),
        matched=matched,
        band_top_frac=min(rows) / height if rows else None,
        band_bottom_frac=max(rows) / height if rows else None,
    )


def _dialogue_times(ass_text: str) -> list[tuple[float, float]]:
    def seconds(stamp: str) -> float:
        hours, minutes, secs = stamp.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(secs)

    pattern = r"^Dialogue:\s*\d+,(\d+:\d\d:\d\d\.\d\d),(\d+:\d\d:\d\d\.\d\d),"
    return [(seconds(start), seconds(end)) for start, end in re.findall(pattern, ass_text, flags=re.MULTILINE)]


def _gray_frames(
    ffmpeg: str, inputs: list[str], indices: list[int], width: int, height: int, *, then: str = ""
) -> np.ndarray:
    """Frames number ``indices`` of the input, put through ``then`` filters, as 8-bit luma arrays."""
    select = "+".join(f"eq(n\\,{n})" for n in indices)
    command = [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", *inputs,
        "-vf", f"select={select},{then}format=gray", "-fps_mode", "passthrough",
        "-f", "rawvideo", "-",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, timeout=300, **child_process_options())
    if result.returncode != 0:
        raise MediaToolError(f"ffmpeg failed: {last_error_line(result.stderr.decode(errors='replace'))}")
    frame_bytes = width * height
    count = len(result.stdout) // frame_bytes
    if count != len(indices):
        raise MediaToolError(f"ffmpeg returned {count} of {len(indices)} caption sample frames")
    return np.frombuffer(result.stdout, dtype=np.uint8).reshape(count, height, width)
