"""Locating and running ffmpeg.

The binary is the first of these candidates that passes the capability probe (:mod:`clipped.media.capabilities`):

1. ``CLIPPED_FFMPEG``, when set: the user's explicit choice (skipped, with a warning, if it fails the probe);
2. the system ``ffmpeg`` on ``PATH``;
3. imageio-ffmpeg's static build, which pip installs with Clipped.

The system binary is preferred to the bundled one because it is the ffmpeg the user already has and keeps up to
date: the distribution ships its security fixes and builds it against the system's libass, fontconfig and fonts.
The static build is the fallback that makes pip-only installs work with no apt at all. Either renders the same
clips to the same checks (the probe proves the features; the render tests run with both), but not the same bytes,
so renders record :func:`ffmpeg_identity` and ``CLIPPED_FFMPEG`` pins one binary. Commands are always argument
lists, never shell strings.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from collections.abc import Sequence

from clipped.media.capabilities import FfmpegIdentity, FfmpegProbe, child_process_options, probe_ffmpeg
from clipped.media.errors import MediaToolError, last_error_line

__all__ = [
    "OVERRIDE_VARIABLE",
    "FfmpegIdentity",
    "MediaToolError",
    "NoUsableFfmpegError",
    "child_process_options",
    "choose_ffmpeg",
    "ffmpeg_candidates",
    "ffmpeg_exe",
    "ffmpeg_identity",
    "last_error_line",
    "require_ffmpeg",
    "run_ffmpeg",
]

OVERRIDE_VARIABLE = "CLIPPED_FFMPEG"
_log = logging.getLogger(__name__)


class NoUsableFfmpegError(MediaToolError):
    """No candidate ffmpeg can run what Clipped uses; the message names each binary and what it lacks."""


def ffmpeg_candidates() -> tuple[str, ...]:
    """Binaries to try, best first, each once: ``CLIPPED_FFMPEG``, the ``ffmpeg`` on PATH, imageio-ffmpeg's."""
    found: list[str] = []
    override = os.environ.get(OVERRIDE_VARIABLE)
    if override:
        found.append(shutil.which(override) or override)
    system = shutil.which("ffmpeg")
    if system:
        found.append(system)
    bundled = _bundled_ffmpeg()
    if bundled:
        found.append(shutil.which(bundled) or bundled)
    unique: dict[str, str] = {}
    for path in found:
        unique.setdefault(os.path.realpath(path), os.path.abspath(path))
    return tuple(unique.values())


def _bundled_ffmpeg() -> str | None:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):  # not installed, or no binary for this platform
        return None


def choose_ffmpeg(candidates: tuple[str, ...]) -> FfmpegIdentity:
    """The first of ``candidates`` that passes the probe; the ones skipped are logged with the reason.

    Not cached itself: the probes are, per binary file, so this costs a few ``stat`` calls and notices a binary
    upgraded under a long-running process.
    """
    rejected: list[FfmpegProbe] = []
    for path in candidates:
        probe = probe_ffmpeg(path)
        if probe.usable:
            for skipped in rejected:
                _warn_once(f"skipping ffmpeg {skipped.describe()}; using {path}")
            return probe.identity()
        rejected.append(probe)
    if not rejected:
        raise NoUsableFfmpegError(
            f"no ffmpeg found: {OVERRIDE_VARIABLE} is unset, there is none on PATH and imageio-ffmpeg has no binary"
        )
    tried = "; ".join(probe.describe() for probe in rejected)
    raise NoUsableFfmpegError(f"no usable ffmpeg (tried {tried}); point {OVERRIDE_VARIABLE} at one that can")


@functools.cache
def _warn_once(message: str) -> None:
    _log.warning(message)


def ffmpeg_identity() -> FfmpegIdentity:
    """Path and version of the ffmpeg this process runs; add it to the fingerprint of anything ffmpeg writes."""
    return choose_ffmpeg(ffmpeg_candidates())


def ffmpeg_exe() -> str:
    """Path of the ffmpeg this process runs (see the module docstring for the order of candidates)."""
    return ffmpeg_identity().path


def require_ffmpeg(pinned: FfmpegIdentity) -> FfmpegIdentity:
    """``pinned`` when its binary still passes the probe and reports the same version; a different version would
    write different bytes than the ones recorded, so it is refused rather than silently used."""
    probe = probe_ffmpeg(pinned.path)
    if not probe.usable:
        raise NoUsableFfmpegError(f"pinned ffmpeg {probe.describe()}")
    if probe.version != pinned.version:
        raise MediaToolError(
            f"pinned ffmpeg {pinned.path} is version {probe.version}, not the recorded {pinned.version}"
        )
    return pinned


def run_ffmpeg(
    args: Sequence[str], *, timeout_s: float | None = None, ffmpeg: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``ffmpeg`` (default :func:`ffmpeg_exe`) with ``args`` (no binary name); raise
    :class:`MediaToolError` with a one-line reason. ffmpeg dies with this process (:func:`child_process_options`);
    ``subprocess.run`` kills it when the wait is interrupted or times out."""
    command = [ffmpeg or ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, errors="replace", **child_process_options()
        )
    except subprocess.TimeoutExpired as exc:
        raise MediaToolError(f"ffmpeg timed out after {timeout_s:.0f}s") from exc
    if result.returncode != 0:
        raise MediaToolError(f"ffmpeg failed: {last_error_line(result.stderr)}")
    return result


def decode_threads(threads: int | None) -> list[str]:
    """ffmpeg input options for ``threads`` decoder threads (None: ffmpeg's own choice, every core)."""
    return ["-threads", str(threads)] if threads else []


def filter_threads(threads: int | None) -> list[str]:
    """ffmpeg options for ``threads`` filter threads (None: ffmpeg's own choice, every core)."""
    return ["-filter_threads", str(threads)] if threads else []
