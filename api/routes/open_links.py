"""Links from the Dagster UI into the review app: ``/open/sources/{partition}`` and ``/open/clips/{partition}/{clip}``.

Dagster's metadata names sources and clips by partition key and manifest clip id; these routes redirect to the
review app's page for them (``/#/jobs/{id}``, ``/#/clips/{id}``), where the reader signs in and access is checked
as for any other page. A redirect reveals only an id that the API itself guards.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlalchemy import select

from api.deps import SessionDep
from api.models import Clip, Job
from api.routing import SessionReleasingRoute

router = APIRouter(prefix="/open", tags=["links"], include_in_schema=False, route_class=SessionReleasingRoute)
NOT_IN_THE_APP = (
    "{what} is not in the review app: it was processed by `clipped run`, whose clips are in the folder given with "
    "--out, or by a job of a review app with another database. Open the review app to see its jobs."
)


def _newest_job(session, partition_key: str) -> Job | None:
    query = select(Job).where(Job.partition_key == partition_key).order_by(Job.created_at.desc()).limit(1)
    return session.scalars(query).first()


@router.get("/sources/{partition_key}")
def open_source(partition_key: str, session: SessionDep) -> Response:
    job = _newest_job(session, partition_key)
    if job is None:
        return PlainTextResponse(NOT_IN_THE_APP.format(what=f"Source {partition_key}"), status_code=404)
    return RedirectResponse(f"/#/jobs/{job.id}", status_code=303)


@router.get("/clips/{partition_key}/{clip_id}")
def open_clip(partition_key: str, clip_id: str, session: SessionDep) -> Response:
    query = (
        select(Clip)
        .join(Job, Clip.job_id == Job.id)
        .where(Job.partition_key == partition_key, Clip.manifest_clip_id == clip_id)
        .order_by(Clip.created_at.desc())
        .limit(1)
    )
    clip = session.scalars(query).first()
    if clip is not None:
        return RedirectResponse(f"/#/clips/{clip.id}", status_code=303)
    job = _newest_job(session, partition_key)  # its clips are not synced yet: the job's page shows them when they are
    if job is not None:
        return RedirectResponse(f"/#/jobs/{job.id}", status_code=303)
    return PlainTextResponse(NOT_IN_THE_APP.format(what=f"Clip {clip_id} of {partition_key}"), status_code=404)
