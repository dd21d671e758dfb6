"""The storage role: every media file and stage output goes through it, under ``{workspace_id}/`` prefixes.

Writes are atomic (temp file, then rename), so a reader never sees half a file and a crashed step leaves
nothing that looks complete.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, TypeVar

from dagster import ConfigurableResource
from pydantic import BaseModel, Field

from clipped.layout import InvalidKeyError, check_key, check_raw_inbox_key
from clipped.review_links import DEFAULT_REVIEW_APP_URL
from clipped.storage import ObjectInfo

ModelT = TypeVar("ModelT", bound=BaseModel)
# What a presigned upload may carry: the containers ingest accepts, nothing a browser could render as a page.
VIDEO_CONTENT_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm", "video/x-matroska"})
# A temp file whose writer cannot be told dead (another host, an older name) is removed once it is this old.
STALE_TEMP_S = 6 * 3600


@dataclass(frozen=True)
class WriterProcess:
    """A process as temp names and run tags record it: this host (a short hash of its name), the pid, and the
    pid's start time (clock ticks since boot; 0 where unknown), so a pid reused by a later process is told apart.
    """

    host: str
    pid: int
    started: int

    _TOKEN = re.compile(r"h(?P<host>[0-9a-f]{6})p(?P<pid>[0-9]+)s(?P<started>[0-9]+)")

    @classmethod
    def current(cls) -> WriterProcess:
        return _process(os.getpid())  # keyed by pid: a forked child is another process

    @property
    def token(self) -> str:
        """The form temp names carry: ``h<host>p<pid>s<started>``."""
        return f"h{self.host}p{self.pid}s{self.started}"

    @classmethod
    def from_name(cls, name: str) -> WriterProcess | None:
        """The writer named in a temp file or folder name, or None for a name without one."""
        found = cls._TOKEN.search(name)
        if found is None:
            return None
        return cls(found["host"], int(found["pid"]), int(found["started"]))

    def is_gone(self) -> bool:
        """True only when this process certainly no longer runs: it ran on this host and its pid is free, a
        zombie, or now another process. A process of another host is never taken as gone."""
        if self.host != this_host():
            return False
        if Path("/proc/self/stat").exists():
            started = process_start_ticks(self.pid)
            return started is None or (self.started != 0 and started != self.started)
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # someone else's process: alive
            return False
        return False


@functools.cache
def _process(pid: int) -> WriterProcess:
    return WriterProcess(this_host(), pid, process_start_ticks(pid) or 0)


@functools.cache
def this_host() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def process_start_ticks(pid: int) -> int | None:
    """When ``pid`` started (``/proc/<pid>/stat`` field 22), or None when no such live process (or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces and parentheses
    if not fields or fields[0] == "Z":
        return None
    return int(fields[19])


def is_stale_temp(path: Path, older_than_s: float, now: float | None = None) -> bool:
    """Whether a temp file or folder was left by a writer that is gone, or is older than ``older_than_s``."""
    writer = WriterProcess.from_name(path.name)
    if writer is not None and writer.is_gone():
        return True
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return False
    return age > older_than_s


def check_range(start: int, length: int) -> None:
    """Refuse a byte range no store could serve the same way (negative offsets or lengths)."""
    if start < 0 or length < 0:
        raise ValueError(f"byte range needs start >= 0 and length >= 0, got start={start} length={length}")


class PresignedUpload(BaseModel):
    """A time-limited upload a client sends straight to storage (the app never receives the body).

    For ``method == "POST"`` the client sends a multipart form: every ``fields`` item, then the file as ``file``
    (last). The storage refuses a body over ``max_bytes`` or with another content type than ``content_type``.
    """

    url: str
    method: Literal["POST", "PUT"]
    key: str
    fields: dict[str, str]
    headers: dict[str, str]
    content_type: str
    max_bytes: int
    expires_at: datetime


class StorageResource(ConfigurableResource):
    """Interface of the storage role; implementations differ only in where bytes live.

    Keys are checked for shape on every call; :meth:`for_workspace` gives a view that also refuses any key
    outside one workspace, which is what code acting for a user or an inbox should hold.
    """

    review_app_url: str = Field(
        default=DEFAULT_REVIEW_APP_URL,
        description="The review app (`clipped api`) whose pages the Dagster UI links to for what is stored here",
    )

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def read_bytes(self, key: str) -> bytes:
        raise NotImplementedError

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes from offset ``start``: fewer at the end of the object, none past it.

        For HTTP Range responses and sniffing headers without fetching a whole video. A missing key raises
        FileNotFoundError, like the other reads.
        """
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

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        """Like :meth:`list_keys`, with each object's size and version (one listing call where the store allows)."""
        raise NotImplementedError

    def object_info(self, key: str) -> ObjectInfo:
        """One object's size and version (as :meth:`list_objects` gives them); FileNotFoundError when missing."""
        folder = key.rpartition("/")[0]
        for info in self.list_objects(folder):
            if info.key == key:
                return info
        raise FileNotFoundError(f"storage key {key!r} does not exist")

    def copy(self, source_key: str, target_key: str) -> None:
        """Publish a copy of ``source_key`` under ``target_key`` atomically (server-side where possible)."""
        with self.local_path(source_key) as path:
            self.put_file(path, target_key)

    def move(self, source_key: str, target_key: str) -> None:
        """Copy, then delete the source: the target is complete before the source goes away."""
        self.copy(source_key, target_key)
        self.delete(source_key)

    def rename_raw(self, raw_key: str, target_key: str) -> None:
        """Give an inbox object whose name the key rules refuse a valid key, in the same workspace.

        ``raw_key`` must pass :func:`check_raw_inbox_key`, ``target_key`` :func:`check_key`. An existing target is
        never overwritten (FileExistsError); the object is under the target before the raw name goes away.
        This is the only call that accepts a raw name: everything else works on valid keys.
        """
        raise NotImplementedError

    def uri(self, key: str) -> str:
        """A link a person can open (shown in Dagster metadata)."""
        raise NotImplementedError

    def sweep_temps(self, prefix: str, older_than_s: float = STALE_TEMP_S) -> list[str]:
        """Remove what writers of keys starting with ``prefix`` left behind when they were killed mid-write: temp
        files whose writer process is gone, and any older than ``older_than_s``; a live writer's are kept.
        Returns what was removed. Stages call it when they start (:func:`clipped.stage_record.sweep_source_temps`).
        """
        return []

    def presigned_get(self, key: str, expires_s: int | None = None) -> str | None:
        """A time-limited download URL, or None where the store has none (serve the bytes through the app)."""
        return None

    def presigned_put(
        self, key: str, content_type: str, max_bytes: int | None = None, expires_s: int | None = None
    ) -> PresignedUpload | None:
        """A time-limited direct upload of one video, or None where the store has none (upload through the app)."""
        return None

    def for_workspace(self, workspace_id: str) -> WorkspaceStorage:
        """A view of this storage that refuses every key outside ``workspace_id``."""
        return WorkspaceStorage(self, workspace_id)

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

    def read_range(self, key: str, start: int, length: int) -> bytes:
        check_range(start, length)
        path = self._path(key)
        if not path.is_file():  # a folder of that name is no object either
            raise FileNotFoundError(f"storage key {key!r} does not exist")
        with path.open("rb") as handle:
            handle.seek(start)
            return handle.read(length)

    def write_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        with self._atomic_target(target) as temp:
            temp.write_bytes(data)

    def put_file(self, source: Path, key: str) -> None:
        """Hard-linked where it can be: the caller hands ``source`` over (a temp file) and never rewrites it."""
        target = self._path(key)
        with self._atomic_target(target) as temp:
            try:
                os.link(source, temp)  # free for big media on the same filesystem
            except OSError:
                shutil.copyfile(source, temp)

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def list_keys(self, prefix: str) -> list[str]:
        return [path_key for path_key, _ in self._files_under(prefix)]

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        objects = []
        for key, path in self._files_under(prefix):
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed between listing and stat
                continue
            objects.append(ObjectInfo(key=key, size=stat.st_size, version=str(stat.st_mtime_ns)))
        return objects

    def object_info(self, key: str) -> ObjectInfo:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"storage key {key!r} does not exist")
        stat = path.stat()
        return ObjectInfo(key=key, size=stat.st_size, version=str(stat.st_mtime_ns))

    def copy(self, source_key: str, target_key: str) -> None:
        source = self._path(source_key)
        if not source.is_file():
            raise FileNotFoundError(f"storage key {source_key!r} does not exist")
        # Bytes, never a hard link: an inbox file rewritten in place by hand would change the copy with it.
        with self._atomic_target(self._path(target_key)) as temp:
            shutil.copyfile(source, temp)

    def move(self, source_key: str, target_key: str) -> None:
        source, target = self._path(source_key), self._path(target_key)
        if not source.is_file():
            raise FileNotFoundError(f"storage key {source_key!r} does not exist")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)  # one rename: never two copies, never none

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def rename_raw(self, raw_key: str, target_key: str) -> None:
        source, target = self._raw_path(raw_key, target_key), self._path(target_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)  # fails if the target exists: no overwrite, and the same inode (no copy)
        except FileExistsError:
            raise FileExistsError(f"storage key {target_key!r} already exists") from None
        except OSError:  # a filesystem without hard links: a rename keeps the inode too, after a look first
            if target.exists():
                raise FileExistsError(f"storage key {target_key!r} already exists") from None
            os.rename(source, target)
            return
        source.unlink()

    def _raw_path(self, raw_key: str, target_key: str) -> Path:
        """The file behind a raw inbox key, refused unless it resolves to a file directly in that inbox folder."""
        folder_key, name = check_raw_inbox_key(raw_key)
        if check_key(target_key).split("/")[0] != folder_key.split("/")[0]:
            raise InvalidKeyError(f"{target_key!r} is in another workspace than {raw_key!r}")
        folder = self._path(folder_key)
        source = folder / name
        if not source.is_file() and not source.is_symlink():
            raise FileNotFoundError(f"raw key {raw_key!r} does not exist")
        # A backslash, a symlink or any other trick must not reach outside the folder the name was listed in.
        if source.resolve().parent != folder.resolve():
            raise InvalidKeyError(f"raw key {raw_key!r} resolves outside its inbox folder")
        if not source.is_file():
            raise FileNotFoundError(f"raw key {raw_key!r} does not exist")
        return source

    def _files_under(self, prefix: str) -> list[tuple[str, Path]]:
        base = Path(self.root).resolve()
        folder = base / check_key(prefix.rstrip("/"))
        if not folder.is_dir():
            return []
        return sorted(
            (str(path.relative_to(base)), path)
            for path in folder.rglob("*")
            if path.is_file() and ".tmp-" not in path.name
        )

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def sweep_temps(self, prefix: str, older_than_s: float = STALE_TEMP_S) -> list[str]:
        base = Path(self.root).resolve()
        folder_key, _, start = prefix.rpartition("/")
        if not folder_key:  # a bare workspace: all of it
            folder_key, start = prefix, ""
        folder = base / check_key(folder_key)
        if not folder.is_dir():
            return []
        removed = []
        for entry in folder.iterdir():
            if not entry.name.startswith(start):
                continue
            for path in entry.rglob("*") if entry.is_dir() else [entry]:
                if _TEMP_NAME.match(path.name) and path.is_file() and is_stale_temp(path, older_than_s):
                    path.unlink(missing_ok=True)
                    removed.append(str(path.relative_to(base)))
        return removed

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
        # The writer's process in the name: a sweep can tell the temp of a killed run from one being written.
        writer = WriterProcess.current().token
        temp = target.with_name(f".{target.stem}.tmp-{writer}-{uuid.uuid4().hex[:8]}{target.suffix}")
        try:
            yield temp
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)


# What _atomic_target names its temps (and older builds did, without the writer).
_TEMP_NAME = re.compile(r"^\..+\.tmp-[0-9a-z-]+(\.[^.]*)?$")


class WorkspaceStorage:
    """One workspace's view of a storage: every key must lie under ``{workspace_id}/``, or the call is refused.

    Not a resource: code acting for one workspace (an inbox, an API request) builds it with
    ``storage.for_workspace(workspace_id)`` and never touches keys of another workspace by mistake.
    """

    def __init__(self, storage: StorageResource, workspace_id: str) -> None:
        check_key(workspace_id)
        self.storage = storage
        self.workspace_id = workspace_id

    def check(self, key: str) -> str:
        return check_key(key, self.workspace_id)

    def exists(self, key: str) -> bool:
        return self.storage.exists(self.check(key))

    def read_bytes(self, key: str) -> bytes:
        return self.storage.read_bytes(self.check(key))

    def read_range(self, key: str, start: int, length: int) -> bytes:
        return self.storage.read_range(self.check(key), start, length)

    def write_bytes(self, key: str, data: bytes) -> None:
        self.storage.write_bytes(self.check(key), data)

    def read_json(self, key: str) -> object:
        return self.storage.read_json(self.check(key))

    def write_json(self, key: str, value: object) -> None:
        self.storage.write_json(self.check(key), value)

    def read_model(self, key: str, model: type[ModelT]) -> ModelT:
        return self.storage.read_model(self.check(key), model)

    def write_model(self, key: str, value: BaseModel) -> None:
        self.storage.write_model(self.check(key), value)

    def put_file(self, source: Path, key: str) -> None:
        self.storage.put_file(source, self.check(key))

    def size(self, key: str) -> int:
        return self.storage.size(self.check(key))

    def list_keys(self, prefix: str) -> list[str]:
        return self.storage.list_keys(self.check(prefix.rstrip("/")))

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        return self.storage.list_objects(self.check(prefix.rstrip("/")))

    def object_info(self, key: str) -> ObjectInfo:
        return self.storage.object_info(self.check(key))

    def copy(self, source_key: str, target_key: str) -> None:
        self.storage.copy(self.check(source_key), self.check(target_key))

    def move(self, source_key: str, target_key: str) -> None:
        self.storage.move(self.check(source_key), self.check(target_key))

    def delete(self, key: str) -> None:
        self.storage.delete(self.check(key))

    def rename_raw(self, raw_key: str, target_key: str) -> None:
        folder, _ = check_raw_inbox_key(raw_key)
        self.check(folder)
        self.storage.rename_raw(raw_key, self.check(target_key))

    def uri(self, key: str) -> str:
        return self.storage.uri(self.check(key))

    def sweep_temps(self, prefix: str, older_than_s: float = STALE_TEMP_S) -> list[str]:
        folder = prefix.rstrip("/")
        return self.storage.sweep_temps(self.check(folder) + prefix[len(folder) :], older_than_s)

    def local_path(self, key: str) -> contextlib.AbstractContextManager[Path]:
        return self.storage.local_path(self.check(key))

    def download(self, key: str, destination: Path) -> None:
        self.storage.download(self.check(key), destination)

    def writer(self, key: str) -> contextlib.AbstractContextManager[Path]:
        return self.storage.writer(self.check(key))

    def presigned_get(self, key: str, expires_s: int | None = None) -> str | None:
        return self.storage.presigned_get(self.check(key), expires_s)

    def presigned_put(
        self, key: str, content_type: str, max_bytes: int | None = None, expires_s: int | None = None
    ) -> PresignedUpload | None:
        return self.storage.presigned_put(self.check(key), content_type, max_bytes, expires_s)
