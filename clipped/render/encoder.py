"""Which H.264 encoder renders clips: NVENC when the GPU really has one, libx264 otherwise.

``ffmpeg -encoders`` listing ``h264_nvenc`` only says ffmpeg was built with it: static builds list it everywhere,
and data-centre GPUs such as the H100 and H200 have no NVENC engine at all. So NVENC counts as available only
when a tiny real encode succeeds, probed once per process and ffmpeg binary.
"""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass

from clipped.media.capabilities import child_process_options
from clipped.media.ffmpeg import ffmpeg_exe, last_error_line

ENCODER_CHOICES = ("auto", "x264", "nvenc")
X264 = "libx264"
NVENC = "h264_nvenc"
# p4 is NVENC's middle preset (p1 fastest … p7 best); with -tune hq it is still several times faster than x264.
NVENC_PRESET = "p4"
_PROBE_TIMEOUT_S = 30
_LISTED = re.compile(r"^\s*V\S*\s+h264_nvenc\b", re.MULTILINE)


class EncoderUnavailableError(RuntimeError):
    """The encoder asked for cannot encode on this machine; the message says why and what to use instead."""


@dataclass(frozen=True)
class NvencProbe:
    listed: bool  # ffmpeg was built with h264_nvenc
    usable: bool  # and a real encode on this machine's GPU succeeded
    reason: str  # why not, when not usable


@functools.cache
def probe_nvenc(ffmpeg: str) -> NvencProbe:
    """Whether ``ffmpeg`` can really encode H.264 with NVENC here; cached, as the answer cannot change mid-run."""
    try:
        listing = subprocess.run(
            [ffmpeg, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return NvencProbe(listed=False, usable=False, reason=f"cannot run {ffmpeg}: {exc}")
    if not _LISTED.search(listing.stdout):
        return NvencProbe(listed=False, usable=False, reason="this ffmpeg is built without h264_nvenc")
    command = [
        ffmpeg, "-hide_banner", "-nostdin", "-f", "lavfi", "-i", "color=c=black:s=256x256:r=30",
        "-frames:v", "5", "-c:v", NVENC, "-f", "null", "-",
    ]  # fmt: skip
    try:
        encode = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_S,
            errors="replace",
            **child_process_options(),
        )
    except subprocess.TimeoutExpired:
        return NvencProbe(
            listed=True, usable=False, reason=f"a 5-frame NVENC test encode took over {_PROBE_TIMEOUT_S}s"
        )
    if encode.returncode != 0:
        return NvencProbe(listed=True, usable=False, reason=_nvenc_failure(encode.stderr))
    return NvencProbe(listed=True, usable=True, reason="")


def _nvenc_failure(stderr: str) -> str:
    # The encoder's own line ("Cannot load libcuda.so.1", "No capable devices found") beats ffmpeg's summary.
    own = [line.split("]", 1)[-1].strip() for line in stderr.splitlines() if line.startswith(f"[{NVENC} @")]
    return own[0] if own else last_error_line(stderr)


def choose_encoder(choice: str, ffmpeg: str | None = None) -> str:
    """The ffmpeg encoder for ``choice``: ``x264`` → libx264; ``nvenc`` → h264_nvenc or
    :class:`EncoderUnavailableError`; ``auto`` → h264_nvenc only when the probe's real encode succeeded."""
    if choice not in ENCODER_CHOICES:
        raise ValueError(f"unknown encoder {choice!r}; expected one of {', '.join(ENCODER_CHOICES)}")
    if choice == "x264":
        return X264
    probe = probe_nvenc(ffmpeg or ffmpeg_exe())
    if probe.usable:
        return NVENC
    if choice == "nvenc":
        raise EncoderUnavailableError(
            f"encoder 'nvenc' was asked for but NVENC cannot encode here: {probe.reason} (H100/H200-class GPUs "
            "have no NVENC; the container also needs NVIDIA_DRIVER_CAPABILITIES to include 'video'); "
            "use encoder 'auto' or 'x264'"
        )
    return X264


def video_encoder_args(encoder: str, *, x264_preset: str, crf: int, threads: int) -> list[str]:
    """ffmpeg output arguments for the video stream: same 4:2:0 8-bit H.264 and about the same quality either way.

    x264 runs constant-rate-factor ``crf``; NVENC runs its constant-quality VBR mode at the same number
    (``-cq`` with no bitrate cap), which lands close to x264's size and quality at that value.
    """
    if encoder == X264:
        return [
            "-c:v", X264, "-preset", x264_preset, "-crf", str(crf), "-pix_fmt", "yuv420p", "-threads", str(threads),
        ]  # fmt: skip
    if encoder == NVENC:
        return [
            "-c:v", NVENC, "-preset", NVENC_PRESET, "-tune", "hq", "-rc", "vbr", "-cq", str(crf), "-b:v", "0",
            "-profile:v", "high", "-pix_fmt", "yuv420p",
        ]  # fmt: skip
    raise ValueError(f"unknown video encoder {encoder!r}; expected {X264} or {NVENC}")
