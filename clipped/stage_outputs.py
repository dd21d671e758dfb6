"""Typed reads of what earlier stages stored for a source."""

from __future__ import annotations

from clipped.layout import CANDIDATES_FILE, REQUEST_FILE, SourceRef
from clipped.sources import SourceRequest
from clipped.storage import Storage
from clipped.types import Candidate


def read_request(storage: Storage, source: SourceRef) -> SourceRequest:
    """The request the source was registered with; a clear error when it was never registered."""
    key = source.key(REQUEST_FILE)
    if not storage.exists(key):
        raise FileNotFoundError(f"no source request for partition {source.partition_key} (register it first)")
    return storage.read_model(key, SourceRequest)


def read_candidates(storage: Storage, source: SourceRef) -> list[Candidate]:
    """The scored candidate windows, best first."""
    return [Candidate.model_validate(item) for item in storage.read_json(source.key(CANDIDATES_FILE))]
