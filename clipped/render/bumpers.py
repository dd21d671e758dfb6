"""Brand intro and outro clips: put before and after a rendered clip in a second, cheap pass.

The main render (and everything measured on it: captions, checks, inspection) stays as it is; this pass only
scales and pads each bumper to the clip's frame (letterboxed, never cropped, so a logo animation stays whole),
brings it to the clip's frame rate and sample rate, normalises its loudness to the clip's target, gives a silent
bumper a silent track, and joins the three with ffmpeg's concat filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from clipped.media.ffmpeg import run_ffmpeg
from clipped.render.loudness import TARGET_LRA, TARGET_LUFS, TARGET_TRUE_PEAK_DB

BUMPER_FPS = 30
BUMPER_RATE = 48_000
MAX_BUMPER_S = 10.0
# The clips' own loudness target, so a bumper is no louder than the talk (one pass: a bumper is a few seconds).
LOUDNESS_TARGET = f"I={TARGET_LUFS}:TP={TARGET_TRUE_PEAK_DB}:LRA={TARGET_LRA}"


class BumperError(ValueError):
    """A bumper that cannot be used, with the reason."""


@dataclass(frozen=True)
class MediaFacts:
    duration_s: float
    has_audio: bool


@dataclass(frozen=True)
class Bumpers:
    """Local intro and outro files (None: none)."""

    intro: Path | None = None
    outro: Path | None = None

    def __bool__(self) -> bool:
        return self.intro is not None or self.outro is not None


NO_BUMPERS = Bumpers()


def media_facts(path: Path) -> MediaFacts:
    """Duration and whether there is sound; a :class:`BumperError` for a file that is not a video."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise BumperError("the file has no video stream")
            duration = container.duration / av.time_base if container.duration else 0.0
            return MediaFacts(duration_s=float(duration), has_audio=bool(container.streams.audio))
    except av.error.FFmpegError as exc:
        raise BumperError(f"the file is not a readable video: {exc}") from exc


def check_bumper(path: Path) -> MediaFacts:
    """The bumper's facts, or a :class:`BumperError` when it is not a video or longer than :data:`MAX_BUMPER_S`."""
    facts = media_facts(path)
    if not 0 < facts.duration_s <= MAX_BUMPER_S:
        raise BumperError(
            f"an intro or outro must last between 0 and {MAX_BUMPER_S:.0f} s, not {facts.duration_s:.1f} s"
        )
    return facts


def add_bumpers(
    clip: Path,
    bumpers: Bumpers,
    out: Path,
    width: int,
    height: int,
    *,
    preset: str = "superfast",
    threads: int | None = None,
) -> float:
    """Write ``intro + clip + outro`` to ``out`` at ``width``×``height``; returns the intro's duration (how far the
    clip's own timeline moved). ``threads`` caps decoder, filter and encoder threads (None: every core)."""
    capped = ["-threads", str(threads)] if threads else []
    parts = [p for p in (bumpers.intro, clip, bumpers.outro) if p is not None]
    args: list[str] = []
    graph: list[str] = []
    intro_s = 0.0
    for index, path in enumerate(parts):
        facts = media_facts(path)
        if path == bumpers.intro:
            intro_s = facts.duration_s
        args += [*capped, "-i", str(path)]
        video = (
            f"[{index}:v]scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={BUMPER_FPS},format=yuv420p[v{index}]"
        )
        graph.append(video)
        audio_format = f"aresample={BUMPER_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
        if not facts.has_audio:  # a silent bumper still needs a track the length of its picture
            graph.append(f"anullsrc=r={BUMPER_RATE}:cl=stereo,atrim=0:{facts.duration_s:.3f},{audio_format}[a{index}]")
        elif path == clip:  # the clip is already loudness-normalised
            graph.append(f"[{index}:a]{audio_format}[a{index}]")
        else:
            graph.append(f"[{index}:a]loudnorm={LOUDNESS_TARGET},{audio_format}[a{index}]")
    joined = "".join(f"[v{i}][a{i}]" for i in range(len(parts)))
    graph.append(f"{joined}concat=n={len(parts)}:v=1:a=1[v][a]")
    if threads:
        args += ["-filter_complex_threads", str(threads)]
    args += ["-filter_complex", ";".join(graph), "-map", "[v]", "-map", "[a]"]
    args += ["-c:v", "libx264", "-preset", preset, "-crf", "21", "-pix_fmt", "yuv420p", *capped]
    args += ["-c:a", "aac", "-b:a", "160k", "-movflags", "+faststart", str(out)]
    run_ffmpeg(args)
    return intro_s
