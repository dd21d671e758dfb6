"""Render one clip: cut, reframe along the crop path, burn captions, normalise loudness, encode; one video pass.

Three ffmpeg runs per clip, only one of them encoding video: an audio-only loudness analysis of the segment,
the render itself, and the thumbnail (the sharpest of a few frames of the result that shows a face, titled; see
:mod:`clipped.render.thumbnails`). The same spec rendered by the same ffmpeg with the same encoder and thread
count gives byte-identical files (x264's output depends on its thread count).
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

import av
from pydantic import BaseModel, Field

from clipped.brand.kit import BrandKit
from clipped.effects import ClipEffects
from clipped.media.capabilities import REPRODUCIBLE_OUTPUT_ARGS, child_process_options
from clipped.media.ffmpeg import (
    FfmpegIdentity,
    MediaToolError,
    ffmpeg_identity,
    last_error_line,
    require_ffmpeg,
)
from clipped.progress import ProgressCallback, no_progress
from clipped.render.cleanup_cuts import CleanupPlan, audio_cut_filter, plan_cleanup, video_select_filter
from clipped.render.crop_path import CROP_FILTER_NAME, CropPath, plan_crop_path
from clipped.render.encoder import X264, video_encoder_args
from clipped.render.filtergraph import ass_filter, sendcmd_filter
from clipped.render.finishing import Finishing, plan_finishing
from clipped.render.layouts import (
    BOTTOM_CROP,
    TOP_CROP,
    active_speaker,
    choose_layout,
    plan_split,
    split_filter,
)
from clipped.render.loudness import STEREO, integrated_loudness, loudnorm_apply_filter, measure_loudnorm
from clipped.render.speakers import switches_per_minute
from clipped.render.thumbnails import write_thumbnail
from clipped.types import Aspect, FaceFrame, Word

OUTPUT_SIZES: dict[str, tuple[int, int]] = {"9:16": (1080, 1920), "1:1": (1080, 1080), "16:9": (1920, 1080)}
OUTPUT_FPS = 30
CRF = 21
AUDIO_RATE = 48_000


class RenderSpec(BaseModel):
    """Everything one clip render needs; times in the source's timeline."""

    source_path: Path
    start_s: float = Field(ge=0)
    end_s: float
    words: list[Word] = []
    face_frames: list[FaceFrame] = []
    scene_cuts_s: list[float] = []
    source_width: int = Field(gt=0)
    source_height: int = Field(gt=0)
    aspect: Aspect = "9:16"
    caption_style: str = "highlight_word"
    hook: str = ""  # the overlay shown over the opening seconds (empty: none)
    title: str = ""  # drawn over the thumbnail in the brand's hook style (empty: a bare frame)
    effects: ClipEffects = ClipEffects()  # caption look, platform, hook overlay, profanity handling
    brand: BrandKit = BrandKit()  # the workspace's fonts, colours, logo placement and own profanity words
    logo_path: Path | None = None  # the brand kit's logo, local; None: no watermark
    min_duration_s: float = 0.0  # clean-up cuts (effects.cleanup) never take the clip below this
    # The ffmpeg to render with, pinned to reproduce an earlier render; None renders with ffmpeg_identity().
    ffmpeg: FfmpegIdentity | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class RenderReport(BaseModel):
    width: int
    height: int
    duration_s: float
    loudness_lufs: float | None  # measured on the rendered file; None when the clip has no audible audio
    encode_s: float  # wall time of the video pass
    ffmpeg: FfmpegIdentity | None = None  # the binary that wrote the files: their bytes depend on it
    censored_words: int = 0  # listed words muted or bleeped in the audio and masked in the captions
    profanity_in_opening: bool = False  # a listed word is heard in the first 3 s (the quality gate fails)
    masked_words: list[str] = []  # censored words (normalised), masked in subtitle exports too
    kept_spans_s: list[tuple[float, float]] = []  # source stretches kept when clean-up cuts removed some
    thumbnail_at_s: float | None = None  # the clip time the thumbnail shows (the sharpest frame with a face)
    thumbnail_has_face: bool = False
    layout: str = "single"  # "split" when two people share the shot, "speaker" (clipped.render.layouts)
    speaker_switches_per_minute: float | None = None  # the speaker layout's jitter (None: not that layout)


def output_size(aspect: Aspect | str) -> tuple[int, int]:
    """Delivery resolution for an aspect: 1080 on the short side."""
    if aspect not in OUTPUT_SIZES:
        raise ValueError(f"unknown aspect {aspect!r}; allowed: {', '.join(OUTPUT_SIZES)}")
    return OUTPUT_SIZES[aspect]


def render_clip(
    spec: RenderSpec,
    out_video: Path,
    out_thumbnail: Path,
    out_ass: Path,
    *,
    threads: int = 1,
    preset: str = "superfast",
    encoder: str = X264,
    on_progress: ProgressCallback | None = None,
) -> RenderReport:
    """Render ``spec`` to an MP4 (H.264 + AAC, 30 fps), a JPEG thumbnail and the ASS captions it burned in.

    ``encoder`` is ``libx264`` (``preset`` applies) or ``h264_nvenc`` (see :mod:`clipped.render.encoder`).
    Writes exactly the three given paths; raises :class:`MediaToolError` with a one-line reason on failure.
    A spec that pins ``ffmpeg`` renders with that binary only if it still reports the pinned version.
    """
    if spec.duration_s <= 0:
        raise ValueError(f"clip end {spec.end_s} is not after its start {spec.start_s}")
    width, height = output_size(spec.aspect)
    progress = on_progress or no_progress
    ffmpeg = require_ffmpeg(spec.ffmpeg) if spec.ffmpeg else ffmpeg_identity()
    cleanup = plan_cleanup(
        spec.words, spec.start_s, spec.end_s, spec.effects.cleanup, min_duration_s=spec.min_duration_s, fps=OUTPUT_FPS
    )
    speaker = None
    if spec.effects.layout == "speaker":
        speaker = active_speaker(spec.source_path, spec.face_frames, spec.start_s, spec.end_s)
    framed = spec
    if speaker:  # one crop on whoever talks, cutting (a scene cut) at each change of speaker
        cuts = {*spec.scene_cuts_s, *(turn.start_s for turn in speaker[1][1:])}
        framed = spec.model_copy(update={"face_frames": speaker[0], "scene_cuts_s": sorted(cuts)})
    # Everything after the cuts (crop path, captions, censoring, overlays) works on the shortened timeline.
    shown = on_cut_timeline(framed, cleanup)
    path = plan_crop_path(
        shown.face_frames, shown.start_s, shown.end_s, spec.source_width, spec.source_height, spec.aspect,
        shown.scene_cuts_s, fps=OUTPUT_FPS,
    )  # fmt: skip
    finishing = finishing_of(shown, path)
    tracks = choose_layout(spec.effects.layout, shown.face_frames, shown.start_s, shown.end_s, spec.aspect)
    split = tracks and plan_split(
        tracks, shown.face_frames, shown.start_s, shown.end_s, spec.source_width, spec.source_height,
        shown.scene_cuts_s, OUTPUT_FPS,
    )  # fmt: skip
    audio_filter = _audio_filter(spec, ffmpeg.path, finishing.censor_filter) if _has_audio(spec.source_path) else None
    if audio_filter and cleanup.has_cuts:
        audio_filter = f"{audio_cut_filter(cleanup)}[cleaned];[cleaned]{audio_filter}"
    out_ass.write_text(finishing.captions)

    with tempfile.TemporaryDirectory(prefix="clipped-render-") as work:
        script = Path(work) / "crop.cmd"
        script.write_text(path.to_sendcmd())
        video_args = video_encoder_args(encoder, x264_preset=preset, crf=CRF, threads=threads)
        framing = None
        if split:
            top, bottom = Path(work) / "top.cmd", Path(work) / "bottom.cmd"
            top.write_text(split.top.to_sendcmd(TOP_CROP))
            bottom.write_text(split.bottom.to_sendcmd(BOTTOM_CROP))
            framing = split_filter(split, top, bottom, width, height)
        chain = video_filter(path, script, out_ass, width, height, finishing.overlay_filter, framing)
        if cleanup.has_cuts:
            chain = chain.replace(f"fps={OUTPUT_FPS},", f"fps={OUTPUT_FPS},{video_select_filter(cleanup)},", 1)
        args = _render_args(spec, chain, out_video, audio_filter, threads, video_args, shown.duration_s)
        started = time.monotonic()
        _run_with_progress(ffmpeg.path, args, shown.duration_s, progress, Path(work) / "ffmpeg.log")
        encode_s = time.monotonic() - started

    duration_s = _probe_duration(out_video)
    thumbnail = write_thumbnail(
        out_video, out_thumbnail, duration_s=duration_s, width=width, height=height,
        face_frames=shown.face_frames, start_s=shown.start_s, title=spec.title, brand=spec.brand, ffmpeg=ffmpeg.path,
        threads=threads,
    )  # fmt: skip
    progress(1.0)
    return RenderReport(
        width=width,
        height=height,
        duration_s=duration_s,
        loudness_lufs=integrated_loudness(out_video, ffmpeg=ffmpeg.path) if audio_filter else None,
        encode_s=round(encode_s, 3),
        ffmpeg=ffmpeg,
        censored_words=len(finishing.profanity) if finishing.censor_filter else 0,
        profanity_in_opening=finishing.profanity_in_opening and spec.effects.profanity != "off",
        masked_words=finishing.masked_words,
        kept_spans_s=list(cleanup.kept_spans_s) if cleanup.has_cuts else [],
        thumbnail_at_s=thumbnail.at_s,
        thumbnail_has_face=thumbnail.has_face,
        layout="split" if split else "speaker" if speaker else "single",
        speaker_switches_per_minute=switches_per_minute(speaker[1]) if speaker else None,
    )


def on_cut_timeline(spec: RenderSpec, cleanup: CleanupPlan) -> RenderSpec:
    """``spec`` as the viewer sees it after clean-up cuts: words, faces and scene cuts moved onto the shortened
    timeline (which starts at ``start_s`` like the source window), fillers' words gone."""
    if not cleanup.has_cuts:
        return spec
    return spec.model_copy(
        update={
            "end_s": spec.start_s + cleanup.kept_duration_s,
            "words": cleanup.words(spec.words),
            "face_frames": cleanup.face_frames(spec.face_frames),
            "scene_cuts_s": cleanup.scene_cuts(spec.scene_cuts_s),
        }
    )


def finishing_of(spec: RenderSpec, path: CropPath) -> Finishing:
    """The captions, audio censor and logo overlay ``spec`` asks for, on the frame its crop ``path`` gives."""
    width, height = output_size(spec.aspect)
    return plan_finishing(
        words=spec.words, start_s=spec.start_s, end_s=spec.end_s, caption_style=spec.caption_style, hook=spec.hook,
        effects=spec.effects, brand=spec.brand, logo_path=spec.logo_path, face_frames=spec.face_frames, path=path,
        width=width, height=height,
    )  # fmt: skip


def video_filter(
    path: CropPath,
    script: Path,
    ass_path: Path,
    width: int,
    height: int,
    overlay: str | None = None,
    framing: str | None = None,
) -> str:
    """Frame rate, moving crop, scale to delivery size, overlays (the logo), captions; in that order so crop
    commands and caption times both line up with output frames, and captions draw over the logo."""
    first = path.keyframes[0]
    chain = ",".join(
        [f"fps={OUTPUT_FPS}", framing]  # another layout's crops (clipped.render.layouts) instead of the one
        if framing
        else [
            f"fps={OUTPUT_FPS}",
            sendcmd_filter(script),
            # exact=1: without it crop rounds x to even pixels for 4:2:0, and a slow pan would move in 2 px jerks.
            f"{CROP_FILTER_NAME}=w={path.crop_w}:h={path.crop_h}:x={first.x}:y={first.y}:exact=1",
            f"scale={width}:{height}:flags=bicubic",
            "setsar=1",
        ]
    )
    if overlay:
        chain = f"{chain}[main];{overlay}"
    return f"{chain},{ass_filter(ass_path)},format=yuv420p"


def _audio_filter(spec: RenderSpec, ffmpeg: str, censor: str | None = None) -> str:
    measured = measure_loudnorm(spec.source_path, spec.start_s, spec.duration_s, ffmpeg=ffmpeg)
    chain = [STEREO]
    if measured.is_measurable():
        chain.append(loudnorm_apply_filter(measured))
    # loudnorm works at 192 kHz internally; bring it back to the delivery rate.
    chain.append(f"aresample={AUDIO_RATE}")
    if censor:
        # Last, on the delivered samples, so a muted word stays silent whatever loudnorm's gain does around it.
        chain.append(censor)
    return ",".join(chain)


def _render_args(
    spec: RenderSpec,
    video_chain: str,
    out_video: Path,
    audio_filter: str | None,
    threads: int,
    video_args: list[str],
    output_s: float | None = None,
) -> list[str]:
    args = [
        "-nostats", "-progress", "pipe:1", "-threads", str(threads),
        # -ss before -i: seek by index, then decode-and-drop to the exact frame; timestamps restart at 0.
        "-ss", f"{spec.start_s:.3f}", "-t", f"{spec.duration_s:.3f}", "-i", str(spec.source_path),
        "-filter_threads", str(threads),
        "-map", "0:v:0", "-vf", video_chain,
        *video_args, "-r", str(OUTPUT_FPS),
    ]  # fmt: skip
    if audio_filter:
        args += [
            "-map", "0:a:0", "-af", audio_filter,
            "-c:a", "aac", "-b:a", "128k", "-ar", str(AUDIO_RATE), "-ac", "2",
        ]  # fmt: skip
    # The output -t as well: fps emits a frame AT the input's end time too, one frame longer than asked.
    return [
        *args, "-t", f"{output_s or spec.duration_s:.3f}", "-movflags", "+faststart", *REPRODUCIBLE_OUTPUT_ARGS,
        "-f", "mp4", str(out_video),
    ]  # fmt: skip


def _run_with_progress(
    ffmpeg: str, args: list[str], duration_s: float, progress: ProgressCallback, log_path: Path
) -> None:
    """Run ffmpeg, reporting ``out_time`` from ``-progress pipe:1`` as a fraction of the clip."""
    command = [ffmpeg, "-hide_banner", "-nostdin", "-y", *args]
    # stderr goes to a file: ffmpeg can write more than a pipe buffer holds while we read stdout.
    with log_path.open("w+", errors="replace") as log:
        # The encoder dies with this process (a killed run leaves no ffmpeg writing on), and with this call.
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, text=True, errors="replace", **child_process_options()
        )
        assert process.stdout is not None
        reader = threading.Thread(target=_read_progress, args=(process.stdout, duration_s, progress), daemon=True)
        reader.start()
        try:
            returncode = process.wait()
        except BaseException:  # interrupted (Ctrl-C, a cancelled step): no encoder is left running behind us
            process.kill()
            process.wait()
            raise
        # No timeout: stdout ends when ffmpeg exits, and a reader still running on a busy machine would report
        # a late 0.99 after the caller's final 1.0.
        reader.join()
        if returncode != 0:
            log.seek(0)
            raise MediaToolError(f"ffmpeg failed: {last_error_line(log.read())}")


def _read_progress(stream: IO[str], duration_s: float, progress: ProgressCallback) -> None:
    done = 0.0
    for line in stream:
        key, _, value = line.strip().partition("=")
        # out_time_us is in microseconds (so, despite its name, is out_time_ms); N/A before the first frame.
        if key == "out_time_us" and value.lstrip("-").isdigit():
            # The last 1% is left for the thumbnail and loudness check after encoding. Never backwards: out_time
            # follows whichever stream was muxed last, and audio and video need not arrive in step.
            done = max(done, min(0.99, int(value) / 1e6 / duration_s))
            progress(done)


def _has_audio(path: Path) -> bool:
    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except av.error.FFmpegError as exc:
        raise MediaToolError(f"cannot open {path.name}: {exc}") from exc


def _probe_duration(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return float(container.duration or 0) / 1e6
