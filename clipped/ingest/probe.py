"""Probing and validating a media file with PyAV (no ffprobe needed)."""

from __future__ import annotations

from pathlib import Path

import av
from pydantic import BaseModel

KNOWN_VIDEO_CODECS = frozenset({"h264", "hevc", "vp9", "vp8", "av1", "mpeg4", "mpeg2video", "prores", "mjpeg"})
# Codecs every stage (seek-accurate decode, x264 render) handles without a normalising transcode.
DIRECT_VIDEO_CODECS = frozenset({"h264", "hevc", "vp9", "vp8", "av1"})


class InvalidMediaError(ValueError):
    """A file that is not a usable video; the message is one line for the CLI and Dagster."""


class MediaInfo(BaseModel):
    container: str
    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None
    size_bytes: int


class MediaLimits(BaseModel):
    max_duration_s: float = 4 * 3600
    max_width: int = 3840
    max_height: int = 2160
    min_duration_s: float = 1.0


def probe_media(path: Path) -> MediaInfo:
    """Read container and stream facts; raise :class:`InvalidMediaError` for anything that is not a video."""
    size = path.stat().st_size
    if size == 0:
        raise InvalidMediaError("file is empty (0 bytes)")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise InvalidMediaError(f"not a readable video file ({_reason(exc)})") from exc
    with container:
        videos = [s for s in container.streams.video if s.codec_context is not None]
        if not videos:
            raise InvalidMediaError("file has no video stream")
        video = videos[0]
        audios = list(container.streams.audio)
        audio = audios[0] if audios else None
        duration_s = _duration_s(container, video)
        rate = video.average_rate or video.guessed_rate or video.base_rate
        return MediaInfo(
            container=container.format.name,
            duration_s=duration_s,
            width=int(video.codec_context.width or 0),
            height=int(video.codec_context.height or 0),
            fps=round(float(rate), 3) if rate else 0.0,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio else None,
            audio_sample_rate=int(audio.codec_context.sample_rate) if audio else None,
            audio_channels=int(audio.codec_context.channels) if audio else None,
            size_bytes=size,
        )


def validate_media(info: MediaInfo, limits: MediaLimits) -> None:
    """Raise :class:`InvalidMediaError` if the probed media is outside what the pipeline accepts."""
    if info.width <= 0 or info.height <= 0:
        raise InvalidMediaError("video stream has no frame size (corrupt or truncated file)")
    if info.video_codec not in KNOWN_VIDEO_CODECS:
        raise InvalidMediaError(f"unsupported video codec {info.video_codec!r}")
    if info.duration_s <= 0:
        raise InvalidMediaError("video has no duration (corrupt or truncated file)")
    if info.duration_s < limits.min_duration_s:
        raise InvalidMediaError(f"video is {info.duration_s:.1f} s long, shorter than {limits.min_duration_s:.0f} s")
    if info.duration_s > limits.max_duration_s:
        raise InvalidMediaError(
            f"video is {info.duration_s / 3600:.2f} h long, over the {limits.max_duration_s / 3600:.0f} h limit"
        )
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    if long_side > max(limits.max_width, limits.max_height) or short_side > min(limits.max_width, limits.max_height):
        raise InvalidMediaError(
            f"resolution {info.width}x{info.height} is over the {limits.max_width}x{limits.max_height} limit"
        )
    if info.audio_codec is None:
        raise InvalidMediaError("video has no audio track")


def check_fits_a_clip(info: MediaInfo, min_clip_s: float) -> None:
    """Refuse a video shorter than the shortest clip asked for: no clip could come of it, so nothing downstream
    (transcription, scenes, audio) should run for it."""
    if info.duration_s < min_clip_s:
        raise InvalidMediaError(
            f"video is {info.duration_s:.1f} s long, shorter than the {min_clip_s:g} s minimum clip duration"
        )


def _duration_s(container: av.container.InputContainer, video: av.video.stream.VideoStream) -> float:
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__
