"""What an ffmpeg binary can really run, proven by tiny real runs instead of read from ``-version``.

A build flag says nothing about the option spellings a filter accepts: Debian 12's ffmpeg 5.1 is built with
libass and libx264, yet rejects ``ebur128=framelog=quiet`` (a newer spelling), so choosing it by its
``--enable-*`` list broke every render. Here each ffmpeg feature Clipped uses runs once on lavfi test sources
a fraction of a second long, with the same filter spellings and output options the render, inspection and
ingest code pass; the first that fails names what the binary cannot do.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from clipped.media.errors import last_error_line

# framelog is the log level of ebur128's per-frame lines: at "verbose" they stay below ffmpeg's default "info"
# level and only the summary is printed. "quiet" says the same, but only newer builds know it: 5.1 rejects it.
EBUR128_SUMMARY_FILTER = "ebur128=framelog=verbose"
# Output options that make a file depend only on its inputs and the ffmpeg that wrote it: no library version
# strings or creation times from the muxer, and none of the source's tags or chapters (a phone video's
# location tag has no business in a published clip).
REPRODUCIBLE_OUTPUT_ARGS: tuple[str, ...] = (
    "-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact", "-flags", "+bitexact",
)  # fmt: skip

_FEATURE_TIMEOUT_S = 20
_VIDEO = ("-f", "lavfi", "-i", "testsrc2=s=64x64:r=30:d=0.2")
_BLACK_VIDEO = ("-f", "lavfi", "-i", "color=c=black:s=64x64:r=30:d=1")
_AUDIO = ("-f", "lavfi", "-i", "sine=f=440:r=48000:d=1")
_LOUDNORM_TARGET = "I=-14:TP=-1.5:LRA=11"
_CROP_SCRIPT = "0.0000 crop@follow x 4, crop@follow y 4;\n"
_ASS_SCRIPT = """[Script Info]
ScriptType: v4.00+
PlayResX: 64
PlayResY: 64

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, \
MarginV, Encoding
Style: Probe,DejaVu Sans,16,&H00FFFFFF,&H0000FFFF,&H00000000,&H80000000,-1,0,0,0,100,100,0,0,1,2,0,2,4,4,4,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.00,0:00:01.00,Probe,,0,0,0,,Hi
"""


class FfmpegIdentity(BaseModel):
    """Which ffmpeg made (or is to make) an output: its file and the version it reports. Output bytes
    depend on it, so it belongs in render records and in the fingerprints of stages that run ffmpeg."""

    model_config = ConfigDict(frozen=True)

    path: str
    version: str


@dataclass(frozen=True)
class FfmpegFeature:
    """One thing Clipped asks of ffmpeg, as a command run in the probe's scratch folder."""

    name: str
    args: tuple[str, ...]
    expect: tuple[str, ...] = ()  # patterns the run's output must show: a filter that ran silently fails
    forbid: str | None = None  # a pattern it must not show: some failures still exit 0


@dataclass(frozen=True)
class FfmpegProbe:
    """What probing one binary found: usable, or the first feature it could not run and why."""

    path: str
    version: str | None
    missing: str | None  # the feature that failed; None when every feature ran
    reason: str  # ffmpeg's own words for the failure; "" when usable
    elapsed_s: float

    @property
    def usable(self) -> bool:
        return self.missing is None

    def identity(self) -> FfmpegIdentity:
        return FfmpegIdentity(path=self.path, version=self.version or "unknown")

    def describe(self) -> str:
        """One line for error messages: the binary and what it lacks."""
        return f"{self.path}: ok" if self.usable else f"{self.path}: cannot run {self.missing} ({self.reason})"


# Each command mirrors what the code runs, down to the option spellings; inputs are lavfi sources.
_X264_ARGS = (*_VIDEO, "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p", "-f", "null", "-")
_AAC_ARGS = (*_AUDIO, "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-f", "null", "-")
_RENDER_ARGS = (
    "-nostats", "-progress", "pipe:1", "-threads", "1", *_VIDEO, *_AUDIO, "-filter_threads", "1",
    "-map", "0:v:0", "-map", "1:a:0", "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p",
    "-threads", "1", "-r", "30", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2", "-t", "0.2",
    "-movflags", "+faststart", *REPRODUCIBLE_OUTPUT_ARGS, "-f", "mp4", "probe.mp4",
)  # fmt: skip
_CROP_ARGS = (
    "-loglevel", "verbose", *_VIDEO, "-vf",
    "fps=30,sendcmd=filename=crop.cmd,crop@follow=w=32:h=32:x=0:y=0:exact=1,scale=36:64:flags=bicubic,setsar=1,"
    "format=yuv420p",
    "-f", "null", "-",
)  # fmt: skip
_ASS_ARGS = (*_VIDEO, "-vf", "ass=filename=probe.ass:fontsdir=fonts,format=yuv420p", "-f", "null", "-")
_LOUDNORM_ARGS = (
    *_AUDIO, "-af",
    f"aformat=channel_layouts=stereo,loudnorm={_LOUDNORM_TARGET}:measured_I=-20:measured_TP=-3:measured_LRA=1"
    f":measured_thresh=-30:offset=0:linear=true,aresample=48000,loudnorm={_LOUDNORM_TARGET}:print_format=json",
    "-f", "null", "-",
)  # fmt: skip
_EBUR128_ARGS = ("-nostats", *_AUDIO, "-af", EBUR128_SUMMARY_FILTER, "-f", "null", "-")
_DETECT_ARGS = (
    "-nostats", *_BLACK_VIDEO, "-vf", "blackdetect=d=0.5:pix_th=0.1,freezedetect=n=0.0003:d=0.5", "-f", "null", "-",
)  # fmt: skip
_THUMBNAIL_ARGS = (
    "-ss", "0.1", *_VIDEO, "-frames:v", "1", "-q:v", "3", "-update", "1", *REPRODUCIBLE_OUTPUT_ARGS,
    "-f", "image2", "-c:v", "mjpeg", "thumb.jpg",
)  # fmt: skip
_FRAME_SAMPLING_ARGS = (
    "-loglevel", "error", *_VIDEO, "-vf", r"select=eq(n\,0)+eq(n\,2),format=gray", "-fps_mode", "passthrough",
    "-f", "rawvideo", "frames.raw",
)  # fmt: skip
_WAV_ARGS = (*_AUDIO, "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav", "probe.wav")
# The finishing options (clipped.render.layouts, overlays, cleanup_cuts, profanity, bumpers), in their spellings.
_SPLIT_LAYOUT_ARGS = (
    "-loglevel", "verbose", *_VIDEO, "-vf",
    "fps=30,split[topin][bottomin];"
    "[topin]sendcmd=filename=top.cmd,crop@top=w=32:h=32:x=0:y=0:exact=1,scale=36:36:flags=bicubic,crop=36:18:0:9[top];"
    "[bottomin]sendcmd=filename=bottom.cmd,crop@bottom=w=32:h=32:x=8:y=8:exact=1,scale=36:36:flags=bicubic,"
    "crop=36:18:0:9[bottom];[top][bottom]vstack,setsar=1,format=yuv420p",
    "-f", "null", "-",
)  # fmt: skip
_LOGO_ARGS = (
    *_VIDEO, "-vf",
    "fps=30,scale=36:64:flags=bicubic,setsar=1[main];movie=filename=logo.png,format=rgba,scale=8:-2:flags=bicubic,"
    "colorchannelmixer=aa=0.700[logo];[main][logo]overlay=x=W-w-2:y=2:format=auto,format=yuv420p",
    "-f", "null", "-",
)  # fmt: skip
_CLEANUP_CUT_ARGS = (
    *_VIDEO, *_AUDIO, "-filter_complex",
    "[0:v]select='between(t,-0.0167,0.0500)+between(t,0.1000,0.1833)',setpts=N/FRAME_RATE/TB[v];"
    "[1:a]asplit=2[cut0][cut1];"
    "[cut0]atrim=start=0.0000:end=0.3000,asetpts=PTS-STARTPTS,afade=t=in:d=0.01,afade=t=out:st=0.2900:d=0.01[kept0];"
    "[cut1]atrim=start=0.5000:end=0.9000,asetpts=PTS-STARTPTS,afade=t=in:d=0.01,afade=t=out:st=0.3900:d=0.01[kept1];"
    "[kept0][kept1]concat=n=2:v=0:a=1[a]",
    "-map", "[v]", "-map", "[a]", "-f", "null", "-",
)  # fmt: skip
_CENSOR_ARGS = (
    *_AUDIO, "-af",
    "asetpts=N/SR/TB,aeval=exprs='if(between(t,0.100,0.300),0.25*sin(2*PI*1000*t),val(ch))':channel_layout=same",
    "-f", "null", "-",
)  # fmt: skip
_BUMPER_FORMAT = "aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo"
_BUMPER_FRAME = "scale=64:64:force_original_aspect_ratio=decrease,pad=64:64:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=30"
_BUMPER_ARGS = (
    "-f", "lavfi", "-i", "testsrc2=s=48x64:r=30:d=0.2", *_AUDIO, "-filter_complex",
    f"[0:v]split[b0][b1];[b0]{_BUMPER_FRAME},format=yuv420p[v0];[b1]{_BUMPER_FRAME},format=yuv420p[v1];"
    f"anullsrc=r=48000:cl=stereo,atrim=0:0.200,{_BUMPER_FORMAT}[a0];[1:a]{_BUMPER_FORMAT}[a1];"
    "[v0][a0][v1][a1]concat=n=2:v=1:a=1[v][a]",
    "-map", "[v]", "-map", "[a]", "-f", "null", "-",
)  # fmt: skip
_COMMANDS_SUCCEED = (r"Command reply for command #\d+: ret:Success",)
_COMMAND_REFUSED = r"Command reply for command #\d+: ret:(?!Success).*"

# In the order a reader would check them: a binary without libx264 is reported as such, not as a failed MP4.
FEATURES: tuple[FfmpegFeature, ...] = (
    FfmpegFeature("the libx264 encoder", _X264_ARGS),
    FfmpegFeature("the aac encoder", _AAC_ARGS),
    FfmpegFeature("an H.264/AAC MP4 render with -progress", _RENDER_ARGS, expect=(r"progress=end",)),
    FfmpegFeature(
        "sendcmd moving a named crop (crop@follow, exact=1)",
        _CROP_ARGS,
        expect=_COMMANDS_SUCCEED,
        forbid=_COMMAND_REFUSED,  # a target filter that refuses the command still lets the run exit 0
    ),
    FfmpegFeature("the ass subtitles filter (libass)", _ASS_ARGS),
    FfmpegFeature("two-pass loudnorm (JSON measurement, linear apply)", _LOUDNORM_ARGS, expect=(r'"input_i"',)),
    FfmpegFeature(
        f"the ebur128 loudness summary ({EBUR128_SUMMARY_FILTER})",
        _EBUR128_ARGS,
        expect=(r"Integrated loudness:\s+I:\s+-?[\d.]+ LUFS",),
    ),
    FfmpegFeature(
        "blackdetect and freezedetect",
        _DETECT_ARGS,
        # The log lines the inspection parses, in the words this binary prints them.
        expect=(r"black_start:\S+\s+black_end:", r"lavfi\.freezedetect\.freeze_start: "),
    ),
    FfmpegFeature("a JPEG thumbnail (image2, -update)", _THUMBNAIL_ARGS),
    FfmpegFeature("raw frame sampling (select, -fps_mode passthrough)", _FRAME_SAMPLING_ARGS),
    FfmpegFeature("16 kHz mono WAV extraction (pcm_s16le)", _WAV_ARGS),
    FfmpegFeature(
        "the split layout (split, two sendcmd-driven crops, vstack)",
        _SPLIT_LAYOUT_ARGS,
        expect=_COMMANDS_SUCCEED,
        forbid=_COMMAND_REFUSED,
    ),
    FfmpegFeature("the logo overlay (movie, colorchannelmixer, overlay)", _LOGO_ARGS),
    FfmpegFeature("clean-up cuts (select, asplit, atrim, afade, concat)", _CLEANUP_CUT_ARGS),
    FfmpegFeature("the profanity mute and bleep (aeval per sample)", _CENSOR_ARGS),
    FfmpegFeature("brand bumpers (pad, anullsrc, concat of video and audio)", _BUMPER_ARGS),
)


def probe_ffmpeg(path: str, features: tuple[FfmpegFeature, ...] = FEATURES) -> FfmpegProbe:
    """Run each feature once with the binary at ``path``; cached per binary file (path, size and mtime), so a
    process pays for the probe once and a replaced binary is probed again."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        return FfmpegProbe(path=path, version=None, missing="the binary", reason=str(exc), elapsed_s=0.0)
    # Absolute, because the features run inside a scratch folder.
    return _probe_file(os.path.abspath(path), stat.st_size, stat.st_mtime_ns, features)


def clear_probe_cache() -> None:
    """Forget every probe (tests that rewrite a fake binary in place use it)."""
    _probe_file.cache_clear()


@functools.cache
def _probe_file(path: str, size: int, mtime_ns: int, features: tuple[FfmpegFeature, ...]) -> FfmpegProbe:
    started = time.monotonic()
    version, failure = _version(path)
    if failure is not None:
        return FfmpegProbe(path, None, "ffmpeg -version", failure, round(time.monotonic() - started, 3))
    with tempfile.TemporaryDirectory(prefix="clipped-ffmpeg-probe-") as scratch:
        folder = Path(scratch)
        (folder / "crop.cmd").write_text(_CROP_SCRIPT)
        (folder / "top.cmd").write_text(_CROP_SCRIPT.replace("crop@follow", "crop@top"))
        (folder / "bottom.cmd").write_text(_CROP_SCRIPT.replace("crop@follow", "crop@bottom"))
        (folder / "logo.png").write_bytes(_rgba_png())
        (folder / "probe.ass").write_text(_ASS_SCRIPT)
        (folder / "fonts").mkdir()
        # The features are independent and each is mostly process start-up, so they run side by side; the
        # reported failure is still the first in FEATURES order, whatever finished first.
        with ThreadPoolExecutor(max_workers=4) as pool:
            failures = list(pool.map(lambda feature: _try_feature(path, feature, folder), features))
    elapsed_s = round(time.monotonic() - started, 3)
    for feature, failure in zip(features, failures, strict=True):
        if failure is not None:
            return FfmpegProbe(path, version, feature.name, failure, elapsed_s)
    return FfmpegProbe(path, version, None, "", elapsed_s)


def _rgba_png(width: int = 4, height: int = 4) -> bytes:
    """A small half-transparent RGBA PNG, the kind of logo a brand kit holds (written here: no image library)."""
    rows = b"".join(b"\x00" + b"\xff\x40\x00\x80" * width for _ in range(height))  # filter byte, then pixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _version(path: str) -> tuple[str | None, str | None]:
    """(version, None) from ``-version``'s first line, or (None, why it could not run)."""
    try:
        result = subprocess.run(
            [path, "-hide_banner", "-version"], capture_output=True, text=True, errors="replace",
            timeout=_FEATURE_TIMEOUT_S, **child_process_options(),
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"cannot run it: {exc}"
    if result.returncode != 0:
        return None, last_error_line(result.stderr)
    match = re.search(r"version\s+(\S+)", result.stdout)
    return (match.group(1) if match else "unknown"), None


def _try_feature(path: str, feature: FfmpegFeature, folder: Path) -> str | None:
    """None when ``feature`` ran as expected, else a one-line reason."""
    command = [path, "-hide_banner", "-nostdin", "-y", *feature.args]
    try:
        result = subprocess.run(
            command,
            cwd=folder,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_FEATURE_TIMEOUT_S,
            **child_process_options(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run it: {exc}"
    output = result.stdout + result.stderr
    if result.returncode != 0:
        return last_error_line(result.stderr)
    if feature.forbid and (refused := re.search(feature.forbid, output)):
        return refused.group(0)
    for pattern in feature.expect:
        if not re.search(pattern, output):
            return f"exited 0 but printed nothing matching {pattern!r}"
    return None


# -- children that die with their parent ------------------------------------------------------------------------
# Here, at the bottom of clipped.media, so the probe's own runs and everything that imports clipped.media.ffmpeg
# share one definition.

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _load_prctl() -> Callable[..., int] | None:
    """libc's prctl, resolved once in the parent: the child only calls it (no loading or lookups after fork)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


_PRCTL = _load_prctl()


def child_process_options() -> dict[str, Any]:
    """``subprocess`` keyword arguments for a child (ffmpeg) that must not outlive this process.

    On Linux the child asks the kernel for SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), so a run killed
    with SIGKILL, the OOM killer or a lost pod leaves no encoder writing on for minutes. The signal follows the
    *thread* that started the child, which suits every caller here: each waits for its child in the thread that
    started it. The child stays in the parent's process group, so a group kill (Ctrl-C, the review API's cancel)
    still reaches it directly, and callers kill it themselves when their wait is interrupted. Elsewhere (macOS)
    there is no death signal: ``{}``.
    """
    if _PRCTL is None:
        return {}
    prctl, parent = _PRCTL, os.getpid()

    def die_with_parent() -> None:  # runs in the child between fork and exec
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed: nobody would send it
            os.kill(os.getpid(), signal.SIGKILL)

    return {"preexec_fn": die_with_parent}
