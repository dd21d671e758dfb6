"""When a dropped file is complete: its size and version unchanged since an earlier tick, or a ``.done`` marker.

A local copy in progress keeps changing size and mtime; an S3 object is only listed once its upload completed,
but the same rule covers someone overwriting it. The marker lets an uploader say "complete" without waiting.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from clipped.storage import ObjectInfo

MARKER_SUFFIX = ".done"
# Names that file copiers and browsers use while a file is still being written.
IN_PROGRESS_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".uploading")


class SeenFile(BaseModel):
    """A file as an earlier tick saw it, and since when it has looked exactly like this."""

    size: int
    version: str
    since: float


class ClaimedFile(BaseModel):
    """A file accepted as a source: its bytes were copied to the source's prefix; the next tick removes it."""

    version: str
    partition_key: str


class InboxCursor(BaseModel):
    """The sensor's cursor: everything it needs to remember between ticks (keys are full storage keys)."""

    seen: dict[str, SeenFile] = Field(default_factory=dict)
    claimed: dict[str, ClaimedFile] = Field(default_factory=dict)
    # Files the inbox renamed to a safe key: safe key -> the name they were dropped under (for people to read).
    original_names: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> InboxCursor:
        """The cursor a tick left; an unreadable one starts afresh (files settle again, nothing is lost)."""
        if not text:
            return cls()
        try:
            return cls.model_validate_json(text)
        except ValueError:
            return cls()

    def dump(self) -> str:
        return self.model_dump_json()


def is_candidate_name(key: str) -> bool:
    """Files the inbox considers at all: not markers, reason files or names of unfinished copies."""
    name = key.rsplit("/", 1)[-1]
    return not (name.startswith(".") or name.endswith(MARKER_SUFFIX) or name.lower().endswith(IN_PROGRESS_SUFFIXES))


def split_ready(
    files: list[ObjectInfo], markers: set[str], previous: dict[str, SeenFile], now: float, min_stable_s: float
) -> tuple[list[ObjectInfo], dict[str, SeenFile]]:
    """Files ready to take, and what to remember about the ones still settling.

    Ready: a ``<key>.done`` marker exists, or the file had the same size and version on an earlier tick at
    least ``min_stable_s`` ago. Everything else is (re)recorded and waits.
    """
    ready: list[ObjectInfo] = []
    waiting: dict[str, SeenFile] = {}
    for info in files:
        before = previous.get(info.key)
        unchanged = before is not None and before.size == info.size and before.version == info.version
        since = before.since if unchanged and before is not None else now
        if info.key in markers or (unchanged and now - since >= min_stable_s):
            ready.append(info)
        else:
            waiting[info.key] = SeenFile(size=info.size, version=info.version, since=since)
    return ready, waiting
