"""One pass over the inboxes: settle, validate, dedupe by content, claim or quarantine. Plain code, no Dagster.

Crash safety: everything a pass writes is idempotent and keyed by content, and an accepted file is removed from
the inbox only on the *next* pass, after the pass that claimed it was committed (its cursor came back). So a pass
that dies halfway is simply done again; the run itself is deduplicated by its run key (the partition key).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from clipped.inbox.naming import candidate_names, name_hash, printable_name, safe_name
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
from clipped.layout import REQUEST_FILE, InvalidKeyError, SourceRef, check_key, check_raw_inbox_key, video_id_for
from clipped.sources import SourceRequest
from clipped.storage import ObjectInfo, WorkspacedStorage, WorkspaceStorage
from clipped.types import ClipSettings

REASON_SUFFIX = ".reason.json"
# Cursor keys for files still under their raw names: a hash, since a raw name may not even be valid UTF-8.
RAW_SEEN_PREFIX = "raw:"


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
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (original key, safe key)
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
    storage: WorkspacedStorage,
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
        listing, raw_listing = self.split_by_name(self.view.list_objects(inbox_prefix(self.workspace_id)))
        keys = {info.key for info in listing}
        self.result.cursor.original_names.update(
            {key: name for key, name in self.previous.original_names.items() if key in keys}
        )
        self.rename_raw_files(raw_listing)
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

    def split_by_name(self, listing: list[ObjectInfo]) -> tuple[list[ObjectInfo], list[ObjectInfo]]:
        """Keys the storage layout allows, and raw names as people dropped them (spaces, unicode, parentheses)."""
        usable, raw = [], []
        for info in listing:
            try:
                check_key(info.key, self.workspace_id)
            except InvalidKeyError:
                raw.append(info)
                continue
            usable.append(info)
        return usable, raw

    def rename_raw_files(self, raw_listing: list[ObjectInfo]) -> None:
        """Once a raw-named file has settled (same rule as any file), give it a safe name in the same folder.

        The renamed file goes through settle, validation and dedupe like any other on a later pass. A name with
        nothing usable goes to quarantine under a generated name; one the storage refuses (a folder with an odd
        name, a traversal, a link out of the inbox) is reported and never touched.
        """
        by_token = {_raw_token(info.key): info for info in raw_listing if is_candidate_name(info.key)}
        raw_keys = {info.key for info in raw_listing}
        markers = {token for token, info in by_token.items() if info.key + MARKER_SUFFIX in raw_keys}
        stand_ins = [info.model_copy(update={"key": token}) for token, info in by_token.items()]
        ready, waiting = split_ready(stand_ins, markers, self.previous.seen, self.now, self.settings.min_stable_s)
        self.result.cursor.seen.update(waiting)
        self.result.waiting.extend(printable_name(by_token[token].key) for token in waiting)
        for stand_in in ready:
            info, has_marker = by_token[stand_in.key], stand_in.key in markers
            since = self.previous.seen[stand_in.key].since if stand_in.key in self.previous.seen else self.now
            try:
                self.give_safe_name(info, has_marker, since)
            except (InvalidKeyError, FileNotFoundError, FileExistsError) as exc:
                self.result.unusable_keys.append(f"{printable_name(info.key)} ({exc})")

    def give_safe_name(self, info: ObjectInfo, has_marker: bool, since: float) -> None:
        folder, raw_name = check_raw_inbox_key(info.key)
        base = safe_name(raw_name)
        if base is None:
            self.quarantine_raw(info, raw_name)
            return
        target = self.free_key(folder, raw_name, base)
        self.view.rename_raw(info.key, target)
        self.result.renamed.append((printable_name(info.key), target))
        self.result.cursor.original_names[target] = printable_name(raw_name)
        if has_marker:
            with contextlib.suppress(FileExistsError):  # the safe name has its marker already
                self.view.rename_raw(info.key + MARKER_SUFFIX, target + MARKER_SUFFIX)
        else:  # it has settled already: the next pass takes it unless it changes
            self.result.cursor.seen[target] = SeenFile(size=info.size, version=info.version, since=since)

    def free_key(self, folder: str, raw_name: str, base: str) -> str:
        """The safe name if nothing has it yet, else the first free variant with a hash of the original name."""
        for name in candidate_names(raw_name, base):
            if not self.view.exists(f"{folder}/{name}"):
                return f"{folder}/{name}"
        raise FileExistsError(f"every safe name for {printable_name(raw_name)!r} is taken")

    def quarantine_raw(self, info: ObjectInfo, raw_name: str) -> None:
        """A name with no letters, digits or extension left: quarantined under a generated name."""
        generated = f"unnamed-{name_hash(raw_name)}"
        rejection = Rejection("bad_name", "the file name has no letters, digits or extension to make a safe name of")
        target = self.quarantine_target(generated)
        self.view.write_json(
            target + REASON_SUFFIX, self.reason(rejection, printable_name(info.key), info.size, raw_name)
        )
        self.view.rename_raw(info.key, target)
        self.result.quarantined.append(QuarantinedUpload(printable_name(info.key), target, rejection))

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
        display_name = Path(self.previous.original_names.get(info.key, name)).stem
        if record is None:
            video_id = video_id_for(Path(name).stem, f"sha256:{content_sha256}")  # the safe name's ASCII slug
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
            kind="upload", location=upload_key, display_name=display_name, settings=self.settings.clip_settings
        )
        self.view.write_model(source.key(REQUEST_FILE), request)
        self.hashes_this_pass.add(content_sha256)
        self.result.cursor.claimed[info.key] = ClaimedFile(version=info.version, partition_key=record.partition_key)
        self.result.accepted.append(AcceptedUpload(source, info.key, content_sha256))
        return None

    def quarantine(self, info: ObjectInfo, name: str, rejection: Rejection) -> None:
        """Move the file aside with a reason file beside it; the bytes are kept as they were."""
        relative = info.key.removeprefix(inbox_prefix(self.workspace_id) + "/").replace("/", "-")
        target = self.quarantine_target(relative)
        reason = self.reason(rejection, info.key, info.size, self.previous.original_names.get(info.key))
        self.view.write_json(target + REASON_SUFFIX, reason)  # first: a crash before the move only repeats it
        self.view.move(info.key, target)
        self.result.quarantined.append(QuarantinedUpload(info.key, target, rejection))

    def quarantine_target(self, name: str) -> str:
        target = f"{self.workspace_id}/quarantine/{name}"
        if self.view.exists(target):
            stamp = datetime.fromtimestamp(self.now, UTC).strftime("%Y%m%dT%H%M%S")
            target = f"{self.workspace_id}/quarantine/{stamp}-{name}"
        return target

    def reason(self, rejection: Rejection, inbox_key: str, size: int, original_name: str | None) -> dict[str, object]:
        reason: dict[str, object] = {
            "code": rejection.code,
            "reason": rejection.reason,
            "inbox_key": inbox_key,
            "size_bytes": size,
            "quarantined_at": datetime.fromtimestamp(self.now, UTC).isoformat(),
        }
        if original_name is not None:
            reason["original_name"] = printable_name(original_name)
        return reason


def _raw_token(raw_key: str) -> str:
    return RAW_SEEN_PREFIX + hashlib.sha256(raw_key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _seen(info: ObjectInfo, now: float) -> SeenFile:
    return SeenFile(size=info.size, version=info.version, since=now)
