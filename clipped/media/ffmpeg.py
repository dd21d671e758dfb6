"""Locating and running ffmpeg.

The system ffmpeg wins when it has libass and x264; otherwise the static build from `imageio-ffmpeg`
(pip-only installs need no apt). Commands are always argument lists, never shell strings.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence


class MediaToolError(RuntimeError):
    """ffmpeg failed; the message carries the last meaningful stderr line."""


@functools.cache
def ffmpeg_exe() -> str:
    """Path of an ffmpeg binary with libass and libx264 (``CLIPPED_FFMPEG`` overrides)."""
    override = os.environ.get("CLIPPED_FFMPEG")
    if override:
        return override
    system = shutil.which("ffmpeg")
    if system and _has_render_features(system):
        return system
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _has_render_features(exe: str) -> bool:
    try:
        config = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--enable-libass" in config.stdout and "--enable-libx264" in config.stdout


def run_ffmpeg(args: Sequence[str], *, timeout_s: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run ffmpeg with ``args`` (no binary name); raise :class:`MediaToolError` with a one-line reason."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, errors="replace")
    except subprocess.TimeoutExpired as exc:
        raise MediaToolError(f"ffmpeg timed out after {timeout_s:.0f}s") from exc
    if result.returncode != 0:
        raise MediaToolError(f"ffmpeg failed: {last_error_line(result.stderr)}")
    return result


def last_error_line(stderr: str) -> str:
    """The most informative line of ffmpeg's stderr (it ends with generic summary lines)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    generic = ("Conversion failed", "Exiting with exit code", "Error opening output files")
    meaningful = [line for line in lines if not line.startswith(generic)]
    return (meaningful or lines or ["no output"])[-1][:300]
