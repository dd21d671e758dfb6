"""A clip made from a searched moment: a window on sentence boundaries around it, rendered like any clip version.

The review API plans the window and stores the request in the clip's first version folder
(``{workspace}/clips/moment-<id>-v1/request.json``); ``clip_version_job`` renders it there through the normal
assets, and the clip then joins the source's clips for review. Times come from the transcript's sentences only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pydantic import BaseModel, Field

from clipped.layout import (
    SOURCE_FILE,
    TRANSCRIPT_FILE,
    VERSION_CLIP_FILE,
    VERSION_REQUEST_FILE,
    ClipVersionRef,
    SourceRef,
)
from clipped.progress import ProgressCallback, no_progress
from clipped.render.clip_set import ClipEncoder, render_and_inspect
from clipped.render.inputs import load_render_inputs
from clipped.render.versions import ClipVersionError, ClipVersionRequest
from clipped.select.sentences import split_sentences
from clipped.storage import Storage
from clipped.types import Aspect, Candidate, ClipSettings, RenderedClip, Sentence, Transcript

MOMENT_CLIP_PREFIX = "moment-"
TITLE_MAX_CHARS = 80


class MomentClipRequest(BaseModel):
    """What a moment clip is rendered from: its window in the source and how it looks."""

    clip_id: str
    version: int = Field(default=1, ge=1)
    caption_style: str
    aspect: Aspect = "9:16"
    start_s: float = Field(ge=0)
    end_s: float
    title: str
    query: str

    def ref(self, source: SourceRef) -> ClipVersionRef:
        return ClipVersionRef(source, self.clip_id, self.version)


def moment_clip_id(source: SourceRef, start_s: float, end_s: float) -> str:
    """The same window of the same source always gets the same id (asking twice makes one clip)."""
    digest = hashlib.sha256(f"{source.partition_key}:{start_s:.3f}:{end_s:.3f}".encode()).hexdigest()[:12]
    return MOMENT_CLIP_PREFIX + digest


def is_moment_clip(ref: ClipVersionRef) -> bool:
    return ref.clip_id.startswith(MOMENT_CLIP_PREFIX)


def clip_window(
    sentences: Sequence[Sentence], start_s: float, end_s: float, min_duration_s: float, max_duration_s: float
) -> tuple[float, float]:
    """Whole sentences covering ``[start_s, end_s]``, grown a sentence at a time (after first, then before) until
    the window lasts ``min_duration_s``, never past ``max_duration_s``. Raises when no sentence is there."""
    touching = [i for i, s in enumerate(sentences) if s.end_s > start_s and s.start_s < end_s]
    if not touching:
        middle = (start_s + end_s) / 2
        touching = [min(range(len(sentences)), key=lambda i: abs(sentences[i].start_s - middle))] if sentences else []
    if not touching:
        raise ClipVersionError("the source has no transcribed speech to cut a clip on")
    first, last = touching[0], touching[-1]
    while sentences[last].end_s - sentences[first].start_s > max_duration_s and last > first:
        last -= 1
    grow_after = True
    while sentences[last].end_s - sentences[first].start_s < min_duration_s:
        can_after, can_before = last + 1 < len(sentences), first > 0
        if not can_after and not can_before:
            break
        take_after = (grow_after and can_after) or not can_before
        candidate = (first, last + 1) if take_after else (first - 1, last)
        grow_after = not grow_after
        if sentences[candidate[1]].end_s - sentences[candidate[0]].start_s > max_duration_s:
            break
        first, last = candidate
    return sentences[first].start_s, sentences[last].end_s


def plan_moment_clip(
    source: SourceRef, transcript: Transcript, settings: ClipSettings, start_s: float, end_s: float, query: str
) -> MomentClipRequest:
    """The request for a clip around ``[start_s, end_s]`` of the source, within the source's duration bounds."""
    sentences = split_sentences(transcript.words)
    window_start, window_end = clip_window(sentences, start_s, end_s, settings.min_duration_s, settings.max_duration_s)
    words = [w.word.strip() for w in transcript.words if window_start <= w.start_s < window_end]
    title = " ".join(words)
    if len(title) > TITLE_MAX_CHARS:
        title = title[:TITLE_MAX_CHARS].rsplit(" ", 1)[0] + "…"
    return MomentClipRequest(
        clip_id=moment_clip_id(source, window_start, window_end),
        caption_style=settings.caption_style,
        aspect=settings.aspect,
        start_s=window_start,
        end_s=window_end,
        title=title or query,
        query=query,
    )


def save_moment_clip_request(storage: Storage, source: SourceRef, request: MomentClipRequest) -> ClipVersionRef:
    ref = request.ref(source)
    storage.write_model(ref.key(VERSION_REQUEST_FILE), request)
    return ref


def save_moment_version(storage: Storage, source: SourceRef, version: ClipVersionRequest) -> ClipVersionRef:
    """Store version ``version.version`` of a moment clip: the first version's window with this version's style
    (version 1 is the request stored when the clip was made, kept as it is)."""
    first = read_moment_clip_request(storage, ClipVersionRef(source, version.clip_id, 1))
    if version.version == 1:
        return first.ref(source)
    update = {"version": version.version, "caption_style": version.caption_style, "aspect": version.aspect}
    return save_moment_clip_request(storage, source, first.model_copy(update=update))


def read_moment_clip_request(storage: Storage, ref: ClipVersionRef) -> MomentClipRequest:
    key = ref.key(VERSION_REQUEST_FILE)
    if not storage.exists(key):
        raise ClipVersionError(f"no request stored for moment clip {ref.folder} of {ref.source.partition_key}")
    request = storage.read_model(key, MomentClipRequest)
    if request.ref(ref.source) != ref:
        raise ClipVersionError(f"the request stored at {key} is for {request.ref(ref.source).folder}")
    return request


def render_moment_clip(
    storage: Storage,
    encoder: ClipEncoder,
    source: SourceRef,
    request: MomentClipRequest,
    on_progress: ProgressCallback = no_progress,
) -> RenderedClip:
    """Render the request's window into its version folder (captions from the transcript's words, centre-weighted
    framing: face tracks exist only for the windows clip_job rendered) and write ``clip.json`` last."""
    ref = request.ref(source)
    transcript = storage.read_model(source.key(TRANSCRIPT_FILE), Transcript)
    words = [w for w in transcript.words if request.start_s <= w.start_s < request.end_s]
    candidate = Candidate(
        candidate_id=request.clip_id,
        start_s=request.start_s,
        end_s=request.end_s,
        score=0.0,
        scores={},
        reason=f"Found by searching “{request.query}”",
        title=request.title,
        text=" ".join(w.word.strip() for w in words),
        words=words,
    )
    inputs = load_render_inputs(storage, source)
    with storage.local_path(source.key(SOURCE_FILE)) as video:
        spec = inputs.spec(
            video,
            start_s=request.start_s,
            end_s=request.end_s,
            words=words,
            candidate_id=request.clip_id,
            aspect=request.aspect,
            caption_style=request.caption_style,
        )
        clip = render_and_inspect(storage, encoder, source, ref.folder, 0, candidate, spec, on_progress)
    storage.write_model(ref.key(VERSION_CLIP_FILE), clip)
    return clip
