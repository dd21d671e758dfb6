"""Uploads: a ticket (presigned storage upload, or this app's PUT on local storage), then confirm."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.deps import (
    PrincipalDep,
    SessionDep,
    StateDep,
    WorkspaceDep,
    access_to,
    principal_from_link,
    principal_from_token,
)
from api.errors import ApiError, not_found
from api.links import UPLOAD, upload_resource
from api.models import Upload, new_id
from api.roles import Permission
from api.routing import SessionReleasingRoute
from api.schemas import UploadIn, UploadOut, UploadTicket
from api.services.uploads import EXTENSIONS, SNIFF_BYTES, display_name_for, same_family, sniff_video_type
from api.tokens import InvalidTokenError, LinkGrant, decode_link_token, issue_link_token
from clipped_resources.storage import VIDEO_CONTENT_TYPES

router = APIRouter(prefix="/api/uploads", tags=["uploads"], route_class=SessionReleasingRoute)
# Upload states: pending (ticket issued) -> receiving (a PUT is writing) -> received (bytes stored) -> confirmed.
# Presigned uploads go from pending to confirmed (the store receives the bytes).
RECEIVING, RECEIVED = "receiving", "received"


def _refuse_type(content_type: str) -> ApiError:
    accepted = ", ".join(sorted(VIDEO_CONTENT_TYPES))
    return ApiError(415, f"{content_type!r} is not an accepted video type ({accepted})")


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"upload is larger than the limit of {limit} bytes")


@router.post("", status_code=201, response_model=UploadTicket)
def create_upload(body: UploadIn, access: WorkspaceDep, session: SessionDep, state: StateDep) -> UploadTicket:
    access.require(Permission.EDIT)
    content_type = body.content_type.split(";")[0].strip().lower()
    if content_type not in VIDEO_CONTENT_TYPES:
        raise _refuse_type(body.content_type)
    if body.size > state.settings.max_upload_bytes:
        raise _too_large(state.settings.max_upload_bytes)
    upload_id = new_id("up")
    key = f"{access.workspace_id}/uploads/{upload_id}{EXTENSIONS[content_type]}"
    expires_at = datetime.now(UTC) + timedelta(seconds=state.settings.upload_ttl_s)
    upload = Upload(
        id=upload_id,
        workspace_id=access.workspace_id,
        user_id=access.user_id,
        display_name=display_name_for(body.filename),
        content_type=content_type,
        declared_size=body.size,
        storage_key=key,
        status="pending",
        expires_at=expires_at,
    )
    session.add(upload)
    session.commit()
    presigned = state.storage.presigned_put(
        key, content_type, max_bytes=body.size, expires_s=state.settings.upload_ttl_s
    )
    if presigned is not None:
        return UploadTicket(
            upload_id=upload_id,
            method=presigned.method,
            url=presigned.url,
            headers=presigned.headers,
            fields=presigned.fields,
            expires_at=presigned.expires_at,
        )
    api_token = access.principal.api_token
    grant = LinkGrant(
        resource=upload_resource(upload_id),
        user_id=access.user_id,
        api_token_id=api_token.id if api_token is not None else None,
    )
    token = issue_link_token(grant, UPLOAD, state.settings.jwt_secret, state.settings.upload_ttl_s)
    return UploadTicket(
        upload_id=upload_id,
        method="PUT",
        url=f"/api/uploads/{upload_id}/content?token={token}",
        headers={"Content-Type": content_type},
        expires_at=expires_at,
    )


def _pending_upload(session, upload_id: str) -> Upload:
    upload = session.get(Upload, upload_id)
    if upload is None:
        raise not_found("upload")
    return upload


@router.put("/{upload_id}/content", response_model=UploadOut)
async def put_content(
    upload_id: str,
    request: Request,
    session: SessionDep,
    state: StateDep,
    token: Annotated[str | None, Query(description="The upload token from the ticket URL")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> UploadOut:
    """Local storage only: the body streams to a temp file, is checked, then published atomically.

    The link stands for whoever asked for it, so their access is checked again here (a member removed or an API
    token revoked since gets nothing), and an upload takes one complete body: a second PUT is refused, a failed
    one may be retried.
    """
    # The queries run in worker threads (never on the event loop), and no connection is held while the body arrives.
    upload = await run_in_threadpool(_claim, session, state, upload_id, token, authorization)
    try:
        size = await _receive(request, state, upload)
    except BaseException:
        await run_in_threadpool(_set_status, session, upload_id, RECEIVING, "pending")
        raise
    await run_in_threadpool(_set_status, session, upload_id, RECEIVING, RECEIVED, size)
    return UploadOut(upload_id=upload.id, size=size, content_type=upload.content_type)


def _claim(session: Session, state, upload_id: str, token: str | None, authorization: str | None) -> Upload:
    """The pending upload, once the caller's right to write it is checked, marked as receiving."""
    upload = _pending_upload(session, upload_id)
    if token is not None:
        try:
            if decode_link_token(token, UPLOAD, state.settings.jwt_secret).resource != upload_resource(upload_id):
                raise not_found("upload")
        except InvalidTokenError as exc:
            raise ApiError(401, "invalid or expired upload URL") from exc
        principal = principal_from_link(session, state, token, UPLOAD, upload_resource(upload_id))
    else:
        bearer = (authorization or "").partition(" ")[2].strip()
        if not bearer:
            raise ApiError(401, "missing credentials")
        principal = principal_from_token(session, state, bearer)
    try:
        access = access_to(session, principal, upload.workspace_id)
    except ApiError as exc:
        raise not_found("upload") from exc
    access.require(Permission.EDIT)
    if upload.status != "pending":
        raise ApiError(409, "upload already received")
    if upload.expires_at <= datetime.now(UTC):
        raise ApiError(409, "upload expired; ask for a new one")
    # Claim it atomically: of two PUTs at once, one writes and the other is refused.
    claimed = session.execute(
        update(Upload).where(Upload.id == upload_id, Upload.status == "pending").values(status=RECEIVING)
    )
    session.commit()
    if claimed.rowcount != 1:
        raise ApiError(409, "upload already received")
    return upload


def _set_status(session: Session, upload_id: str, current: str, status: str, size: int | None = None) -> None:
    values: dict[str, object] = {"status": status}
    if size is not None:
        values["size"] = size
    session.execute(update(Upload).where(Upload.id == upload_id, Upload.status == current).values(**values))
    session.commit()


async def _receive(request: Request, state, upload: Upload) -> int:
    """Stream the body to a temp file, check its size and type, publish it to storage; its size."""
    limit = min(upload.declared_size, state.settings.max_upload_bytes)
    with tempfile.TemporaryDirectory(prefix="clipped-upload-") as scratch:
        path = Path(scratch) / "body"
        size, head = 0, b""
        with path.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                out.write(chunk)
        _check_bytes(upload, head, size)
        await run_in_threadpool(state.storage.put_file, path, upload.storage_key)
    return size


def _check_bytes(upload: Upload, head: bytes, size: int) -> None:
    if size == 0:
        raise ApiError(422, "the upload is empty")
    sniffed = sniff_video_type(head)
    if sniffed is None or not same_family(upload.content_type, sniffed):
        raise ApiError(415, "the bytes are not a video of the declared type (mp4, mov, webm or mkv)")


@router.post("/{upload_id}/confirm", response_model=UploadOut)
def confirm_upload(upload_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> UploadOut:
    upload = _pending_upload(session, upload_id)
    try:
        access = access_to(session, principal, upload.workspace_id)
    except ApiError as exc:
        raise not_found("upload") from exc
    access.require(Permission.EDIT)
    if upload.status == "confirmed":
        return UploadOut(upload_id=upload.id, size=upload.size or 0, content_type=upload.content_type)
    if upload.status == RECEIVING:
        raise ApiError(409, "the upload is still being received")
    storage, key = state.storage, upload.storage_key
    if not storage.exists(key):
        raise ApiError(409, "nothing was uploaded yet")
    size = storage.size(key)
    try:
        if size > min(upload.declared_size, state.settings.max_upload_bytes):
            raise _too_large(min(upload.declared_size, state.settings.max_upload_bytes))
        # Only the first bytes decide the type: a ranged read, never a download of a video of up to 4 GB.
        head = storage.read_range(key, 0, SNIFF_BYTES)
        _check_bytes(upload, head, size)
    except ApiError:
        storage.delete(key)  # refused bytes do not stay in storage
        raise
    upload.size, upload.status = size, "confirmed"
    session.commit()
    return UploadOut(upload_id=upload.id, size=size, content_type=upload.content_type)
