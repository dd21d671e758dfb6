"""Clips: list, read, media (Range), review actions, edits, re-render versions, comments, caption previews."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import func, select
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
    load_in_workspace,
)
from api.errors import ApiError, not_found
from api.links import MEDIA, LinkIssuer, MediaKind, clip_media_resource
from api.models import Clip, ClipVersion, Comment, Job, User
from api.roles import Permission
from api.routing import SessionReleasingRoute
from api.schemas import (
    BatchIn,
    BatchOut,
    CaptionStyle,
    CaptionStyleOut,
    ClipOut,
    ClipPage,
    ClipPatch,
    ClipStatus,
    ClipTranscriptOut,
    ClipVersionOut,
    CommentAuthor,
    CommentIn,
    CommentOut,
    RerenderIn,
    VariantOut,
    VariationsIn,
    VariationsOut,
)
from api.services.jobs import job_out
from api.services.media import check_range
from api.services.rendering import (
    check_edits,
    preview_frame,
    queue_rerender,
    queue_variations,
    settle_versions,
    stored_variations,
)
from api.services.transcripts import clip_transcript
from api.state import AppState
from clipped.editing import ClipEditError
from clipped.layout import check_key
from clipped.render.versions import ClipVersionError

router = APIRouter(prefix="/api", tags=["clips"], route_class=SessionReleasingRoute)
CAPTION_STYLE_INFO = {
    "highlight_word": ("Highlight word", "White lines; the word being spoken turns yellow"),
    "karaoke": ("Karaoke", "Yellow lines filled word by word as they are spoken"),
    "pop_in": ("Pop in", "Words appear one by one with a small pop"),
    "typewriter": ("Typewriter", "Each word types itself letter by letter as it is spoken"),
    "bounce": ("Bounce", "The word being spoken jumps up and settles, in yellow"),
}


def clip_out(clip: Clip, links: LinkIssuer) -> ClipOut:
    return ClipOut(
        id=clip.id,
        job_id=clip.job_id,
        workspace_id=clip.workspace_id,
        rank=clip.rank,
        score=round(clip.score, 4),
        scores={name: round(float(value), 4) for name, value in (clip.scores or {}).items()},
        title=clip.title,
        description=clip.description,
        hashtags=list(clip.hashtags),
        hook=clip.hook or "",
        post_captions=dict(clip.post_captions or {}),
        reason=clip.reason,
        start_s=round(clip.start_s, 3),
        end_s=round(clip.end_s, 3),
        duration_s=round(clip.end_s - clip.start_s, 3),
        status=clip.status,
        version=clip.version,
        caption_style=clip.caption_style,
        video_url=links.clip_media(clip.id, clip.version, "video"),
        thumbnail_url=links.clip_media(clip.id, clip.version, "thumbnail"),
        created_at=clip.created_at,
        updated_at=clip.updated_at,
    )


def load_clip(session: Session, principal: Principal, clip_id: str, permission: Permission) -> tuple[Clip, Access]:
    return load_in_workspace(session, principal, Clip, clip_id, permission, "clip")


@router.get("/caption-styles", response_model=list[CaptionStyleOut])
def caption_styles(principal: PrincipalDep) -> list[CaptionStyleOut]:
    return [CaptionStyleOut(id=key, name=name, description=text) for key, (name, text) in CAPTION_STYLE_INFO.items()]


@router.get("/clips", response_model=ClipPage)
def list_clips(
    access: WorkspaceDep,
    session: SessionDep,
    state: StateDep,
    links: LinkIssuerDep,
    job_id: Annotated[str | None, Query(max_length=40)] = None,
    status: ClipStatus | None = None,
    sort: Literal["score", "-score", "created_at", "-created_at", "rank"] = "-score",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ClipPage:
    access.require(Permission.READ)
    if job_id is not None:
        job = session.get(Job, job_id)
        if job is None or job.workspace_id != access.workspace_id:
            raise not_found("job")
        job_out(state, session, job)  # reads the clips of a run that finished since the last look
    where = [Clip.workspace_id == access.workspace_id]
    if job_id is not None:
        where.append(Clip.job_id == job_id)
    if status is not None:
        where.append(Clip.status == status)
    order = {
        "score": (Clip.score.asc(), Clip.id),
        "-score": (Clip.score.desc(), Clip.id),
        "created_at": (Clip.created_at.asc(), Clip.rank),
        "-created_at": (Clip.created_at.desc(), Clip.rank),
        "rank": (Clip.job_id, Clip.rank),
    }[sort]
    total = session.scalar(select(func.count()).select_from(Clip).where(*where)) or 0
    clips = session.scalars(select(Clip).where(*where).order_by(*order).offset((page - 1) * limit).limit(limit)).all()
    settle_versions(state, session, clips)  # a re-render that finished since the last look shows as current
    return ClipPage(items=[clip_out(c, links) for c in clips], page=page, limit=limit, total=total)


@router.get("/clips/{clip_id}", response_model=ClipOut)
def get_clip(
    clip_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep, links: LinkIssuerDep
) -> ClipOut:
    clip, _ = load_clip(session, principal, clip_id, Permission.READ)
    settle_versions(state, session, [clip])
    return clip_out(clip, links)


def _version(session: Session, clip: Clip, number: int | None) -> ClipVersion:
    wanted = number if number is not None else clip.version
    version = session.scalar(select(ClipVersion).where(ClipVersion.clip_id == clip.id, ClipVersion.version == wanted))
    if version is None or version.status != "ready":
        raise not_found("clip version")
    return version


def _serve(state, clip: Clip, key: str, media_type: str, range_header: str | None) -> Response:
    check_key(key, clip.workspace_id)  # a row can only point inside its own workspace
    storage = state.storage
    if not storage.exists(key):
        raise not_found("clip file")
    presigned = storage.presigned_get(key)
    if presigned is not None:  # object storage serves the bytes (and Range) itself
        return RedirectResponse(presigned, status_code=307)
    size = storage.size(key)
    if range_header:
        check_range(range_header, size)
    with storage.local_path(key) as path:
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=300"})


def _media_clip(
    session: Session,
    state: AppState,
    credentials: LinkCredentials,
    clip_id: str,
    version: int | None,
    kind: MediaKind,
) -> tuple[Clip, ClipVersion]:
    """The clip and version asked for, by a caller with the header or with a link naming exactly this file.

    A link names one version, so a request through a link must name the same version (no "current" fallback).
    """
    resource = clip_media_resource(clip_id, version, kind) if version is not None else None
    principal = credentials.principal(session, state, MEDIA, resource)
    clip, _ = load_clip(session, principal, clip_id, Permission.READ)
    settle_versions(state, session, [clip])
    return clip, _version(session, clip, version)


@router.get(
    "/clips/{clip_id}/video",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}}, 206: {"description": "Partial content (Range)"}},
)
def clip_video(
    clip_id: str,
    credentials: LinkCredentialsDep,
    session: SessionDep,
    state: StateDep,
    version: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    range: Annotated[str | None, Header()] = None,
) -> Response:
    clip, found = _media_clip(session, state, credentials, clip_id, version, "video")
    return _serve(state, clip, found.video_key, "video/mp4", range)


@router.get("/clips/{clip_id}/thumbnail", response_class=FileResponse, responses={200: {"content": {"image/jpeg": {}}}})
def clip_thumbnail(
    clip_id: str,
    credentials: LinkCredentialsDep,
    session: SessionDep,
    state: StateDep,
    version: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    clip, found = _media_clip(session, state, credentials, clip_id, version, "thumbnail")
    return _serve(state, clip, found.thumbnail_key, "image/jpeg", None)


def _set_status(session: Session, principal: Principal, links: LinkIssuer, clip_id: str, status: str) -> ClipOut:
    clip, _ = load_clip(session, principal, clip_id, Permission.EDIT)
    clip.status = status
    session.commit()
    return clip_out(clip, links)


@router.post("/clips/{clip_id}/approve", response_model=ClipOut)
def approve_clip(clip_id: str, principal: PrincipalDep, session: SessionDep, links: LinkIssuerDep) -> ClipOut:
    return _set_status(session, principal, links, clip_id, "approved")


@router.post("/clips/{clip_id}/reject", response_model=ClipOut)
def reject_clip(clip_id: str, principal: PrincipalDep, session: SessionDep, links: LinkIssuerDep) -> ClipOut:
    return _set_status(session, principal, links, clip_id, "rejected")


@router.patch("/clips/{clip_id}", response_model=ClipOut)
def edit_clip(
    clip_id: str, body: ClipPatch, principal: PrincipalDep, session: SessionDep, links: LinkIssuerDep
) -> ClipOut:
    clip, _ = load_clip(session, principal, clip_id, Permission.EDIT)
    for field, value in body.model_dump(exclude_none=True).items():
        setattr(clip, field, value.strip() if isinstance(value, str) else value)
    session.commit()
    return clip_out(clip, links)


def _version_out(clip: Clip, version: ClipVersion, links: LinkIssuer) -> ClipVersionOut:
    return ClipVersionOut(
        version=version.version,
        caption_style=version.caption_style,
        status=version.status,
        created_at=version.created_at,
        video_url=links.clip_media(clip.id, version.version, "video"),
        error=version.error,
    )


@router.post("/clips/{clip_id}/rerender", status_code=202, response_model=ClipVersionOut)
def rerender_clip(
    clip_id: str, body: RerenderIn, principal: PrincipalDep, session: SessionDep, state: StateDep, links: LinkIssuerDep
) -> ClipVersionOut:
    clip, _ = load_clip(session, principal, clip_id, Permission.EDIT)
    settle_versions(state, session, [clip])  # a run that has finished no longer keeps the clip busy
    busy = session.scalar(select(func.count()).where(ClipVersion.clip_id == clip.id, ClipVersion.status == "rendering"))
    if busy:
        raise ApiError(409, "a re-render of this clip is already running")
    job = session.get(Job, clip.job_id)
    try:  # a trim or caption text that cannot apply is refused here, not as a failed run
        check_edits(state, job, clip, body.edits())
    except ClipEditError as exc:
        raise ApiError(422, str(exc), code="invalid_edit") from exc
    except ClipVersionError as exc:
        raise ApiError(409, f"this clip cannot be edited: {exc}") from exc
    version = queue_rerender(state, session, job, clip, body.caption_style or clip.caption_style, body.edits())
    return _version_out(clip, version, links)


@router.post("/clips/{clip_id}/variations", status_code=202, response_model=list[ClipVersionOut])
def request_variations(
    clip_id: str,
    body: VariationsIn,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
    links: LinkIssuerDep,
) -> list[ClipVersionOut]:
    """Render ``count`` variants of the clip's moment (other clean boundaries, hook, caption style, layout) as new
    versions, in one run; the versions are returned at once, "rendering"."""
    clip, _ = load_clip(session, principal, clip_id, Permission.EDIT)
    settle_versions(state, session, [clip])
    busy = session.scalar(select(func.count()).where(ClipVersion.clip_id == clip.id, ClipVersion.status == "rendering"))
    if busy:
        raise ApiError(409, "a re-render of this clip is already running")
    try:
        versions = queue_variations(state, session, session.get(Job, clip.job_id), clip, body.count)
    except ClipVersionError as exc:
        raise ApiError(409, f"this clip cannot be varied: {exc}") from exc
    return [_version_out(clip, v, links) for v in sorted(versions, key=lambda v: v.version)]


@router.get("/clips/{clip_id}/variations", response_model=VariationsOut)
def clip_variations(
    clip_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep, links: LinkIssuerDep
) -> VariationsOut:
    """The latest set of variations of the clip, each with how unique it is against its closest sibling."""
    clip, _ = load_clip(session, principal, clip_id, Permission.READ)
    settle_versions(state, session, [clip])
    versions = {v.version: v for v in session.scalars(select(ClipVersion).where(ClipVersion.clip_id == clip.id))}
    rendered = stored_variations(state, session.get(Job, clip.job_id), clip)
    variants = []
    for variant in rendered.variants if rendered is not None else []:
        row = versions.get(variant.version) if variant.version is not None else None
        if row is None:
            continue
        ready = row.status == "ready"
        variants.append(
            VariantOut(
                version=row.version,
                hook=variant.hook,
                caption_style=variant.caption_style,
                layout=variant.layout,
                start_s=round(variant.clip.start_s, 3),
                end_s=round(variant.clip.end_s, 3),
                duration_s=round(variant.clip.end_s - variant.clip.start_s, 3),
                uniqueness=variant.uniqueness,
                status=row.status,
                video_url=links.clip_media(clip.id, row.version, "video") if ready else None,
                thumbnail_url=links.clip_media(clip.id, row.version, "thumbnail") if ready else None,
            )
        )
    rendering = any(v.status == "rendering" for v in versions.values())
    return VariationsOut(rendering=rendering, variants=variants)


@router.get("/clips/{clip_id}/versions", response_model=list[ClipVersionOut])
def clip_versions(
    clip_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep, links: LinkIssuerDep
) -> list[ClipVersionOut]:
    clip, _ = load_clip(session, principal, clip_id, Permission.READ)
    settle_versions(state, session, [clip])
    versions = session.scalars(select(ClipVersion).where(ClipVersion.clip_id == clip.id).order_by(ClipVersion.version))
    return [_version_out(clip, v, links) for v in versions]


@router.get("/clips/{clip_id}/preview", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
def clip_preview(
    clip_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
    caption_style: CaptionStyle | None = None,
) -> Response:
    clip, _ = load_clip(session, principal, clip_id, Permission.READ)
    job = session.get(Job, clip.job_id)
    try:
        image = preview_frame(state, job, clip, caption_style or clip.caption_style)
    except (LookupError, FileNotFoundError) as exc:
        raise not_found("clip source") from exc
    return Response(image, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})


@router.get("/clips/{clip_id}/transcript", response_model=ClipTranscriptOut)
def clip_transcript_route(
    clip_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> ClipTranscriptOut:
    """The clip's words as rendered now, the source's words around it (for a trim) and where its hook ends."""
    clip, _ = load_clip(session, principal, clip_id, Permission.READ)
    try:
        return clip_transcript(state, session, session.get(Job, clip.job_id), clip)
    except (LookupError, FileNotFoundError) as exc:
        raise not_found("clip source") from exc


@router.post("/clips/batch", response_model=BatchOut)
def batch(body: BatchIn, access: WorkspaceDep, session: SessionDep) -> BatchOut:
    """Acts on the clips of the workspace (X-Workspace-Id) among ``ids``; other ids are skipped, as if absent."""
    access.require(Permission.DELETE if body.action == "delete" else Permission.EDIT)
    clips = session.scalars(
        select(Clip).where(Clip.workspace_id == access.workspace_id, Clip.id.in_(set(body.ids))).order_by(Clip.id)
    ).all()
    for clip in clips:
        if body.action == "delete":
            session.delete(clip)
        else:
            clip.status = "approved" if body.action == "approve" else "rejected"
    session.commit()
    return BatchOut(updated=[clip.id for clip in clips])


def _comment_out(comment: Comment, author: User) -> CommentOut:
    return CommentOut(
        id=comment.id,
        author=CommentAuthor(id=author.id, display_name=author.display_name),
        body=comment.body,
        at_s=comment.at_s,
        created_at=comment.created_at,
    )


@router.get("/clips/{clip_id}/comments", response_model=list[CommentOut])
def list_comments(clip_id: str, principal: PrincipalDep, session: SessionDep) -> list[CommentOut]:
    clip, _ = load_clip(session, principal, clip_id, Permission.READ)
    rows = session.execute(
        select(Comment, User)
        .join(User, User.id == Comment.user_id)
        .where(Comment.clip_id == clip.id)
        .order_by(Comment.at_s, Comment.created_at)
    )
    return [_comment_out(comment, author) for comment, author in rows]


@router.post("/clips/{clip_id}/comments", status_code=201, response_model=CommentOut)
def add_comment(clip_id: str, body: CommentIn, principal: PrincipalDep, session: SessionDep) -> CommentOut:
    clip, access = load_clip(session, principal, clip_id, Permission.EDIT)
    if body.at_s > clip.end_s - clip.start_s + 0.5:
        raise ApiError(422, f"at_s is past the end of the clip ({clip.end_s - clip.start_s:.1f} s)")
    comment = Comment(
        clip_id=clip.id, workspace_id=clip.workspace_id, user_id=access.user_id, body=body.body.strip(), at_s=body.at_s
    )
    session.add(comment)
    session.commit()
    return _comment_out(comment, principal.user)
