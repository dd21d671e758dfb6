"""What a clip's exports are made of, read from what the pipeline stored, and each export as text.

Exports are generated on request: they are small, cheap (no media is touched) and deterministic for a given clip
record, so nothing extra is written at render time and a re-rendered or edited version exports as itself.
"""

from __future__ import annotations

from clipped.export.captions import caption_cues, to_srt, to_vtt
from clipped.export.cut_list import kept_spans, words_on_clip_timeline
from clipped.export.timelines import NLE_FORMATS, SourceMedia, build_timeline, timeline_text
from clipped.ingest.prepare import PreparedSource
from clipped.layout import INFO_FILE, VERSION_CLIP_FILE, ClipVersionRef, SourceRef
from clipped.render.profanity import mask_listed
from clipped.render.versions import rendered_clip
from clipped.storage import Storage
from clipped.types import RenderedClip

CAPTION_FORMATS = ("srt", "vtt")
TEXT_FORMATS = (*CAPTION_FORMATS, *NLE_FORMATS)


def clip_record(storage: Storage, source: SourceRef, clip_id: str, version: int = 1) -> RenderedClip:
    """The stored description of ``version`` of clip ``clip_id``: its own ``clip.json`` for a re-render, the
    rendered_clips manifest's entry for the first version (:class:`LookupError` when there is none)."""
    if version > 1:
        key = ClipVersionRef(source, clip_id, version).key(VERSION_CLIP_FILE)
        if storage.exists(key):
            return storage.read_model(key, RenderedClip)
    return rendered_clip(storage, source, clip_id)


def source_media(storage: Storage, source: SourceRef, url: str, name: str) -> SourceMedia:
    """The source as timelines reference it: ``url`` and ``name``, with the duration and rate ingest measured."""
    media = storage.read_model(source.key(INFO_FILE), PreparedSource).media
    return SourceMedia(
        url=url, name=name, duration_s=media.duration_s, fps=media.fps, width=media.width, height=media.height
    )


def clip_subtitles(clip: RenderedClip, format_id: str) -> str:
    """The clip's words as SRT or VTT cues on the delivered file's timeline (0 = its first frame: the brand intro's,
    when it has one, so the cues start ``intro_s`` later)."""
    spans = kept_spans(clip)
    # The words the render censored are masked here too (f***), as in the burned captions.
    words = words_on_clip_timeline(mask_listed(clip.words, clip.inspection.get("masked_words") or []), spans)
    intro_s = float(clip.inspection.get("intro_s") or 0.0)
    if intro_s:
        words = [w.model_copy(update={"start_s": w.start_s + intro_s, "end_s": w.end_s + intro_s}) for w in words]
    cues = caption_cues(words, timeline_end_s=intro_s + sum(span.duration_s for span in spans))
    if format_id == "srt":
        return to_srt(cues)
    if format_id == "vtt":
        return to_vtt(cues)
    raise ValueError(f"unknown caption format {format_id!r}; allowed: {', '.join(CAPTION_FORMATS)}")


def clip_timeline(clip: RenderedClip, media: SourceMedia, format_id: str, name: str | None = None) -> str:
    """The clip's cut of ``media`` as an NLE timeline in ``format_id`` (see :data:`NLE_FORMATS`)."""
    return timeline_text(build_timeline(name or clip.title or clip.clip_id, media, kept_spans(clip)), format_id)
