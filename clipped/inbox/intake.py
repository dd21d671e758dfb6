"""One pass over the inboxes: settle, validate, dedupe by content, claim or quarantine. Plain code, no Dagster.

Crash safety: everything a pass writes is idempotent and keyed by content, and an accepted file is removed from
the inbox only on the *next* pass, after the pass that claimed it was committed (its cursor came back). So a pass
that dies halfway is simply done again; the run itself is deduplicated by its run key (the partition key).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from clipped.inbox.readiness import (
    MARKER_SUFFIX,
    ClaimedFile,
    InboxCursor,
    SeenFile,
    is_candidate_name,
    split_ready,
)
from clipped.inbox.validation import Rejection, check_name_and_size, probe_upload
from clipped.ingest.prepare import sha256_of
from clipped.ingest.probe import MediaLimits
from clipped.layout import SourceRef, video_id_for
from clipped.sources import REQUEST_FILE, SourceRequest
from clipped.types import ClipSettings
from clipped_resources.storage import ObjectInfo, StorageKeyError, StorageResource, WorkspaceStorage, check_key

REASON_SUFFIX = ".reason.json"


@dataclass(frozen=True)
class InboxSettings:
    workspace_ids: list[str]
    allowed_extensions: list[str]
    max_upload_bytes: int
    min_stable_s: float = 10.0
    max_files_per_pass: int = 5
    clip_settings: ClipSettings = field(default_factory=ClipSettings)
    media_limits: MediaLimits = field(default_factory=MediaLimits)


@dataclass(frozen=True)
class AcceptedUpload:
    source: SourceRef
    inbox_key: str
    content_sha256: str


@dataclass(frozen=True)
class QuarantinedUpload:
    inbox_key: str
    quarantine_key: str
    rejection: Rejection


@dataclass
class InboxPass:
    """What one pass did; ``cursor`` is what the next pass starts from."""

    cursor: InboxCursor
    accepted: list[AcceptedUpload] = field(default_factory=list)
    quarantined: list[QuarantinedUpload] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unusable_keys: list[str] = field(default_factory=list)


class ContentRecord(BaseModel):
    """``{ws}/uploads/by-content/{sha256}.json``: which partition a content became (the dedupe index)."""

    partition_key: str
    first_inbox_key: str
    accepted_at: str


def inbox_prefix(workspace_id: str) -> str:
    return f"{workspace_id}/inbox"


def content_record_key(workspace_id: str, content_sha256: str) -> str:
    return f"{workspace_id}/uploads/by-content/{content_sha256}.json"


def run_inbox_pass(
    storage: StorageResource,
    settings: InboxSettings,
    cursor: InboxCursor,
    is_registered: Callable[[str], bool],
    now: float | None = None,
) -> InboxPass:
    """Scan every configured workspace's inbox once.

    ``is_registered(partition_key)`` says whether a partition already exists (a content seen before whose
    partition exists is a duplicate; one whose partition does not yet exist is claimed again).
    """
    now = time.time() if now is None else now
    result = InboxPass(cursor=InboxCursor())
    for workspace_id in settings.workspace_ids:
        _WorkspacePass(storage.for_workspace(workspace_id), settings, cursor, is_registered, now, result).run()
    return result


class _WorkspacePass:
    def __init__(
        self,
        view: WorkspaceStorage,
        settings: InboxSettings,
        previous: InboxCursor,
        is_registered: Callable[[str], bool],
        now: float,
        result: InboxPass,
    ) -> None:
        self.view, self.settings, self.previous = view, settings, previous
        self.is_registered, self.now, self.result = is_registered, now, result
        self.workspace_id = view.workspace_id
        self.hashes_this_pass: set[str] = set()

    def run(self) -> None:
        listing = self.usable(self.view.list_objects(inbox_prefix(self.workspace_id)))
        keys = {info.key for info in listing}
        markers = {key.removesuffix(MARKER_SUFFIX) for key in keys if key.endswith(MARKER_SUFFIX)}
        files = [info for info in listing if is_candidate_name(info.key)]
        files = [info for info in files if not self.remove_if_claimed(info, keys)]
        ready, waiting = split_ready(files, markers, self.previous.seen, self.now, self.settings.min_stable_s)
        self.result.cursor.seen.update(waiting)
        self.result.waiting.extend(waiting)
        for index, info in enumerate(ready):
            if index >= self.settings.max_files_per_pass:  # the rest stay ready for the next pass
                self.result.cursor.seen[info.key] = self.previous.seen.get(info.key) or _seen(info, self.now)
                continue
            self.take(info, has_marker=info.key in markers)

    def usable(self, listing: list[ObjectInfo]) -> list[ObjectInfo]:
        """Keys the storage layout allows; others (spaces, odd characters) are reported, never touched."""
        usable = []
        for info in listing:
            try:
                check_key(info.key, self.workspace_id)
            except StorageKeyError:
                self.result.unusable_keys.append(info.key)
                continue
            usable.append(info)
        return usable

    def remove_if_claimed(self, info: ObjectInfo, keys: set[str]) -> bool:
        """An inbox file claimed by a committed pass: its bytes live under the source now, so it goes."""
        claim = self.previous.claimed.get(info.key)
        if claim is None or claim.version != info.version:
            return False  # never claimed, or replaced by new content under the same name
        self.view.delete(info.key)
        if info.key + MARKER_SUFFIX in keys:
            self.view.delete(info.key + MARKER_SUFFIX)
        self.result.removed.append(info.key)
        return True

    def take(self, info: ObjectInfo, *, has_marker: bool) -> None:
        name = info.key.rsplit("/", 1)[-1]
        rejection = check_name_and_size(
            name, info.size, self.settings.allowed_extensions, self.settings.max_upload_bytes
        )
        content_sha256 = ""
        if rejection is None:
            with self.view.local_path(info.key) as path:
                rejection = probe_upload(path, self.settings.media_limits)
                content_sha256 = sha256_of(path) if rejection is None else ""
        if rejection is None:
            rejection = self.claim(info, name, content_sha256)
        if rejection is not None:
            self.quarantine(info, name, rejection)
        if has_marker and rejection is not None:
            self.view.delete(info.key + MARKER_SUFFIX)

    def claim(self, info: ObjectInfo, name: str, content_sha256: str) -> Rejection | None:
        """Make the file a source (idempotently), or say why it is a duplicate."""
        record_key = content_record_key(self.workspace_id, content_sha256)
        record = self.view.read_model(record_key, ContentRecord) if self.view.exists(record_key) else None
        if content_sha256 in self.hashes_this_pass or (record and self.is_registered(record.partition_key)):
            known = record.partition_key if record else "a file in this pass"
            return Rejection("duplicate", f"same content as {known}; it is processed once")
        if record is None:
            video_id = video_id_for(Path(name).stem, f"sha256:{content_sha256}")
            record = ContentRecord(
                partition_key=SourceRef(self.workspace_id, video_id).partition_key,
                first_inbox_key=info.key,
                accepted_at=datetime.now(UTC).isoformat(),
            )
            self.view.write_model(record_key, record)
        source = SourceRef.from_partition_key(record.partition_key)
        upload_key = source.key("upload" + Path(name).suffix.lower())
        if not self.view.exists(upload_key):
            self.view.copy(info.key, upload_key)
        request = SourceRequest(
            kind="upload", location=upload_key, display_name=Path(name).stem, settings=self.settings.clip_settings
        )
        self.view.write_model(source.key(REQUEST_FILE), request)
        self.hashes_this_pass.add(content_sha256)
        self.result.cursor.claimed[info.key] = ClaimedFile(version=info.version, partition_key=record.partition_key)
        self.result.accepted.append(AcceptedUpload(source, info.key, content_sha256))
        return None

    def quarantine(self, info: ObjectInfo, name: str, rejection: Rejection) -> None:
        """Move the file aside with a reason file beside it; the bytes are kept as they were."""
        relative = info.key.removeprefix(inbox_prefix(self.workspace_id) + "/").replace("/", "-")
        target = f"{self.workspace_id}/quarantine/{relative}"
        if self.view.exists(target):
            stamp = datetime.fromtimestamp(self.now, UTC).strftime("%Y%m%dT%H%M%S")
            target = f"{self.workspace_id}/quarantine/{stamp}-{relative}"
        reason = {
            "code": rejection.code,
            "reason": rejection.reason,
            "inbox_key": info.key,
            "size_bytes": info.size,
            "quarantined_at": datetime.fromtimestamp(self.now, UTC).isoformat(),
        }
        self.view.write_json(target + REASON_SUFFIX, reason)  # first: a crash before the move only repeats it
        self.view.move(info.key, target)
        self.result.quarantined.append(QuarantinedUpload(info.key, target, rejection))


def _seen(info: ObjectInfo, now: float) -> SeenFile:
    return SeenFile(size=info.size, version=info.version, since=now)
