"""Turning an accepted source file into what the pipeline reads: a seekable video and a 16 kHz mono WAV."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import av
import numpy as np
import soundfile
from pydantic import BaseModel

from clipped.ingest.probe import (
    DIRECT_VIDEO_CODECS,
    InvalidMediaError,
    MediaInfo,
    MediaLimits,
    check_fits_a_clip,
    probe_media,
    validate_media,
)
from clipped.media.ffmpeg import MediaToolError, run_ffmpeg

ASR_SAMPLE_RATE = 16_000
SILENCE_PEAK_DBFS = -60.0
# Audio decoded shorter than this share of the container's duration means the file was cut off.
MIN_DECODED_SHARE = 0.9


class PreparedSource(BaseModel):
    media: MediaInfo
    content_sha256: str
    normalised: bool
    audio_peak_dbfs: float
    audio_duration_s: float


def sha256_of(path: Path, chunk_size: int = 4 << 20) -> str:
    """Content hash, streamed so multi-GB sources are fine."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def prepare_source(
    original: Path,
    video_out: Path,
    audio_out: Path,
    limits: MediaLimits,
    *,
    min_clip_s: float = 0.0,
    private_original: bool = False,
) -> PreparedSource:
    """Probe and validate ``original``, write the pipeline's video (normalised only if needed) and WAV.

    A video shorter than ``min_clip_s`` (the shortest clip asked for) is refused here too, so transcription,
    scenes and audio analysis never run for it. ``private_original``: ``original`` is this run's own copy (a
    download) and may be hard-linked into storage; someone's own file is copied, so rewriting it later in place
    cannot change the stored source.
    Raises :class:`InvalidMediaError` with a one-line reason for anything the pipeline cannot use.
    """
    media = probe_media(original)
    validate_media(media, limits)
    check_decodes_to_end(original, media)
    normalised = media.video_codec not in DIRECT_VIDEO_CODECS
    if normalised:
        normalise_video(original, video_out)
    elif private_original:
        _link_or_copy(original, video_out)
    else:
        shutil.copyfile(original, video_out)
    extract_audio(original, audio_out)
    peak_dbfs, audio_duration_s = audio_peak_and_duration(audio_out)
    if audio_duration_s < media.duration_s * MIN_DECODED_SHARE - 1.0:
        raise InvalidMediaError(
            f"audio decodes to {audio_duration_s:.1f} s of {media.duration_s:.1f} s (truncated or corrupt file)"
        )
    if peak_dbfs < SILENCE_PEAK_DBFS:
        raise InvalidMediaError(f"audio track is silent (peak {peak_dbfs:.0f} dBFS)")
    # Last, so a short file that is also broken is reported as broken; nothing is published before it passes.
    check_fits_a_clip(media, min_clip_s)
    return PreparedSource(
        media=media,
        content_sha256=sha256_of(original),
        normalised=normalised,
        audio_peak_dbfs=round(peak_dbfs, 2),
        audio_duration_s=round(audio_duration_s, 3),
    )


def check_decodes_to_end(path: Path, media: MediaInfo) -> None:
    """Decode a frame near the start and near the end: a truncated file fails here, cheaply."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for target_s in (0.0, max(0.0, media.duration_s - 2.0)):
                container.seek(int(target_s * 1_000_000), any_frame=False, backward=True)
                if next(container.decode(stream), None) is None:
                    raise InvalidMediaError(f"no decodable video frame near {target_s:.0f} s (truncated file)")
    except av.error.FFmpegError as exc:
        raise InvalidMediaError(f"video does not decode ({str(exc).splitlines()[0][:160]})") from exc


def normalise_video(source: Path, out: Path) -> None:
    """Transcode to H.264/AAC MP4 once, for codecs the later stages should not decode directly."""
    run_ffmpeg(
        [
            "-i",
            str(source),
            "-map",
            "0:v:0",
            "-map",
            "0:a:0",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "192k",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            str(out),
        ]
    )


def extract_audio(source: Path, out: Path) -> None:
    """The first audio track as 16 kHz mono 16-bit WAV (what ASR and audio analysis read)."""
    try:
        run_ffmpeg(
            [
                "-i",
                str(source),
                "-map",
                "0:a:0",
                "-vn",
                "-ac",
                "1",
                "-ar",
                str(ASR_SAMPLE_RATE),
                "-c:a",
                "pcm_s16le",
                "-f",
                "wav",
                str(out),
            ]
        )
    except MediaToolError as exc:
        raise InvalidMediaError(f"audio track does not decode ({exc})") from exc


def audio_peak_and_duration(wav: Path, block_frames: int = ASR_SAMPLE_RATE * 60) -> tuple[float, float]:
    """Peak level in dBFS and duration in seconds, streamed in one-minute blocks."""
    peak = 0.0
    frames = 0
    with soundfile.SoundFile(str(wav)) as sound:
        for block in sound.blocks(blocksize=block_frames, dtype="float32", always_2d=True):
            frames += len(block)
            if len(block):
                peak = max(peak, float(np.abs(block).max()))
        rate = sound.samplerate
    peak_dbfs = 20 * np.log10(peak) if peak > 0 else float("-inf")
    return float(peak_dbfs), frames / rate


def _link_or_copy(source: Path, out: Path) -> None:
    out.unlink(missing_ok=True)
    try:
        os.link(source, out)
    except OSError:
        shutil.copyfile(source, out)
