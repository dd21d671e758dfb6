"""Downloads and exports: a clip's MP4, SRT/VTT captions and NLE timelines; a zip of a job's approved clips.

Browsers download through plain links, which cannot send headers: the JSON routes (Authorization header) hand out
short-lived links that name exactly one file (see api/links.py), and the file routes take either.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from api.deps import LinkCredentialsDep, LinkIssuerDep, PrincipalDep, SessionDep, StateDep, load_in_workspace
from api.errors import not_found
from api.links import DOWNLOAD, clip_download_resource, job_export_resource
from api.models import Clip, Job
from api.roles import Permission
from api.routing import SessionReleasingRoute
from api.schemas import DownloadOut, ExportLinkOut
from api.services.exports import (
    DOWNLOAD_FORMATS,
    clip_download,
    clip_file_name,
    content_disposition,
    job_export,
    ready_version,
    stored_file_chunks,
)
from api.services.rendering import settle_versions
from clipped.export.zip_stream import stream_zip

router = APIRouter(prefix="/api", tags=["exports"], route_class=SessionReleasingRoute)
DownloadFormatId = Literal["mp4", "srt", "vtt", "fcpxml", "premiere_xml", "edl"]


@router.get("/clips/{clip_id}/downloads", response_model=list[DownloadOut])
def clip_downloads(
    clip_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep, links: LinkIssuerDep
) -> list[DownloadOut]:
    """Every download of the clip's current version, each with a link a browser can open."""
    clip, _ = load_in_workspace(session, principal, Clip, clip_id, Permission.READ, "clip")
    settle_versions(state, session, [clip])
    version = ready_version(session, clip, None)
    return [
        DownloadOut(
            format=format_id,
            label=kind.label,
            filename=clip_file_name(clip, format_id),
            url=links.clip_download(clip.id, version.version, format_id),
        )
        for format_id, kind in DOWNLOAD_FORMATS.items()
    ]


@router.get(
    "/clips/{clip_id}/download/{format_id}",
    response_class=Response,
    responses={200: {"content": {"video/mp4": {}, "application/xml": {}, "text/plain": {}, "text/vtt": {}}}},
)
def download_clip(
    clip_id: str,
    format_id: DownloadFormatId,
    credentials: LinkCredentialsDep,
    session: SessionDep,
    state: StateDep,
    version: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    """One file of a clip version as an attachment named after the clip's title. A link names one version and
    format, so a request through a link must name the same version."""
    resource = clip_download_resource(clip_id, version, format_id) if version is not None else None
    principal = credentials.principal(session, state, DOWNLOAD, resource)
    clip, _ = load_in_workspace(session, principal, Clip, clip_id, Permission.READ, "clip")
    settle_versions(state, session, [clip])
    found = ready_version(session, clip, version)
    download = clip_download(state, session.get(Job, clip.job_id), clip, found, format_id)
    headers = {"Content-Disposition": content_disposition(download.filename), "Cache-Control": "private, no-store"}
    if download.text is not None:
        return Response(download.text, media_type=f"{download.media_type}; charset=utf-8", headers=headers)
    if not state.storage.exists(download.key):
        raise not_found("clip file")
    headers["Content-Length"] = str(state.storage.size(download.key))
    return StreamingResponse(
        stored_file_chunks(state.storage, download.key), media_type=download.media_type, headers=headers
    )


@router.post("/jobs/{job_id}/export-link", response_model=ExportLinkOut)
def export_link(
    job_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep, links: LinkIssuerDep
) -> ExportLinkOut:
    """A link to the zip of the job's approved clips (409 when none is approved)."""
    job, _ = load_in_workspace(session, principal, Job, job_id, Permission.READ, "job")
    export = job_export(state, session, job)
    return ExportLinkOut(url=links.job_export(job.id), filename=export.filename, clips=export.clips)


@router.get(
    "/jobs/{job_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}, 409: {"description": "No approved clips"}},
)
def export_job(job_id: str, credentials: LinkCredentialsDep, session: SessionDep, state: StateDep) -> Response:
    """The job's approved clips as a zip, streamed: per clip its MP4 and SRT, and metadata.json."""
    principal = credentials.principal(session, state, DOWNLOAD, job_export_resource(job_id))
    job, _ = load_in_workspace(session, principal, Job, job_id, Permission.READ, "job")
    export = job_export(state, session, job)
    headers = {"Content-Disposition": content_disposition(export.filename), "Cache-Control": "private, no-store"}
    return StreamingResponse(stream_zip(export.members), media_type="application/zip", headers=headers)
