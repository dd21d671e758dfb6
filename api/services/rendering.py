"""Re-rendering a clip with other settings (a new version beside the old ones) and caption-style preview frames.

Both read the pipeline's stage outputs through storage and use the pipeline's own render functions.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Clip, ClipVersion, Job
from api.state import AppState
from clipped.layout import RENDERED_CLIPS_FILE, SOURCE_FILE, SourceRef
from clipped.media.ffmpeg import run_ffmpeg
from clipped.render.captions_ass import build_ass
from clipped.render.filtergraph import ass_filter
from clipped.render.inputs import load_render_inputs
from clipped.render.render_clip import output_size
from clipped.render_manifest import RenderedClipsManifest
from clipped.types import RenderedClip

log = logging.getLogger("clipped.api")


def rendered_clip_of(state: AppState, job: Job, clip: Clip) -> RenderedClip:
    source = SourceRef.from_partition_key(job.partition_key)
    manifest = state.storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest)
    for rendered in manifest.clips:
        if rendered.clip_id == clip.manifest_clip_id:
            return rendered
    raise LookupError(f"clip {clip.manifest_clip_id} is no longer in the rendered clips manifest")


def version_keys(job: Job, clip: Clip, version: int) -> dict[str, str]:
    """Storage keys of a re-rendered version: its own folder under the job's workspace, old files untouched."""
    source = SourceRef.from_partition_key(job.partition_key)
    folder = f"{clip.manifest_clip_id}-v{version}"
    return {name: source.clip_key(folder, name) for name in ("clip.mp4", "thumbnail.jpg", "captions.ass")}


def rerender_version(state: AppState, version_id: str) -> None:
    """Render a queued version (background worker); marks it ready and makes it the clip's current version."""
    with state.sessions() as session:
        version = session.get(ClipVersion, version_id)
        if version is None:
            return
        clip = session.get(Clip, version.clip_id)
        job = session.get(Job, clip.job_id) if clip else None
        if clip is None or job is None:
            return
        try:
            _render(state, job, clip, version)
        except Exception as exc:
            log.exception("re-render of clip %s v%s failed", clip.id, version.version)
            version.status, version.error = "failed", str(exc).strip().splitlines()[-1][:500] if str(exc) else "failed"
            session.commit()
            return
        version.status = "ready"
        if version.version > clip.version:
            clip.version, clip.caption_style = version.version, version.caption_style
        session.commit()


def _render(state: AppState, job: Job, clip: Clip, version: ClipVersion) -> None:
    storage, source = state.storage, SourceRef.from_partition_key(job.partition_key)
    rendered = rendered_clip_of(state, job, clip)
    inputs = load_render_inputs(storage, source)
    with (
        storage.local_path(source.key(SOURCE_FILE)) as video,
        storage.writer(version.video_key) as video_out,
        storage.writer(version.thumbnail_key) as thumbnail_out,
        tempfile.TemporaryDirectory(prefix="clipped-rerender-") as scratch,
    ):
        spec = inputs.spec(
            video,
            start_s=rendered.start_s,
            end_s=rendered.end_s,
            words=rendered.words,
            candidate_id=rendered.candidate_id,
            aspect=job.settings.get("aspect", "9:16"),
            caption_style=version.caption_style,
        )
        state.render_options.encode(spec, video_out, thumbnail_out, Path(scratch) / "captions.ass")


def preview_frame(state: AppState, job: Job, clip: Clip, caption_style: str) -> bytes:
    """One JPEG frame of the clip (centre crop at the delivery size) with ``caption_style`` captions drawn.

    The frame is taken where a word starts about a third into the clip, so there is always a caption to see.
    """
    storage, source = state.storage, SourceRef.from_partition_key(job.partition_key)
    rendered = rendered_clip_of(state, job, clip)
    width, height = output_size(job.settings.get("aspect", "9:16"))
    words = [w for w in rendered.words if rendered.start_s <= w.start_s < rendered.end_s]
    at_s = words[len(words) // 3].start_s + 0.05 if words else rendered.start_s
    script = build_ass(rendered.words, at_s, rendered.end_s, width, height, caption_style)
    with (
        tempfile.TemporaryDirectory(prefix="clipped-preview-") as scratch,
        storage.local_path(source.key(SOURCE_FILE)) as video,
    ):
        ass_path, out = Path(scratch) / "captions.ass", Path(scratch) / "preview.jpg"
        ass_path.write_text(script)
        crop = f"crop=w='min(iw,ih*{width}/{height})':h='min(ih,iw*{height}/{width})'"
        args = ["-ss", f"{at_s:.3f}", "-i", str(video), "-frames:v", "1"]
        args += ["-vf", f"{crop},scale={width}:{height},setsar=1,{ass_filter(ass_path)}", "-q:v", "4", str(out)]
        run_ffmpeg(args)
        return out.read_bytes()


def queue_rerender(state: AppState, session: Session, job: Job, clip: Clip, caption_style: str) -> ClipVersion:
    latest = max((v.version for v in session.query(ClipVersion).filter(ClipVersion.clip_id == clip.id)), default=0)
    number = latest + 1
    keys = version_keys(job, clip, number)
    version = ClipVersion(
        clip_id=clip.id,
        version=number,
        caption_style=caption_style,
        status="rendering",
        video_key=keys["clip.mp4"],
        thumbnail_key=keys["thumbnail.jpg"],
    )
    session.add(version)
    session.commit()
    state.worker.submit(lambda: rerender_version(state, version.id))
    return version


def resume_rerenders(state: AppState) -> list[str]:
    """Queue again every version still "rendering": its render lived in a process that has stopped.

    Re-renders run in this process's background worker, so after a restart nothing else would finish them.
    Returns the ids of the versions queued.
    """
    with state.sessions() as session:
        pending = list(session.scalars(select(ClipVersion.id).where(ClipVersion.status == "rendering")))
    for version_id in pending:
        log.info("resuming re-render of version %s", version_id)
        state.worker.submit(lambda version_id=version_id: rerender_version(state, version_id))
    return pending
