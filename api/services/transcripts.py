"""A clip's transcript for review and editing: its words as rendered now, the source's words around it (what a trim
can reach) and where its hook ends."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Clip, ClipVersion, Job
from api.schemas import ClipTranscriptOut, WordOut
from api.state import AppState
from clipped.editing import hook_end_s, words_around
from clipped.layout import TRANSCRIPT_FILE, VERSION_CLIP_FILE, SourceRef
from clipped.render.versions import rendered_clip
from clipped.types import RenderedClip, Transcript, Word

TRIM_REACH_S = 20.0  # how far outside the clip a trim may move its start or end


def clip_transcript(state: AppState, session: Session, job: Job, clip: Clip) -> ClipTranscriptOut:
    """Raises LookupError / FileNotFoundError when the clip's rendered description is gone."""
    source = SourceRef.from_partition_key(job.partition_key)
    current = _current_rendering(state, session, source, clip)
    try:
        transcript_words = state.storage.read_model(source.key(TRANSCRIPT_FILE), Transcript).words
    except FileNotFoundError:  # a clip seeded without its source's transcript: only its own words can be edited
        transcript_words = current.words
    return ClipTranscriptOut(
        start_s=round(current.start_s, 3),
        end_s=round(current.end_s, 3),
        hook_end_s=round(hook_end_s(current.words, current.start_s), 3),
        words=[_out(word) for word in current.words],
        context=[_out(word) for word in words_around(transcript_words, current.start_s, current.end_s, TRIM_REACH_S)],
    )


def _current_rendering(state: AppState, session: Session, source: SourceRef, clip: Clip) -> RenderedClip:
    """The description of the clip's current version: its own clip.json for a re-render, else the manifest's."""
    version = session.scalar(
        select(ClipVersion).where(ClipVersion.clip_id == clip.id, ClipVersion.version == clip.version)
    )
    if version is not None and clip.version > 1:
        folder = version.video_key.rsplit("/", 1)[0]
        try:
            return state.storage.read_model(f"{folder}/{VERSION_CLIP_FILE}", RenderedClip)
        except FileNotFoundError:
            pass
    return rendered_clip(state.storage, source, clip.manifest_clip_id)


def _out(word: Word) -> WordOut:
    return WordOut(word=word.word.strip(), start_s=round(word.start_s, 3), end_s=round(word.end_s, 3))
