"""Moment search ("ClipAnything"): find what was said or shown across the workspace's sources, make a clip of it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import LinkIssuerDep, SessionDep, StateDep, WorkspaceDep
from api.errors import not_found
from api.models import Job
from api.roles import Permission
from api.routes.clips import clip_out
from api.routing import SessionReleasingRoute
from api.schemas import ClipOut, Strict
from api.services.search import create_moment_clip, search_moments

router = APIRouter(prefix="/api", tags=["search"], route_class=SessionReleasingRoute)


class MomentOut(BaseModel):
    job_id: str
    source: str = Field(description="the source's display name")
    kind: str = Field(description="speech (a transcript sentence) or screen (text read from a frame)")
    start_s: float
    end_s: float
    text: str
    context: str = Field(description="the sentences around it")
    score: float = Field(description="0–1: 0.8 × meaning (cosine) + 0.2 × words (BM25, relative to the best)")
    similarity: float
    text_match: float
    thumbnail: str | None = Field(description="a frame near the moment, as a data: URL (JPEG)")


class SearchOut(BaseModel):
    query: str
    results: list[MomentOut]


class MomentClipIn(Strict):
    job_id: str = Field(max_length=40)
    start_s: float = Field(ge=0, le=24 * 3600)
    end_s: float = Field(ge=0, le=24 * 3600)
    query: str = Field(default="", max_length=200)


@router.get("/search", response_model=SearchOut)
def search(
    access: WorkspaceDep,
    session: SessionDep,
    state: StateDep,
    q: Annotated[str, Query(max_length=200, description="what was said or shown, in any words")] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchOut:
    access.require(Permission.READ)
    results = search_moments(state, session, access.workspace_id, q, limit)
    return SearchOut(query=q, results=[MomentOut(**result) for result in results])


@router.post("/search/clips", status_code=201, response_model=ClipOut, responses={200: {"model": ClipOut}})
def make_moment_clip(
    body: MomentClipIn,
    access: WorkspaceDep,
    session: SessionDep,
    state: StateDep,
    links: LinkIssuerDep,
    response: Response,
) -> ClipOut:
    """A new clip of whole sentences around the moment, rendered through the pipeline (status: its version 1 is
    "rendering" until the run ends); asking again for the same window returns the same clip (200)."""
    access.require(Permission.EDIT)
    job = session.get(Job, body.job_id)
    if job is None or job.workspace_id != access.workspace_id:
        raise not_found("job")
    clip, created = create_moment_clip(state, session, job, body.start_s, max(body.start_s, body.end_s), body.query)
    if not created:
        response.status_code = 200
    return clip_out(clip, links)
