"""Clips of a finished run: read from the rendered_clips manifest in storage, kept as review rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Clip, ClipVersion, Job
from api.state import AppState
from clipped.layout import RENDERED_CLIPS_FILE, SourceRef, check_key
from clipped.render_manifest import RenderedClipsManifest


def sync_clips(state: AppState, session: Session, job: Job, run_id: str) -> None:
    """Create review rows for clips of the manifest not seen yet; reviews of known clips are kept."""
    source = SourceRef.from_partition_key(job.partition_key)
    manifest = state.storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest)
    known = set(session.scalars(select(Clip.manifest_clip_id).where(Clip.job_id == job.id)))
    caption_style = job.settings.get("caption_style", "highlight_word")
    for rendered in manifest.clips:
        if rendered.clip_id in known:
            continue
        # A manifest is only trusted inside its own workspace's prefix.
        check_key(rendered.video_key, job.workspace_id)
        check_key(rendered.thumbnail_key, job.workspace_id)
        clip = Clip(
            job_id=job.id,
            workspace_id=job.workspace_id,
            manifest_clip_id=rendered.clip_id,
            rank=rendered.rank,
            score=rendered.score,
            scores=rendered.scores,
            title=rendered.title,
            description="",  # written for viewers by the editor; why it was picked stays in `reason`
            hashtags=[tag.lstrip("#") for tag in rendered.writing.hashtags],  # stored without '#', as edits are
            hook=rendered.writing.hook,
            post_captions=dict(rendered.writing.post_captions),
            reason=rendered.reason,
            start_s=rendered.start_s,
            end_s=rendered.end_s,
            status="proposed",
            version=1,
            caption_style=caption_style,
        )
        session.add(clip)
        session.flush()
        session.add(
            ClipVersion(
                clip_id=clip.id,
                version=1,
                caption_style=caption_style,
                status="ready",
                video_key=rendered.video_key,
                thumbnail_key=rendered.thumbnail_key,
            )
        )
    job.clips_synced_run = run_id
    session.commit()
