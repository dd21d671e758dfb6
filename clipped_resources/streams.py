"""Live streams as a resource: recorder, ring buffer, detection and clip settings, the per-workspace limit, and
where recorders run (a local process, or a long-running Dagster run in production).

One interface (:class:`StreamsResource`) with two implementations chosen by the profile: :class:`LocalStreams`
starts each recorder as a local process (``clipped stream --stream-id``, which records, detects and renders in
that one process: the fast path); :class:`DagsterStreams` leaves recorders to ``stream_recorder_sensor``, which
launches a ``stream_recorder_job`` run per stream (its own pod under the K8sRunLauncher) and launches it again
when its heartbeat goes stale, while ``live_segment_sensor`` detects and ``live_clip_job`` runs render.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field

from clipped.ingest.url_policy import ALLOWED_VIDEO_DOMAINS, validate_stream_url
from clipped.live.models import (
    DEFAULT_KEYWORDS,
    DetectionSettings,
    LiveClipSettings,
    RecorderSettings,
    RingLimits,
    StreamRecord,
    StreamSettings,
)
from clipped.live.service import DEFAULT_MAX_CONCURRENT, StreamService
from clipped.live.source import StreamlinkOpener
from clipped.storage import Storage
from clipped_resources.render_options import RenderOptions

Runner = Literal["local", "dagster"]


class StreamsResource(ConfigurableResource):
    """Interface of the live-streams role; implementations differ only in where recorders run."""

    workspaces: list[str] = Field(
        default_factory=lambda: ["local"], description="workspaces whose streams the Dagster sensors look after"
    )
    max_concurrent_per_workspace: int = Field(default=DEFAULT_MAX_CONCURRENT, ge=1)
    stale_after_s: float = Field(default=30.0, gt=0, description="a heartbeat older than this restarts the recorder")
    segment_s: float = Field(default=2.0, gt=0)
    stall_after_s: float = Field(default=8.0, gt=0)
    give_up_after_s: float = Field(default=300.0, gt=0)
    ring_max_age_s: float = Field(default=600.0, gt=0)
    ring_max_bytes: int = Field(default=2 * 1024**3, gt=0)
    keywords: list[str] = Field(default_factory=lambda: list(DEFAULT_KEYWORDS))
    threshold: float = Field(default=0.3, ge=0, le=1)
    track_faces: bool = Field(default=True, description="search segments for faces so the clip's crop follows them")
    clip_s: float = Field(default=30.0, gt=1)
    post_roll_s: float = Field(default=8.0, ge=0)
    # superfast costs about two thirds of the CPU of the VOD preset (veryfast) for a ~1.7x larger file at the same
    # CRF: a live clip has to land within seconds of its moment (measured: bench/live_latency.py).
    render_preset: str = Field(default="superfast", description="x264 preset of live clips")
    render_threads: int = Field(default=0, ge=0, description="encoder threads for a live clip; 0 = every core")
    live_edge: int = Field(default=2, ge=1, description="HLS segments behind the newest to start reading from")
    work_dir: str = Field(default="", description="scratch for segments being written (default: system temp)")
    allow_loopback_sources: bool = Field(
        default=False, description="TESTS ONLY: accept http://127.0.0.1 stream URLs (the tests' local HLS server)"
    )

    @property
    def runner(self) -> Runner:
        raise NotImplementedError

    def launcher(self) -> LocalProcessLauncher | DeferredLauncher:
        raise NotImplementedError

    def stream_settings(
        self, *, max_minutes: float | None = None, keywords: Sequence[str] | None = None
    ) -> StreamSettings:
        """The settings a new stream is recorded with (stored with it, so a restart keeps them)."""
        return StreamSettings(
            recorder=RecorderSettings(segment_s=self.segment_s, stall_after_s=self.stall_after_s,
                                      give_up_after_s=self.give_up_after_s, max_minutes=max_minutes),
            ring=RingLimits(max_age_s=self.ring_max_age_s, max_bytes=self.ring_max_bytes),
            detection=DetectionSettings(keywords=list(keywords) if keywords else list(self.keywords),
                                        threshold=self.threshold, faces=self.track_faces),
            clips=LiveClipSettings(clip_s=self.clip_s, post_roll_s=self.post_roll_s),
        )  # fmt: skip

    def opener(self, allowed_domains: Sequence[str] = ALLOWED_VIDEO_DOMAINS) -> StreamlinkOpener:
        """How recorders open streams: streamlink under the stream URL policy (``allowed_domains``: ingest's)."""
        return StreamlinkOpener(
            allowed_domains=tuple(allowed_domains), allow_loopback=self.allow_loopback_sources, live_edge=self.live_edge
        )

    def live_encoder(self, render: RenderOptions) -> RenderOptions:
        """The render options for live clips: the profile's encoder, with this resource's preset, one clip at a
        time and every core on it (latency matters more than throughput)."""
        threads = self.render_threads or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                             else os.cpu_count() or 1)  # fmt: skip
        return RenderOptions(
            x264_preset=self.render_preset, encoder=render.encoder, parallel_clips=1, threads_per_clip=threads,
            sample_fps=render.sample_fps,
        )  # fmt: skip

    def scratch(self) -> Path:
        return Path(self.work_dir) if self.work_dir else Path(os.environ.get("TMPDIR", "/tmp")) / "clipped-live"

    def service(self, storage: Storage, allowed_domains: Sequence[str] = ALLOWED_VIDEO_DOMAINS) -> StreamService:
        """The stream service over ``storage`` (pass a workspace view where one workspace acts)."""

        def check(url: str) -> str:
            return validate_stream_url(
                url, allowed_domains=tuple(allowed_domains), allow_loopback=self.allow_loopback_sources
            )

        return StreamService(
            storage, self.launcher(), check_url=check, settings=self.stream_settings(),
            max_concurrent=self.max_concurrent_per_workspace, stale_after_s=self.stale_after_s, runner=self.runner,
        )  # fmt: skip


class LocalStreams(StreamsResource):
    """Recorders as local processes (the embedded default): ``clipped stream --stream-id`` per stream."""

    worker_command: list[str] = Field(
        default_factory=lambda: [sys.executable, "-m", "clipped_app.cli", "stream"],
        description="the command that records one registered stream; the launcher appends its options",
    )
    profile: str = "local"

    @property
    def runner(self) -> Runner:
        return "local"

    def launcher(self) -> LocalProcessLauncher:
        return LocalProcessLauncher(self.worker_command, self.scratch() / "recorders", self.profile)


class DagsterStreams(StreamsResource):
    """Recorders as long-running Dagster runs, launched (and relaunched when stale) by stream_recorder_sensor."""

    @property
    def runner(self) -> Runner:
        return "dagster"

    def launcher(self) -> DeferredLauncher:
        return DeferredLauncher()


class LocalProcessLauncher:
    """Starts a recorder process per stream, detached from the caller, and tracks it by a pid file."""

    def __init__(self, command: Sequence[str], state_dir: Path, profile: str) -> None:
        self.command = list(command)
        self.state_dir = state_dir
        self.profile = profile

    def _pid_file(self, record: StreamRecord) -> Path:
        return self.state_dir / f"{record.workspace_id}.{record.stream_id}.pid"

    def launch(self, record: StreamRecord) -> None:
        # A restart after a stale heartbeat: a recorder that hangs but lives would write the same ring buffer.
        self.terminate(record)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.state_dir / f"{record.workspace_id}.{record.stream_id}.log"
        command = [*self.command, "--stream-id", record.stream_id, "--workspace", record.workspace_id,
                   "--profile", self.profile, "--quiet"]  # fmt: skip
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._pid_file(record).write_text(str(process.pid))

    def is_running(self, record: StreamRecord) -> bool | None:
        pid_file = self._pid_file(record)
        if not pid_file.exists():
            return None  # launched elsewhere (another host, the CLI in a terminal): the heartbeat decides
        try:
            pid = int(pid_file.read_text())
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            return False
        except PermissionError:
            return True
        return _not_zombie(pid)

    def terminate(self, record: StreamRecord) -> None:
        """Hard stop (after a stop marker was ignored): SIGTERM, which the recorder also handles cleanly."""
        if self.is_running(record):
            os.kill(int(self._pid_file(record).read_text()), signal.SIGTERM)


class DeferredLauncher:
    """Launching is stream_recorder_sensor's job: it sees the stream's desired state on its next tick."""

    def launch(self, record: StreamRecord) -> None:
        pass

    def is_running(self, record: StreamRecord) -> bool | None:
        return None


def _not_zombie(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return fields[0] != "Z"
