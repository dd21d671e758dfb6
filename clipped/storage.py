"""What the domain needs of the storage role, as a Protocol the storage resources satisfy.

The domain reads and writes media and stage outputs by key (see :mod:`clipped.layout`); where the bytes live
(a local folder, S3) is the resources' business.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)


class ObjectInfo(BaseModel):
    """One stored object as a listing sees it; ``version`` changes whenever the content may have changed."""

    key: str
    size: int
    version: str  # S3 ETag, or the local file's mtime in ns


class Storage(Protocol):
    """Keyed, atomic object storage: a reader never sees half an object."""

    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...

    def write_bytes(self, key: str, data: bytes) -> None: ...

    def read_json(self, key: str) -> object: ...

    def write_json(self, key: str, value: object) -> None: ...

    def read_model(self, key: str, model: type[ModelT]) -> ModelT: ...

    def write_model(self, key: str, value: BaseModel) -> None: ...

    def put_file(self, source: Path, key: str) -> None: ...

    def size(self, key: str) -> int: ...

    def list_keys(self, prefix: str) -> list[str]: ...

    def list_objects(self, prefix: str) -> list[ObjectInfo]: ...

    def copy(self, source_key: str, target_key: str) -> None: ...

    def move(self, source_key: str, target_key: str) -> None: ...

    def rename_raw(self, raw_key: str, target_key: str) -> None: ...

    def delete(self, key: str) -> None: ...

    def uri(self, key: str) -> str: ...

    def download(self, key: str, destination: Path) -> None: ...

    def local_path(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A local file with the object's bytes for the duration of the block (downloaded if need be)."""
        ...

    def writer(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A local path to write; published atomically under ``key`` when the block ends without error."""
        ...


class WorkspaceStorage(Storage, Protocol):
    """A view of storage that refuses every key outside one workspace."""

    workspace_id: str


class WorkspacedStorage(Storage, Protocol):
    """Storage that can hand out per-workspace views (what code acting for a user or an inbox should hold)."""

    def for_workspace(self, workspace_id: str) -> WorkspaceStorage: ...
