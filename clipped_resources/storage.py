"""The storage role: every media file and stage output goes through it, under ``{workspace_id}/`` prefixes.

Writes are atomic (temp file, then rename), so a reader never sees half a file and a crashed step leaves
nothing that looks complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from dagster import ConfigurableResource
from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class StorageKeyError(ValueError):
    """A key that would escape the storage layout (absolute, '..', odd characters, wrong workspace)."""


def check_key(key: str, workspace_id: str | None = None) -> str:
    """Validate a storage key; with ``workspace_id``, also require that it lies in that workspace."""
    parts = key.split("/")
    if not key or any(not _SEGMENT.match(part) or part in {".", ".."} for part in parts):
        raise StorageKeyError(f"invalid storage key {key!r}")
    if workspace_id is not None and parts[0] != workspace_id:
        raise StorageKeyError(f"storage key {key!r} is outside workspace {workspace_id!r}")
    return key


class StorageResource(ConfigurableResource):
    """Interface of the storage role; implementations differ only in where bytes live."""

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def read_bytes(self, key: str) -> bytes:
        raise NotImplementedError

    def write_bytes(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    def put_file(self, source: Path, key: str) -> None:
        """Publish a local file under ``key`` atomically."""
        raise NotImplementedError

    def size(self, key: str) -> int:
        raise NotImplementedError

    def list_keys(self, prefix: str) -> list[str]:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def uri(self, key: str) -> str:
        """A link a person can open (shown in Dagster metadata)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        """A local file with the object's content, for tools like ffmpeg that need a path."""
        raise NotImplementedError
        yield  # pragma: no cover

    def download(self, key: str, destination: Path) -> None:
        """Copy the object to a local file (streamed; big media never sits in memory)."""
        with self.local_path(key) as path:
            shutil.copyfile(path, destination)

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[Path]:
        """A local path to write to; published atomically under ``key`` only if the block succeeds."""
        suffix = Path(key).suffix
        with tempfile.TemporaryDirectory(prefix="clipped-") as scratch:
            path = Path(scratch) / f"out{suffix}"
            yield path
            self.put_file(path, key)

    def read_json(self, key: str) -> object:
        return json.loads(self.read_bytes(key))

    def write_json(self, key: str, value: object) -> None:
        self.write_bytes(key, json.dumps(value, indent=2, sort_keys=True).encode())

    def read_model(self, key: str, model: type[ModelT]) -> ModelT:
        return model.model_validate_json(self.read_bytes(key))

    def write_model(self, key: str, value: BaseModel) -> None:
        self.write_bytes(key, value.model_dump_json(indent=1).encode())


class LocalStorage(StorageResource):
    """Storage in a local folder (the embedded default)."""

    root: str

    def _path(self, key: str) -> Path:
        return Path(self.root).resolve() / check_key(key)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def write_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        with self._atomic_target(target) as temp:
            temp.write_bytes(data)

    def put_file(self, source: Path, key: str) -> None:
        target = self._path(key)
        with self._atomic_target(target) as temp:
            try:
                os.link(source, temp)  # free for big media on the same filesystem
            except OSError:
                shutil.copyfile(source, temp)

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def list_keys(self, prefix: str) -> list[str]:
        base = Path(self.root).resolve()
        folder = base / prefix.rstrip("/")
        if not folder.is_dir():
            return []
        return sorted(
            str(path.relative_to(base)) for path in folder.rglob("*") if path.is_file() and ".tmp-" not in path.name
        )

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"storage key {key!r} does not exist")
        yield path

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[Path]:
        target = self._path(key)
        with self._atomic_target(target) as temp:
            yield temp

    @staticmethod
    @contextlib.contextmanager
    def _atomic_target(target: Path) -> Iterator[Path]:
        """Yield a temp path beside ``target``; rename it over ``target`` on success, remove it on failure."""
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.stem}.tmp-{uuid.uuid4().hex[:8]}{target.suffix}")
        try:
            yield temp
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
