"""Moment search for the review API: the workspace's moments for a query, and a clip made from one of them.

The index is the ``moment_index`` asset's LanceDB table; a hit names its source by partition key, which maps onto
the workspace's job for that source (hits of sources no longer in the workspace are dropped).
"""

from __future__ import annotations

import base64
import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.models import Clip, ClipVersion, Job
from api.state import AppState
from clipped.layout import CLIP_VERSION_PARTITIONS, REQUEST_FILE, TRANSCRIPT_FILE, SourceRef, check_key
from clipped.render.versions import ClipVersionError, version_keys
from clipped.search.moment_clip import plan_moment_clip, save_moment_clip_request
from clipped.search.moment_store import MomentHit
from clipped.sources import SourceRequest
from clipped.types import ClipSettings, Transcript

log = logging.getLogger("clipped.api")
# Thumbnails travel inline (data: URLs, which the CSP allows for images): a search answer needs no signed link
# per picture, and they are 320 px JPEGs of a few kB.
MAX_THUMBNAIL_BYTES = 200_000


def search_moments(state: AppState, session: Session, workspace_id: str, query: str, limit: int) -> list[dict]:
    """The best moments of the workspace's sources for ``query``, each with its job, thumbnail and context."""
    if not query.strip():
        return []
    hits = state.vector_store.search(workspace_id, query, limit=limit * 2)  # room for hits of removed sources
    jobs = _latest_jobs(session, workspace_id, {hit.source for hit in hits})
    results = []
    for hit in hits:
        job = jobs.get(hit.source)
        if job is None:
            continue
        results.append(_moment_out(state, job, hit))
        if len(results) == limit:
            break
    return results


def _latest_jobs(session: Session, workspace_id: str, partitions: set[str]) -> dict[str, Job]:
    if not partitions:
        return {}
    rows = session.scalars(
        select(Job).where(Job.workspace_id == workspace_id, Job.partition_key.in_(partitions)).order_by(Job.created_at)
    ).all()
    return {job.partition_key: job for job in rows}  # the newest job of a source wins


def _moment_out(state: AppState, job: Job, hit: MomentHit) -> dict:
    return {
        "job_id": job.id,
        "source": job.display_name,
        "kind": hit.kind,
        "start_s": hit.start_s,
        "end_s": hit.end_s,
        "text": hit.text,
        "context": hit.context,
        "score": hit.score,
        "similarity": hit.similarity,
        "text_match": hit.text_match,
        "thumbnail": _thumbnail_data_url(state, job.workspace_id, hit.thumbnail_key),
    }


def _thumbnail_data_url(state: AppState, workspace_id: str, key: str) -> str | None:
    if not key:
        return None
    check_key(key, workspace_id)  # a row can only point inside its own workspace
    storage = state.storage
    if not storage.exists(key) or storage.size(key) > MAX_THUMBNAIL_BYTES:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(storage.read_bytes(key)).decode("ascii")


def create_moment_clip(
    state: AppState, session: Session, job: Job, start_s: float, end_s: float, query: str
) -> tuple[Clip, bool]:
    """A clip of whole sentences around ``[start_s, end_s]`` of the job's source, rendered by clip_version_job.

    Returns the clip and whether it is new: the same window asked for again gives the clip made the first time.
    """
    source = SourceRef.from_partition_key(job.partition_key)
    storage = state.storage
    if not storage.exists(source.key(TRANSCRIPT_FILE)):
        raise ApiError(409, "this source has no transcript yet: wait for its job to finish")
    transcript = storage.read_model(source.key(TRANSCRIPT_FILE), Transcript)
    settings = _settings(state, job, source)
    try:
        request = plan_moment_clip(source, transcript, settings, start_s, end_s, query)
    except ClipVersionError as exc:
        raise ApiError(409, str(exc)) from exc
    existing = session.scalar(select(Clip).where(Clip.job_id == job.id, Clip.manifest_clip_id == request.clip_id))
    if existing is not None:
        return existing, False
    rank = (session.scalar(select(func.max(Clip.rank)).where(Clip.job_id == job.id)) or 0) + 1
    keys = version_keys(request.ref(source))
    clip = Clip(
        job_id=job.id,
        workspace_id=job.workspace_id,
        manifest_clip_id=request.clip_id,
        rank=rank,
        score=0.0,
        scores={},
        title=request.title,
        description="",
        hashtags=[],
        reason=f"Found by searching “{query}”",
        start_s=request.start_s,
        end_s=request.end_s,
        status="proposed",
        version=1,
        caption_style=request.caption_style,
    )
    session.add(clip)
    session.flush()
    version = ClipVersion(
        clip_id=clip.id,
        version=1,
        caption_style=request.caption_style,
        status="rendering",
        video_key=keys["clip.mp4"],
        thumbnail_key=keys["thumbnail.jpg"],
    )
    session.add(version)
    session.commit()
    try:
        ref = save_moment_clip_request(storage, source, request)
        if not state.instance.has_dynamic_partition(CLIP_VERSION_PARTITIONS, ref.folder):
            state.instance.add_dynamic_partitions(CLIP_VERSION_PARTITIONS, [ref.folder])
        version.run_id = state.launcher.launch_clip_version(ref)
    except Exception as exc:
        log.exception("could not launch the moment clip %s", clip.id)
        version.status, version.error = "failed", f"the clip could not start rendering: {type(exc).__name__}"
    session.commit()
    return clip, True


def _settings(state: AppState, job: Job, source: SourceRef) -> ClipSettings:
    """The source's stored settings (duration bounds, aspect, caption style), else the job's."""
    key = source.key(REQUEST_FILE)
    if state.storage.exists(key):
        return state.storage.read_model(key, SourceRequest).settings
    return ClipSettings.model_validate(job.settings)


def delete_source_moments(state: AppState, session: Session, job: Job) -> int:
    """Remove the source's rows from the moment index, unless another job of the workspace still has the source."""
    others = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.workspace_id == job.workspace_id, Job.partition_key == job.partition_key, Job.id != job.id)
    )
    if others:
        return 0
    return state.vector_store.store().delete_source(job.workspace_id, job.partition_key)
