"""Loudness measurement (EBU R128) with ffmpeg's audio-only analysis passes.

Platforms normalise playback to about -14 LUFS; a clip rendered there is played back as mixed.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from clipped.media.capabilities import EBUR128_SUMMARY_FILTER
from clipped.media.ffmpeg import MediaToolError, run_ffmpeg

TARGET_LUFS = -14.0
TARGET_TRUE_PEAK_DB = -1.5
TARGET_LRA = 11.0
# Mono speech is upmixed before measuring: R128 sums channel powers, so the same mono track measures 3 LU
# quieter than its stereo copy, and measuring one and delivering the other would miss the target by 3 LU.
STEREO = "aformat=channel_layouts=stereo"


@dataclass(frozen=True)
class LoudnormMeasurement:
    """First-pass values that ``loudnorm`` needs to normalise linearly in a second pass."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float

    def is_measurable(self) -> bool:
        """False for silence, where there is nothing to normalise (loudnorm reports -inf)."""
        return all(math.isfinite(v) for v in (self.input_i, self.input_tp, self.input_thresh)) and self.input_i > -70


def loudnorm_target() -> str:
    """The target part of every loudnorm invocation, identical in both passes."""
    return f"I={TARGET_LUFS}:TP={TARGET_TRUE_PEAK_DB}:LRA={TARGET_LRA}"


def measure_loudnorm(
    source: Path, start_s: float, duration_s: float, *, ffmpeg: str | None = None
) -> LoudnormMeasurement:
    """Run loudnorm's analysis over ``duration_s`` of audio from ``start_s`` (audio only, so it is cheap)."""
    result = run_ffmpeg([
        "-nostats", "-ss", f"{start_s:.3f}", "-i", str(source), "-t", f"{duration_s:.3f}", "-vn",
        "-af", f"{STEREO},loudnorm={loudnorm_target()}:print_format=json", "-f", "null", "-",
    ], ffmpeg=ffmpeg)  # fmt: skip
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", result.stderr)
    if not match:
        raise MediaToolError("ffmpeg failed: loudnorm printed no measurement")
    values = json.loads(match.group(0))
    return LoudnormMeasurement(
        input_i=float(values["input_i"]),
        input_tp=float(values["input_tp"]),
        input_lra=float(values["input_lra"]),
        input_thresh=float(values["input_thresh"]),
        target_offset=float(values["target_offset"]),
    )


def loudnorm_apply_filter(measured: LoudnormMeasurement) -> str:
    """Second-pass loudnorm fed the first pass's numbers; ffmpeg applies one linear gain whenever the true-peak
    limit allows it and otherwise falls back to its dynamic mode, which still lands on the target."""
    return (
        f"loudnorm={loudnorm_target()}:measured_I={measured.input_i}:measured_TP={measured.input_tp}"
        f":measured_LRA={measured.input_lra}:measured_thresh={measured.input_thresh}"
        f":offset={measured.target_offset}:linear=true"
    )


def parse_integrated_lufs(stderr: str) -> float | None:
    """The integrated loudness from an ``ebur128`` summary in ffmpeg's stderr (None when absent or silent).

    Reads the last summary, so per-frame lines (printed too when ffmpeg logs at verbose) cannot be mistaken
    for it; ffmpeg 5.1 and 7+ print the summary alike.
    """
    summary = stderr.rsplit("Integrated loudness:", 1)
    if len(summary) < 2:
        return None
    match = re.search(r"I:\s+(-?[\d.]+|-inf)\s+LUFS", summary[1])
    if not match or match.group(1) == "-inf":
        return None
    value = float(match.group(1))
    return value if value > -70 else None


def integrated_loudness(path: Path, *, ffmpeg: str | None = None) -> float | None:
    """Integrated loudness (LUFS) of a file's first audio stream, None when it has no audible audio."""
    result = run_ffmpeg(
        ["-nostats", "-i", str(path), "-vn", "-af", EBUR128_SUMMARY_FILTER, "-f", "null", "-"], ffmpeg=ffmpeg
    )
    return parse_integrated_lufs(result.stderr)
