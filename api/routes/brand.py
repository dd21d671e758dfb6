"""A workspace's brand kit: caption font and colours, hook colours, logo watermark, its own profanity words.

The kit and logo live in the workspace's storage (clipped.brand.kit); every render of the workspace reads them, and
a changed kit renders again (it is an input of rendered_clips and clip_version).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import Principal, PrincipalDep, SessionDep, StateDep, access_to, release_connection
from api.errors import ApiError
from api.roles import Permission
from api.routing import SessionReleasingRoute
from clipped.brand.bumpers import MAX_BUMPER_BYTES, BumperKind, delete_bumper, save_bumper
from clipped.brand.kit import (
    BUMPER_FILES,
    LOGO_FILE,
    MAX_LOGO_BYTES,
    BrandKit,
    BrandKitError,
    brand_key,
    delete_logo,
    read_brand_kit,
    save_brand_kit,
    save_logo,
)

router = APIRouter(prefix="/api", tags=["brand"], route_class=SessionReleasingRoute)


def _may_edit(session: Session, principal: Principal, workspace_id: str) -> None:
    """For the async upload routes, run in a worker thread: the query never waits on the event loop, and no
    connection is held while the body arrives."""
    access_to(session, principal, workspace_id).require(Permission.EDIT)
    release_connection(session)


@router.get("/workspaces/{workspace_id}/brand-kit", response_model=BrandKit)
def get_brand_kit(workspace_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> BrandKit:
    access_to(session, principal, workspace_id).require(Permission.READ)
    return read_brand_kit(state.storage, workspace_id)


@router.put("/workspaces/{workspace_id}/brand-kit", response_model=BrandKit)
def put_brand_kit(
    workspace_id: str, body: BrandKit, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> BrandKit:
    """Replace the kit (validated: shipped fonts only, ``#RRGGBB`` colours, logo size and opacity in range)."""
    access_to(session, principal, workspace_id).require(Permission.EDIT)
    return save_brand_kit(state.storage, workspace_id, body)


@router.put("/workspaces/{workspace_id}/brand-kit/logo", response_model=BrandKit)
async def put_logo(
    workspace_id: str, request: Request, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> BrandKit:
    """The logo as the request body (PNG, JPEG or WebP, up to 5 MB); stored re-encoded as PNG.

    The JSON routes' body cap does not apply here (api/middleware.py): the logo has its own, counted as it arrives.
    """
    await run_in_threadpool(_may_edit, session, principal, workspace_id)
    declared = int(request.headers.get("content-length") or 0)
    if declared > MAX_LOGO_BYTES:
        raise ApiError(413, f"the logo is {declared} bytes; at most {MAX_LOGO_BYTES} are accepted")
    data = bytearray()
    async for chunk in request.stream():  # a chunked body has no length to check first
        data += chunk
        if len(data) > MAX_LOGO_BYTES:
            raise ApiError(413, f"the logo is over {MAX_LOGO_BYTES} bytes")
    try:
        return await run_in_threadpool(save_logo, state.storage, workspace_id, bytes(data))
    except BrandKitError as exc:
        raise ApiError(422, str(exc)) from exc


@router.get("/workspaces/{workspace_id}/brand-kit/logo")
def get_logo(workspace_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> Response:
    """The stored logo (PNG); 204 when the kit has none."""
    access_to(session, principal, workspace_id).require(Permission.READ)
    key = brand_key(workspace_id, LOGO_FILE)
    if not state.storage.exists(key):
        return Response(status_code=204)
    return Response(state.storage.read_bytes(key), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.delete("/workspaces/{workspace_id}/brand-kit/logo", response_model=BrandKit)
def remove_logo(workspace_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> BrandKit:
    access_to(session, principal, workspace_id).require(Permission.EDIT)
    return delete_logo(state.storage, workspace_id)


@router.put("/workspaces/{workspace_id}/brand-kit/{kind}", response_model=BrandKit)
async def put_bumper(
    workspace_id: str, kind: BumperKind, request: Request, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> BrandKit:
    """The intro or outro as the request body: a video of at most 10 s and 50 MB, played before or after every
    clip rendered from now on (scaled and padded to the clip's frame, its loudness normalised)."""
    await run_in_threadpool(_may_edit, session, principal, workspace_id)
    declared = int(request.headers.get("content-length") or 0)
    if declared > MAX_BUMPER_BYTES:
        raise ApiError(413, f"the {kind} is {declared} bytes; at most {MAX_BUMPER_BYTES} are accepted")
    with tempfile.TemporaryDirectory(prefix="clipped-bumper-") as scratch:
        upload = Path(scratch) / BUMPER_FILES[kind]
        received = 0
        with upload.open("wb") as out:  # counted as it arrives: a chunked body has no length to check first
            async for chunk in request.stream():
                received += len(chunk)
                if received > MAX_BUMPER_BYTES:
                    raise ApiError(413, f"the {kind} is over {MAX_BUMPER_BYTES} bytes")
                out.write(chunk)
        try:
            return await run_in_threadpool(save_bumper, state.storage, workspace_id, kind, upload)
        except BrandKitError as exc:
            raise ApiError(422, str(exc)) from exc


@router.get("/workspaces/{workspace_id}/brand-kit/{kind}")
def get_bumper(
    workspace_id: str, kind: BumperKind, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> Response:
    """The stored intro or outro (MP4 as uploaded); 204 when the kit has none."""
    access_to(session, principal, workspace_id).require(Permission.READ)
    key = brand_key(workspace_id, BUMPER_FILES[kind])
    if not state.storage.exists(key):
        return Response(status_code=204)
    return Response(state.storage.read_bytes(key), media_type="video/mp4", headers={"Cache-Control": "no-store"})


@router.delete("/workspaces/{workspace_id}/brand-kit/{kind}", response_model=BrandKit)
def remove_bumper(
    workspace_id: str, kind: BumperKind, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> BrandKit:
    access_to(session, principal, workspace_id).require(Permission.EDIT)
    return delete_bumper(state.storage, workspace_id, kind)
