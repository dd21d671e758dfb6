"""The live streams of a workspace as a service: start, stop, list them with their health, moments and clips.

This is what the CLI and the review API call; it holds no thread and no process of its own. A started stream is
a record in storage (``{workspace}/streams/{stream}/stream.json``, listed in ``{workspace}/streams/registry.json``)
plus a recorder that a :class:`RecorderLauncher` starts: a local process in the embedded default, a long-running
Dagster run in production. Health is whatever the recorder last wrote (``health.json``, its heartbeat); a stream
that should be running but whose heartbeat is older than ``stale_after_s`` is *stale*, and :meth:`supervise`
starts its recorder again (the new recorder carries on the same ring buffer and stream clock; the outage shows
as a gap). Stopping writes a stop marker the recorder polls every second: it finishes the segment in progress,
clips what it already found, and exits.

Every call is scoped to one workspace: a stream id of another workspace is :class:`StreamNotFoundError`, never
its data.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from clipped.layout import InvalidKeyError, check_workspace_id
from clipped.live.chat import ChatReplay
from clipped.live.clips import list_clips, list_moments
from clipped.live.layout import CHAT_FILE, HEALTH_FILE, STOP_FILE, STREAM_FILE, StreamRef, new_stream_id
from clipped.live.models import (
    ACTIVE_STATES,
    LiveClip,
    Moment,
    StreamHealth,
    StreamRecord,
    StreamSettings,
    StreamState,
    now,
)
from clipped.storage import Storage

REGISTRY_FILE = "registry.json"
DEFAULT_MAX_CONCURRENT = 3
DEFAULT_STALE_AFTER_S = 30.0
# A recorder just (re)started has not spoken yet: a local process loads the code location and its models first,
# which took over 30 s on 2 busy cores (a restart then would kill it while it starts).
DEFAULT_START_GRACE_S = 120.0


class StreamLimitError(ValueError):
    """The workspace already records as many streams as it may."""


class StreamNotFoundError(LookupError):
    """No such stream in this workspace."""


class RecorderLauncher(Protocol):
    """Starts the recorder of a stream somewhere (a local process, a Dagster run) and says if it still runs."""

    def launch(self, record: StreamRecord) -> None: ...

    def is_running(self, record: StreamRecord) -> bool | None:
        """True/False when the launcher can tell (a local process id); None when only the heartbeat can."""
        ...


class StreamStatus(BaseModel):
    """One stream as a reader sees it: the request, the recorder's last heartbeat and what came of it."""

    workspace_id: str
    stream_id: str
    url: str
    display_name: str
    created_at: float
    desired: str
    runner: str
    state: StreamState = "starting"  # what the recorder last said ("starting" before its first heartbeat)
    health: StreamHealth | None = None
    heartbeat_age_s: float | None = None  # seconds since the recorder last wrote its health
    last_segment_age_s: float | None = None
    stale: bool = False  # should run, but its heartbeat stopped: :meth:`StreamService.supervise` restarts it
    active: bool = True  # counts against the workspace's limit
    moments: int = 0
    clips: int = 0


class _Registry(BaseModel):
    stream_ids: list[str] = Field(default_factory=list)


class StreamService:
    """Start, stop, inspect and supervise the live streams of workspaces (see the module docstring)."""

    def __init__(
        self,
        storage: Storage,
        launcher: RecorderLauncher,
        *,
        check_url: Callable[[str], str],
        settings: StreamSettings | None = None,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        start_grace_s: float = DEFAULT_START_GRACE_S,
        runner: str = "local",
        clock: Callable[[], float] = now,
    ) -> None:
        self.storage = storage
        self.launcher = launcher
        self.check_url = check_url
        self.settings = settings or StreamSettings()
        self.max_concurrent = max_concurrent
        self.stale_after_s = stale_after_s
        self.start_grace_s = start_grace_s
        self.runner = runner
        self.clock = clock
        # The limit check and the registry update are one read-modify-write of a storage object: within one process
        # (the review API) starts are serialised so two at once can neither exceed the limit nor drop an entry.
        self._registry_lock = threading.Lock()

    # -- commands --------------------------------------------------------------------------------------------

    def register(
        self,
        workspace_id: str,
        url: str,
        *,
        display_name: str | None = None,
        settings: StreamSettings | None = None,
        chat_jsonl: str | None = None,
    ) -> StreamRecord:
        """Check the URL and the workspace's limit, and record the request (no recorder is started).

        Raises :class:`clipped.ingest.url_policy.DisallowedUrlError` for a URL that may not be recorded and
        :class:`StreamLimitError` when the workspace already has ``max_concurrent`` active streams.
        """
        check_workspace_id(workspace_id)
        url = self.check_url(url)
        with self._registry_lock:
            return self._register_checked(workspace_id, url, display_name, settings, chat_jsonl)

    def _register_checked(
        self,
        workspace_id: str,
        url: str,
        display_name: str | None,
        settings: StreamSettings | None,
        chat_jsonl: str | None,
    ) -> StreamRecord:
        active = [status for status in self.list(workspace_id) if status.active]
        if len(active) >= self.max_concurrent:
            raise StreamLimitError(
                f"workspace {workspace_id!r} already records {len(active)} streams (limit {self.max_concurrent}): "
                f"stop one first ({', '.join(s.stream_id for s in active)})"
            )
        name = display_name or _display_name(url)
        stream = StreamRef(workspace_id, new_stream_id(name))
        record = StreamRecord(
            workspace_id=workspace_id, stream_id=stream.stream_id, url=url, display_name=name,
            settings=settings or self.settings, created_at=self.clock(), runner=self.runner,
        )  # fmt: skip
        if chat_jsonl is not None:
            ChatReplay.parse(chat_jsonl)  # refuse nothing, but fail now on a file that is not text
            self.storage.write_bytes(stream.key(CHAT_FILE), chat_jsonl.encode())
            record.chat_key = stream.key(CHAT_FILE)
        self.storage.write_model(stream.key(STREAM_FILE), record)
        self._add_to_registry(workspace_id, stream.stream_id)
        return record

    def start(self, workspace_id: str, url: str, **options: object) -> StreamStatus:
        """:meth:`register` the stream, then launch its recorder; returns its status (state ``starting``)."""
        record = self.register(workspace_id, url, **options)  # type: ignore[arg-type]
        self._launch(record)
        return self.get(workspace_id, record.stream_id)

    def stop(self, workspace_id: str, stream_id: str) -> StreamStatus:
        """Ask the stream's recorder to stop (it finishes its segment and its clips, then exits); idempotent."""
        record = self.record(workspace_id, stream_id)
        stream = StreamRef(workspace_id, stream_id)
        if record.desired != "stopped":
            record.desired = "stopped"
            self.storage.write_model(stream.key(STREAM_FILE), record)
        if not self.storage.exists(stream.key(STOP_FILE)):
            self.storage.write_json(stream.key(STOP_FILE), {"requested_at": self.clock()})
        return self.get(workspace_id, stream_id)

    def supervise(self, workspace_id: str) -> list[str]:
        """Start again the recorders of the workspace's streams that should run but went stale; their ids.

        Only streams this service launched a recorder for: one registered and recorded elsewhere (``clipped stream
        URL`` in a terminal) is its caller's to run."""
        restarted = []
        for status in self.list(workspace_id):
            if status.stale:
                record = self.record(workspace_id, status.stream_id)
                if record.launches == 0:
                    continue
                self._launch(record)
                restarted.append(status.stream_id)
        return restarted

    # -- queries ---------------------------------------------------------------------------------------------

    def record(self, workspace_id: str, stream_id: str) -> StreamRecord:
        """The stream's request; :class:`StreamNotFoundError` if the workspace has no such stream."""
        try:
            stream = StreamRef(workspace_id, stream_id)
        except InvalidKeyError as exc:
            raise StreamNotFoundError(stream_id) from exc
        key = stream.key(STREAM_FILE)
        if not self.storage.exists(key):
            raise StreamNotFoundError(stream_id)
        return self.storage.read_model(key, StreamRecord)

    def get(self, workspace_id: str, stream_id: str) -> StreamStatus:
        """The stream's status: request, health (heartbeat and its age), counts of moments and clips."""
        record = self.record(workspace_id, stream_id)
        stream = StreamRef(workspace_id, stream_id)
        health = None
        with contextlib.suppress(FileNotFoundError, ValueError):
            health = self.storage.read_model(stream.key(HEALTH_FILE), StreamHealth)
        at = self.clock()
        state = health.state if health else "starting"
        heartbeat_age = round(at - health.updated_at, 1) if health else None
        running = health is not None and state in ACTIVE_STATES
        # A recorder not heard from since it was (re)started gets start_grace_s to write its first heartbeat; after
        # that, a heartbeat older than stale_after_s means it died or hangs.
        started_at = record.launched_at or record.created_at
        if health is None or health.updated_at < started_at:
            silent_s, allowed_s = at - started_at, self.start_grace_s
        else:
            silent_s, allowed_s = at - health.updated_at, self.stale_after_s
        should_run = record.desired == "running" and (health is None or running)
        launcher_says = self.launcher.is_running(record)
        stale = should_run and (silent_s > allowed_s or launcher_says is False)
        return StreamStatus(
            workspace_id=workspace_id, stream_id=stream_id, url=record.url, display_name=record.display_name,
            created_at=record.created_at, desired=record.desired, runner=record.runner, state=state, health=health,
            heartbeat_age_s=heartbeat_age,
            last_segment_age_s=round(at - health.last_segment_at, 1) if health and health.last_segment_at else None,
            stale=stale, active=should_run,
            moments=len(self.storage.list_keys(stream.key("moments"))),
            clips=len([k for k in self.storage.list_keys(stream.key("clips")) if k.endswith(".json")]),
        )  # fmt: skip

    def list(self, workspace_id: str) -> list[StreamStatus]:
        """Every stream of the workspace, newest first."""
        statuses = []
        for stream_id in self._registry(workspace_id).stream_ids:
            with contextlib.suppress(StreamNotFoundError):
                statuses.append(self.get(workspace_id, stream_id))
        return sorted(statuses, key=lambda status: -status.created_at)

    def moments(self, workspace_id: str, stream_id: str) -> list[Moment]:
        self.record(workspace_id, stream_id)
        return list_moments(self.storage, StreamRef(workspace_id, stream_id))

    def clips(self, workspace_id: str, stream_id: str) -> list[LiveClip]:
        self.record(workspace_id, stream_id)
        return list_clips(self.storage, StreamRef(workspace_id, stream_id))

    # -- internals -------------------------------------------------------------------------------------------

    def _launch(self, record: StreamRecord) -> None:
        record.launches += 1
        record.launched_at = self.clock()
        self.storage.write_model(StreamRef(record.workspace_id, record.stream_id).key(STREAM_FILE), record)
        self.launcher.launch(record)

    def _registry_key(self, workspace_id: str) -> str:
        return f"{check_workspace_id(workspace_id)}/streams/{REGISTRY_FILE}"

    def _registry(self, workspace_id: str) -> _Registry:
        key = self._registry_key(workspace_id)
        return self.storage.read_model(key, _Registry) if self.storage.exists(key) else _Registry()

    def _add_to_registry(self, workspace_id: str, stream_id: str) -> None:
        registry = self._registry(workspace_id)
        if stream_id not in registry.stream_ids:
            registry.stream_ids.append(stream_id)
            self.storage.write_model(self._registry_key(workspace_id), registry)


def _display_name(url: str) -> str:
    """The channel or file name of a stream URL (``twitch.tv/somechannel`` → ``somechannel``)."""
    parts = urlsplit(url)
    path = [part for part in parts.path.split("/") if part]
    if path and path[-1].lower().endswith((".m3u8", ".m3u")):
        path = path[:-1] or [path[-1].rsplit(".", 1)[0]]
    return path[-1] if path else (parts.hostname or "stream")
