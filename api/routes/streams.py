"""Live streams: start one in a workspace, list them with their health, read one (moments, clips), stop it.

The streams themselves are :class:`clipped.live.service.StreamService`'s (records in storage, a recorder process or
Dagster run each); these routes only check who asks. A stream id is found among the caller's own workspaces
(an API token's one workspace), so another workspace's stream is a 404 like any other object. Live clips are files
of the stream's own workspace, served through signed links naming one clip file, as the review clips are.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Response
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import (
    Access,
    LinkCredentials,
    LinkCredentialsDep,
    LinkIssuerDep,
    Principal,
    PrincipalDep,
    SessionDep,
    StateDep,
    WorkspaceDep,
    access_to,
)
from api.errors import ApiError, not_found
from api.links import MEDIA, MEDIA_ROUND_S, LinkIssuer, MediaKind
from api.models import Membership
from api.roles import Permission
from api.routing import SessionReleasingRoute
from api.schemas import (
    LiveClipOut,
    LiveEventOut,
    MomentOut,
    StreamDetailOut,
    StreamHealthOut,
    StreamIn,
    StreamOut,
)
from api.services.media import check_range
from api.state import AppState
from api.tokens import LinkGrant, issue_link_token
from clipped.layout import check_key
from clipped.live.models import LiveClip, Moment
from clipped.live.service import StreamLimitError, StreamNotFoundError, StreamStatus

router = APIRouter(prefix="/api", tags=["streams"], route_class=SessionReleasingRoute)
MEDIA_TYPES: dict[str, str] = {"video": "video/mp4", "thumbnail": "image/jpeg"}


def _time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def live_clip_media_resource(stream_id: str, moment_id: str, kind: MediaKind) -> str:
    return f"stream/{stream_id}/{moment_id}/{kind}"


def live_clip_link(links: LinkIssuer, stream_id: str, moment_id: str, kind: MediaKind) -> str:
    """A signed link to one file of one live clip, on behalf of the caller (their access is checked on use)."""
    grant = LinkGrant(
        resource=live_clip_media_resource(stream_id, moment_id, kind),
        user_id=links.user_id,
        api_token_id=links.api_token_id,
    )
    token = issue_link_token(grant, MEDIA, links.secret, links.media_ttl_s, round_s=MEDIA_ROUND_S)
    return f"/api/streams/{quote(stream_id)}/clips/{quote(moment_id)}/{kind}?token={token}"


def stream_out(status: StreamStatus) -> StreamOut:
    health = status.health
    return StreamOut(
        id=status.stream_id,
        workspace_id=status.workspace_id,
        url=status.url,
        display_name=status.display_name,
        state=status.state,
        desired=status.desired,
        active=status.active,
        stale=status.stale,
        created_at=_time(status.created_at),
        heartbeat_age_s=status.heartbeat_age_s,
        last_segment_age_s=status.last_segment_age_s,
        bitrate_kbps=health.bitrate_kbps if health else None,
        dropped_segments=health.dropped_segments if health else 0,
        gaps=health.gaps if health else 0,
        moment_count=status.moments,
        clip_count=status.clips,
    )


def moment_out(moment: Moment) -> MomentOut:
    return MomentOut(
        id=moment.moment_id,
        at_s=round(moment.at_s, 3),
        start_s=round(moment.start_s, 3),
        end_s=round(moment.end_s, 3),
        score=round(moment.score, 4),
        scores={name: round(value, 4) for name, value in moment.scores.items()},
        reason=moment.reason,
        events=[
            LiveEventOut(kind=e.kind, at_s=round(e.at_s, 3), strength=round(e.strength, 3), detail=e.detail)
            for e in moment.events
        ],
        status=moment.status,
        clip_id=moment.clip_id,
        detected_at=_time(moment.detected_at),
        error=moment.error,
    )


def live_clip_out(clip: LiveClip, links: LinkIssuer) -> LiveClipOut:
    return LiveClipOut(
        id=clip.clip_id,
        moment_id=clip.moment_id,
        title=clip.title,
        reason=clip.reason,
        score=round(clip.score, 4),
        start_s=round(clip.start_s, 3),
        end_s=round(clip.end_s, 3),
        duration_s=round(clip.end_s - clip.start_s, 3),
        detected_at=_time(clip.detected_at),
        rendered_at=_time(clip.rendered_at),
        video_url=live_clip_link(links, clip.stream_id, clip.moment_id, "video"),
        thumbnail_url=live_clip_link(links, clip.stream_id, clip.moment_id, "thumbnail"),
    )


def _detail(state: AppState, status: StreamStatus, links: LinkIssuer) -> StreamDetailOut:
    health = status.health
    service = state.streams
    return StreamDetailOut(
        **stream_out(status).model_dump(),
        health=StreamHealthOut(**health.model_dump(include=set(StreamHealthOut.model_fields))) if health else None,
        moments=[moment_out(m) for m in service.moments(status.workspace_id, status.stream_id)],
        clips=[live_clip_out(c, links) for c in service.clips(status.workspace_id, status.stream_id)],
    )


def _find_stream(session: Session, state: AppState, principal: Principal, stream_id: str) -> str:
    """The workspace of the caller's that holds ``stream_id`` (an API token sees only its own); else 404."""
    if principal.api_token is not None:
        candidates = [principal.api_token.workspace_id]
    else:
        candidates = list(
            session.scalars(
                select(Membership.workspace_id)
                .where(Membership.user_id == principal.user.id)
                .order_by(Membership.created_at, Membership.workspace_id)
            )
        )
    for workspace_id in candidates:
        with contextlib.suppress(StreamNotFoundError, ValueError):
            state.streams.record(workspace_id, stream_id)
            return workspace_id
    raise not_found("stream")


def _stream_access(
    session: Session, state: AppState, principal: Principal, stream_id: str, permission: Permission
) -> Access:
    workspace_id = _find_stream(session, state, principal, stream_id)
    try:
        access = access_to(session, principal, workspace_id)
    except ApiError as exc:
        raise not_found("stream") from exc
    return access.require(permission)


def _start(access: Access, body: StreamIn, state: AppState) -> StreamOut:
    access.require(Permission.EDIT)
    service = state.streams
    settings = service.settings.model_copy(deep=True)
    settings.recorder.max_minutes = body.max_minutes
    if body.keywords:
        settings.detection.keywords = [word.strip().lower() for word in body.keywords if word.strip()]
    try:
        status = service.start(access.workspace_id, body.url, settings=settings)
    except StreamLimitError as exc:
        raise ApiError(409, str(exc)) from exc
    except ValueError as exc:  # DisallowedUrlError, or a URL too malformed to parse
        raise ApiError(422, f"this URL cannot be recorded as a live stream: {exc}") from exc
    return stream_out(status)


def _list(access: Access, state: AppState) -> list[StreamOut]:
    access.require(Permission.READ)
    return [stream_out(status) for status in state.streams.list(access.workspace_id)]


@router.post("/workspaces/{workspace_id}/streams", status_code=201, response_model=StreamOut)
def start_stream(
    workspace_id: str, body: StreamIn, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> StreamOut:
    return _start(access_to(session, principal, workspace_id), body, state)


@router.get("/workspaces/{workspace_id}/streams", response_model=list[StreamOut])
def list_streams(workspace_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> list[StreamOut]:
    return _list(access_to(session, principal, workspace_id), state)


# The short forms act in the workspace X-Workspace-Id names (default: the caller's first), as POST /api/jobs does;
# they are what the VOD ingest's refusal of a live URL points to.
@router.post("/streams", status_code=201, response_model=StreamOut)
def start_stream_here(body: StreamIn, access: WorkspaceDep, state: StateDep) -> StreamOut:
    return _start(access, body, state)


@router.get("/streams", response_model=list[StreamOut])
def list_streams_here(access: WorkspaceDep, state: StateDep) -> list[StreamOut]:
    return _list(access, state)


@router.get("/streams/{stream_id}", response_model=StreamDetailOut)
def get_stream(
    stream_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep, links: LinkIssuerDep
) -> StreamDetailOut:
    access = _stream_access(session, state, principal, stream_id, Permission.READ)
    return _detail(state, state.streams.get(access.workspace_id, stream_id), links)


@router.post("/streams/{stream_id}/stop", response_model=StreamOut)
def stop_stream(stream_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> StreamOut:
    access = _stream_access(session, state, principal, stream_id, Permission.EDIT)
    return stream_out(state.streams.stop(access.workspace_id, stream_id))


def _serve_live_clip(
    session: Session,
    state: AppState,
    credentials: LinkCredentials,
    stream_id: str,
    moment_id: str,
    kind: MediaKind,
    range_header: str | None,
) -> Response:
    principal = credentials.principal(session, state, MEDIA, live_clip_media_resource(stream_id, moment_id, kind))
    access = _stream_access(session, state, principal, stream_id, Permission.READ)
    clip = next((c for c in state.streams.clips(access.workspace_id, stream_id) if c.moment_id == moment_id), None)
    if clip is None:
        raise not_found("clip")
    key = clip.video_key if kind == "video" else clip.thumbnail_key
    check_key(key, access.workspace_id)  # a record can only point inside its own workspace
    storage = state.storage
    if not storage.exists(key):
        raise not_found("clip file")
    presigned = storage.presigned_get(key)
    if presigned is not None:
        return RedirectResponse(presigned, status_code=307)
    if range_header:
        check_range(range_header, storage.size(key))
    with storage.local_path(key) as path:
        return FileResponse(path, media_type=MEDIA_TYPES[kind], headers={"Cache-Control": "private, max-age=300"})


@router.get(
    "/streams/{stream_id}/clips/{moment_id}/video",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}}, 206: {"description": "Partial content (Range)"}},
)
def live_clip_video(
    stream_id: str,
    moment_id: str,
    credentials: LinkCredentialsDep,
    session: SessionDep,
    state: StateDep,
    range: Annotated[str | None, Header()] = None,
) -> Response:
    return _serve_live_clip(session, state, credentials, stream_id, moment_id, "video", range)


@router.get(
    "/streams/{stream_id}/clips/{moment_id}/thumbnail",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def live_clip_thumbnail(
    stream_id: str, moment_id: str, credentials: LinkCredentialsDep, session: SessionDep, state: StateDep
) -> Response:
    return _serve_live_clip(session, state, credentials, stream_id, moment_id, "thumbnail", None)
