"""Stage records: the marker, written last, that says a stage's outputs for a source are complete.

A stage's outputs are written atomically one by one; the record is written after all of them and carries a
fingerprint of everything the outputs depend on (inputs, settings, model, code version). A re-run with the
same fingerprint reuses the outputs; any difference, or a missing record, recomputes them. So a crash halfway
never leaves something that a later run takes as complete.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, Field

from clipped.layout import SourceRef
from clipped_resources.storage import StorageResource


class StageRecord(BaseModel):
    stage: str
    fingerprint: str
    outputs: list[str]
    summary: dict[str, object] = Field(default_factory=dict)


def fingerprint(*parts: object) -> str:
    """A stable hash of JSON-able parts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def record_key(source: SourceRef, stage: str) -> str:
    return source.key(f"stages/{stage}.json")


def load_complete_record(
    storage: StorageResource, source: SourceRef, stage: str, expected_fingerprint: str | None = None
) -> StageRecord | None:
    """The stage's record if the stage completed (with ``expected_fingerprint``, if given) and its outputs exist."""
    key = record_key(source, stage)
    if not storage.exists(key):
        return None
    record = storage.read_model(key, StageRecord)
    if expected_fingerprint is not None and record.fingerprint != expected_fingerprint:
        return None
    if not all(storage.exists(output) for output in record.outputs):
        return None
    return record


def require_record(storage: StorageResource, source: SourceRef, stage: str) -> StageRecord:
    """The upstream stage's record; a clear error if it has not completed for this source."""
    record = load_complete_record(storage, source, stage)
    if record is None:
        raise RuntimeError(f"stage {stage!r} has no complete output for {source.partition_key}; materialize it first")
    return record


def save_record(storage: StorageResource, source: SourceRef, record: StageRecord) -> None:
    storage.write_model(record_key(source, record.stage), record)
