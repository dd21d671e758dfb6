"""Stage records: the marker, written last, that says a stage's outputs for a source are complete.

A stage's outputs are written atomically one by one; the record is written after all of them and carries a
fingerprint of everything the outputs depend on (inputs, settings, model, code version). A re-run with the
same fingerprint reuses the outputs; any difference, or a missing record, recomputes them. So a crash halfway
never leaves something that a later run takes as complete.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from clipped.layout import SourceRef
from clipped.storage import Storage


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline: its name (the asset key) and the version of the code that computes it.

    Bump ``code_version`` when the stage's outputs change for the same inputs: every source recomputes it.
    """

    name: str
    code_version: str

    def fingerprint(self, *inputs: object) -> str:
        return fingerprint(self.name, self.code_version, *inputs)


@dataclass(frozen=True)
class StageOutputs:
    """What a stage's computation wrote (storage keys) and a summary kept in its record."""

    keys: list[str]
    summary: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class StageResult:
    record: StageRecord
    reused: bool


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
    storage: Storage, source: SourceRef, stage: str, expected_fingerprint: str | None = None
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


def reuse_or_compute(
    storage: Storage,
    source: SourceRef,
    stage: Stage,
    inputs: Sequence[object],
    compute: Callable[[], StageOutputs],
) -> StageResult:
    """Reuse the stage's complete outputs for the same ``inputs``, or compute them and record them as complete.

    ``inputs`` is everything the outputs depend on besides the code (upstream fingerprints, settings, model
    config); ``compute`` writes each output atomically and says which keys it wrote. The record goes last.
    Temp files that a killed earlier run left for this source are swept first (:func:`sweep_source_temps`).
    """
    expected = stage.fingerprint(*inputs)
    sweep_source_temps(storage, source)
    record = load_complete_record(storage, source, stage.name, expected)
    if record is not None:
        return StageResult(record=record, reused=True)
    outputs = compute()
    record = StageRecord(stage=stage.name, fingerprint=expected, outputs=outputs.keys, summary=outputs.summary)
    save_record(storage, source, record)
    return StageResult(record=record, reused=False)


def upstream_fingerprint(storage: Storage, source: SourceRef, stage: Stage) -> str:
    """The fingerprint of an upstream stage's complete outputs (what a downstream fingerprint builds on)."""
    return require_record(storage, source, stage.name).fingerprint


def require_record(storage: Storage, source: SourceRef, stage: str) -> StageRecord:
    """The upstream stage's record; a clear error if it has not completed for this source."""
    record = load_complete_record(storage, source, stage)
    if record is None:
        raise RuntimeError(f"stage {stage!r} has no complete output for {source.partition_key}; materialize it first")
    return record


def save_record(storage: Storage, source: SourceRef, record: StageRecord) -> None:
    storage.write_model(record_key(source, record.stage), record)


def load_record(storage: Storage, source: SourceRef, stage: str) -> StageRecord | None:
    """The stage's last record whatever its fingerprint and outputs (what a stage remembers between runs, such
    as a content hash keyed by what it cost to compute), or None."""
    key = record_key(source, stage)
    return storage.read_model(key, StageRecord) if storage.exists(key) else None


def update_summary(storage: Storage, source: SourceRef, record: StageRecord, summary: dict[str, object]) -> StageRecord:
    """Save ``record`` with ``summary`` merged into its summary; the fingerprint and outputs stay as they are."""
    updated = record.model_copy(update={"summary": {**record.summary, **summary}})
    save_record(storage, source, updated)
    return updated


@runtime_checkable
class SweepsTemps(Protocol):
    """A storage that can remove what writers killed mid-write left behind (the storage resources can)."""

    def sweep_temps(self, prefix: str) -> list[str]: ...


def sweep_source_temps(storage: Storage, source: SourceRef) -> list[str]:
    """Remove the temp files that killed writers left under ``source``'s folder and its clips' folders; the
    storage keeps those of writers still running. Returns what went."""
    if not isinstance(storage, SweepsTemps):
        return []
    prefixes = (source.key(""), f"{source.workspace_id}/clips/{source.video_id}-")
    return [removed for prefix in prefixes for removed in storage.sweep_temps(prefix)]
