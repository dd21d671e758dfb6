"""What makes a source's content *this* content, so bytes replaced at the same path are never taken for the old.

The identity of a source is the SHA-256 of its bytes: ``source_video``'s fingerprint includes it, so new bytes
recompute every stage after it, and the same bytes (touched, or copied back) reuse them. Hashing gigabytes on every
run would be slow, so each kind of source has a cheap stamp that changes whenever its content may have, and the
hash is computed only when the stamp differs from the one the last ``source_video`` record remembers:

- a local file: size, mtime, ctime, inode and device (a copy that keeps the mtime still moves the ctime);
- an upload: the storage object's size and version (S3's ETag; a local object's mtime);
- a URL: yt-dlp's extractor and video id, read from the page's metadata with no media downloaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from clipped.ingest.fetch import SourceAccessError, download_url, resolve_local_source
from clipped.ingest.prepare import sha256_of
from clipped.layout import SourceRef, check_key
from clipped.sources import SourceRequest
from clipped.stage_record import StageRecord, load_record, update_summary
from clipped.stages import SOURCE_VIDEO
from clipped.storage import ObjectInfo, Storage

# Where a source_video record keeps the identity it was computed for (its stage summary).
IDENTITY_SUMMARY = "source_identity"


class SourceChangedError(RuntimeError):
    """The source changed while it was being read; not bad input: a retry reads the new content."""


class SourceIdentity(BaseModel):
    """A source's content hash and the stamp it was computed for."""

    kind: str
    location: str
    stamp: str
    content_sha256: str


@dataclass(frozen=True)
class LocatedSource:
    identity: SourceIdentity
    path: Path | None  # the original bytes, when identifying them needed them here (a file, a changed upload)


@runtime_checkable
class DescribesObjects(Protocol):
    """A storage that can stat one object (the storage resources can); otherwise its folder is listed."""

    def object_info(self, key: str) -> ObjectInfo: ...


def locate_source(
    request: SourceRequest,
    scratch: Path,
    storage: Storage,
    workspace_id: str,
    *,
    allowed_roots: Iterable[str],
    allowed_domains: Iterable[str],
    max_download_bytes: int,
    known: SourceIdentity | None,
) -> LocatedSource:
    """The identity of ``request``'s current content: ``known``'s hash when the stamp is unchanged, else a fresh
    hash (an upload or URL is fetched into ``scratch`` for it, and the path returned so it is fetched once).

    Refuses what ingest refuses (outside the allowed roots, a folder, a refused URL) before reading a byte.
    """

    def remembered(stamp: str) -> str | None:
        if known is None or (known.kind, known.location, known.stamp) != (request.kind, request.location, stamp):
            return None
        return known.content_sha256

    def identity(stamp: str, content_sha256: str) -> SourceIdentity:
        return SourceIdentity(kind=request.kind, location=request.location, stamp=stamp, content_sha256=content_sha256)

    if request.kind == "file":
        path = resolve_local_source(request.location, allowed_roots)
        stamp = file_stamp(path)
        return LocatedSource(identity(stamp, remembered(stamp) or sha256_of(path)), path)
    if request.kind == "url":
        download = download_url(
            request.location,
            scratch,
            max_filesize_bytes=max_download_bytes,
            allowed_domains=allowed_domains,
            skip_download=lambda stamp: remembered(stamp) is not None,
        )
        if download.path is None:
            return LocatedSource(identity(download.stamp, remembered(download.stamp) or ""), None)
        return LocatedSource(identity(download.stamp, sha256_of(download.path)), download.path)
    key = check_key(request.location, workspace_id)
    stamp = object_stamp(storage, key)
    if content_sha256 := remembered(stamp):
        return LocatedSource(identity(stamp, content_sha256), None)
    local = scratch / ("upload" + Path(key).suffix)
    storage.download(key, local)
    if object_stamp(storage, key) != stamp:
        raise SourceChangedError(f"upload {key} changed while it was downloaded")
    return LocatedSource(identity(stamp, sha256_of(local)), local)


def file_stamp(path: Path) -> str:
    """What changes whenever a local file's content may have (no byte read)."""
    stat = path.stat()
    times = f"mtime_ns={stat.st_mtime_ns} ctime_ns={stat.st_ctime_ns}"
    return f"size={stat.st_size} {times} ino={stat.st_ino} dev={stat.st_dev}"


def object_stamp(storage: Storage, key: str) -> str:
    """What changes whenever a stored object's content may have: its size and version."""
    try:
        if isinstance(storage, DescribesObjects):
            info = storage.object_info(key)
        else:
            info = next(item for item in storage.list_objects(key.rpartition("/")[0]) if item.key == key)
    except (FileNotFoundError, StopIteration):
        raise SourceAccessError(f"upload not found: {key}") from None
    return f"size={info.size} version={info.version}"


def check_same_content(identity: SourceIdentity, content_sha256: str) -> None:
    """Refuse outputs prepared from other bytes than the ones identified (the source changed in between)."""
    if content_sha256 != identity.content_sha256:
        raise SourceChangedError(f"{identity.location} changed while it was being read; it is read again on retry")


def remembered_identity(storage: Storage, source: SourceRef) -> SourceIdentity | None:
    """The identity the source's last ``source_video`` record was computed for, if any."""
    record = load_record(storage, source, SOURCE_VIDEO.name)
    remembered = record.summary.get(IDENTITY_SUMMARY) if record else None
    return SourceIdentity.model_validate(remembered) if isinstance(remembered, dict) else None


def identity_summary(identity: SourceIdentity) -> dict[str, object]:
    """The part of the ``source_video`` record's summary that remembers ``identity``."""
    return {IDENTITY_SUMMARY: identity.model_dump()}


def remember_identity(storage: Storage, source: SourceRef, record: StageRecord, identity: SourceIdentity) -> None:
    """Keep ``identity`` in the record when reused outputs were found through a new stamp (a touched file), so
    the next run does not hash the same bytes again."""
    if record.summary.get(IDENTITY_SUMMARY) != identity.model_dump():
        update_summary(storage, source, record, identity_summary(identity))
