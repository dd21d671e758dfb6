"""A moment becomes a clip: its segments out of the ring buffer, joined, then the same render as a VOD clip.

The window's whole segments are joined with ffmpeg's concat demuxer (each segment starts on a keyframe, so
nothing is cut there); the cut itself happens in the render, which decodes from the window and re-encodes
frame-exact (:func:`clipped.render.render_clip.render_clip`: reframe, word captions, loudness, H.264). A
stream-copy cut would start on the previous keyframe and freeze the first seconds. The faces detection found in
each segment are tracked across the window here (one tracker over it, as the VOD face pass does per window), so
the crop follows them as a VOD clip's does; without faces it holds the centre.

A clip's record (``clips/{moment}.json``) is written as soon as its files are in storage: that is when it counts
as delivered. Inspecting the file (loudness, black or frozen stretches, burned captions) comes after and updates
the record, so it never holds a clip back. ``clips.json`` lists every clip of the stream, rebuilt from the records.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av

from clipped.faces.tracking import assign_track_ids
from clipped.layout import CLIP_FILES
from clipped.live.layout import CLIPS_FILE, StreamRef
from clipped.live.models import LiveClip, LiveClipSettings, LiveClipsManifest, Moment, RingIndex, SegmentAnalysis, now
from clipped.live.ring_buffer import load_index, segments_in, unpin_window
from clipped.media.ffmpeg import MediaToolError, run_ffmpeg
from clipped.render.clip_set import ClipEncoder
from clipped.render.inspect_clip import caption_check, inspect_clip
from clipped.render.render_clip import RenderSpec, output_size
from clipped.select.titles import make_title, timestamp_title
from clipped.storage import Storage
from clipped.types import Word

TITLE_BEFORE_S, TITLE_AFTER_S = 6.0, 2.0


class ClipWindowError(RuntimeError):
    """The moment's window cannot be cut (its segments are gone from the ring buffer)."""


def cut_moment(
    storage: Storage,
    stream: StreamRef,
    moment: Moment,
    *,
    encoder: ClipEncoder,
    settings: LiveClipSettings,
    index: RingIndex | None = None,
) -> LiveClip:
    """Render ``moment``'s window as a clip under ``{workspace}/clips/{stream}-{moment}/``, record it and release
    the window's pin. Raises :class:`ClipWindowError` when its segments are no longer kept."""
    index = index if index is not None else load_index(storage, stream)
    segments = _contiguous(segments_in(index, moment.start_s, moment.end_s), moment.at_s)
    if not segments:
        raise ClipWindowError(f"{moment.moment_id}: its segments are no longer in the ring buffer")
    start_s = max(moment.start_s, segments[0].start_s)
    end_s = min(moment.end_s, segments[-1].end_s)
    analyses = [_analysis(storage, stream, segment.sequence) for segment in segments]
    words = [w for a in analyses for w in a.words if w.end_s > start_s and w.start_s < end_s]
    cuts = [c for a in analyses for c in a.cuts_s]
    faces = assign_track_ids(sorted((f for a in analyses for f in a.faces if start_s <= f.t_s < end_s),
                                    key=lambda frame: frame.t_s))  # fmt: skip
    keys = {name: stream.clip_key(moment.moment_id, name) for name in CLIP_FILES}
    assembly_started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="clipped-live-clip-") as work, contextlib.ExitStack() as files:
        paths = [files.enter_context(storage.local_path(segment.key)) for segment in segments]
        window = Path(work) / "window.mp4"
        join_segments(paths, window, Path(work))
        width, height = _frame_size(window)
        origin = segments[0].start_s
        spec = RenderSpec(
            source_path=window,
            start_s=round(start_s - origin, 3),
            end_s=round(end_s - origin, 3),
            words=[_shifted(w, -origin) for w in words],
            face_frames=[f.model_copy(update={"t_s": round(f.t_s - origin, 3)}) for f in faces],
            scene_cuts_s=[round(c - origin, 3) for c in cuts],
            source_width=width,
            source_height=height,
            aspect=settings.aspect,
            caption_style=settings.caption_style,
        )
        assembly_s = time.monotonic() - assembly_started
        render_started = time.monotonic()
        with (
            storage.writer(keys["clip.mp4"]) as video_out,
            storage.writer(keys["thumbnail.jpg"]) as thumbnail_out,
            storage.writer(keys["captions.ass"]) as ass_out,
        ):
            report = encoder.encode(spec, video_out, thumbnail_out, ass_out)
    out_width, out_height = output_size(settings.aspect)
    # The title comes from what was said as the moment happened, not from the clip's first words.
    spoken = [w for w in words if moment.at_s - TITLE_BEFORE_S <= w.start_s <= moment.at_s + TITLE_AFTER_S] or words
    text = " ".join(w.word for w in spoken)
    clip = LiveClip(
        rank=int(moment.moment_id[1:]),
        clip_id=stream.clip_id(moment.moment_id),
        candidate_id=moment.moment_id,
        video_key=keys["clip.mp4"],
        thumbnail_key=keys["thumbnail.jpg"],
        captions_key=keys["captions.ass"],
        start_s=start_s,
        end_s=end_s,
        width=out_width,
        height=out_height,
        score=moment.score,
        scores=moment.scores,
        reason=moment.reason,
        title=make_title(text) if text.strip() else timestamp_title(start_s, end_s),
        words=words,
        loudness_lufs=report.loudness_lufs,
        ffmpeg=report.ffmpeg,
        stream_id=stream.stream_id,
        moment_id=moment.moment_id,
        detected_at=moment.detected_at,
        rendered_at=now(),
        assembly_s=round(assembly_s, 3),
        render_s=round(time.monotonic() - render_started, 3),
    )
    storage.write_model(stream.clip_record_key(moment.moment_id), clip)
    rebuild_manifest(storage, stream)
    unpin_window(storage, stream, moment.moment_id)
    return clip


def clip_moment(
    storage: Storage,
    stream: StreamRef,
    moment_id: str,
    *,
    encoder: ClipEncoder,
    settings: LiveClipSettings,
    index: RingIndex | None = None,
    inspect: bool = True,
    on_rendered: Callable[[LiveClip], None] | None = None,
) -> LiveClip:
    """Cut the stored moment ``moment_id``, keeping its record's status current (rendering, rendered, failed);
    ``on_rendered`` hears of the clip as soon as it is in storage, before the (optional) inspection."""
    moment = storage.read_model(stream.moment_key(moment_id), Moment)
    _save_status(storage, stream, moment, "rendering")
    try:
        clip = cut_moment(storage, stream, moment, encoder=encoder, settings=settings, index=index)
    except (ClipWindowError, MediaToolError, OSError, ValueError) as exc:
        _save_status(storage, stream, moment, "failed", error=str(exc))
        raise
    _save_status(storage, stream, moment, "rendered")
    if on_rendered is not None:
        on_rendered(clip)
    return inspect_live_clip(storage, stream, clip) if inspect else clip


def _save_status(storage: Storage, stream: StreamRef, moment: Moment, status: str, error: str | None = None) -> None:
    storage.write_model(stream.moment_key(moment.moment_id), moment.model_copy(update={"status": status,
                                                                                    "error": error}))  # fmt: skip


def inspect_live_clip(storage: Storage, stream: StreamRef, clip: LiveClip) -> LiveClip:
    """Measure the delivered file (format, loudness, black/frozen stretches, captions) into its record."""
    with storage.local_path(clip.video_key) as video, storage.local_path(clip.captions_key) as ass:
        inspection = inspect_clip(video)
        captions = caption_check(video, ass) if clip.words else None
    inspected = clip.model_copy(update={
        "loudness_lufs": inspection.integrated_lufs,
        "inspection": {
            **inspection.model_dump(mode="json"),
            "caption_samples": captions.samples if captions else 0,
            "caption_samples_matched": captions.matched if captions else 0,
        },
    })  # fmt: skip
    storage.write_model(stream.clip_record_key(clip.moment_id), inspected)
    rebuild_manifest(storage, stream)
    return inspected


def list_clips(storage: Storage, stream: StreamRef) -> list[LiveClip]:
    """The stream's clips, in moment order."""
    clips = []
    for key in storage.list_keys(stream.key("clips")):
        if key.endswith(".json"):
            with contextlib.suppress(FileNotFoundError, ValueError):
                clips.append(storage.read_model(key, LiveClip))
    return sorted(clips, key=lambda clip: clip.moment_id)


def list_moments(storage: Storage, stream: StreamRef) -> list[Moment]:
    """The stream's moments, in the order they were found."""
    moments = []
    for key in storage.list_keys(stream.key("moments")):
        with contextlib.suppress(FileNotFoundError, ValueError):
            moments.append(storage.read_model(key, Moment))
    return sorted(moments, key=lambda moment: moment.moment_id)


def rebuild_manifest(storage: Storage, stream: StreamRef) -> LiveClipsManifest:
    manifest = LiveClipsManifest(partition=stream.partition_key, clips=list_clips(storage, stream))
    storage.write_model(stream.key(CLIPS_FILE), manifest)
    return manifest


def join_segments(paths: list[Path], out: Path, work: Path) -> None:
    """Join whole segments (each starting on a keyframe) into one MP4 with one continuous timeline."""
    listing = work / "segments.txt"
    listing.write_text("".join(f"file '{_concat_quote(path)}'\n" for path in paths))
    run_ffmpeg([
        "-f", "concat", "-safe", "0", "-i", str(listing),
        "-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy", "-f", "mp4", str(out),
    ])  # fmt: skip


def _concat_quote(path: Path) -> str:
    return str(path.resolve()).replace("'", "'\\''")


def _contiguous(segments: list, anchor_s: float) -> list:
    """The run of back-to-back segments that holds ``anchor_s`` (or is nearest it): a clip never spans a gap."""
    runs: list[list] = []
    for segment in segments:
        if runs and abs(segment.start_s - runs[-1][-1].end_s) <= 0.05:
            runs[-1].append(segment)
        else:
            runs.append([segment])
    if not runs:
        return []
    return min(runs, key=lambda run: 0 if run[0].start_s <= anchor_s <= run[-1].end_s else
               min(abs(run[0].start_s - anchor_s), abs(run[-1].end_s - anchor_s)))  # fmt: skip


def _analysis(storage: Storage, stream: StreamRef, sequence: int) -> SegmentAnalysis:
    key = stream.analysis_key(sequence)
    if storage.exists(key):
        return storage.read_model(key, SegmentAnalysis)
    return SegmentAnalysis(sequence=sequence, start_s=0.0, end_s=0.0)


def _frame_size(path: Path) -> tuple[int, int]:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaToolError("the stream has no video to clip")
            context = container.streams.video[0].codec_context
            return context.width, context.height
    except av.error.FFmpegError as exc:
        raise MediaToolError(f"cannot read the joined window: {exc}") from exc


def _shifted(word: Word, by: float) -> Word:
    return word.model_copy(update={"start_s": round(word.start_s + by, 3), "end_s": round(word.end_s + by, 3)})
