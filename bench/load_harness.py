"""What the load benches share: a fresh embedded stack (the daemon and the review API as users start them, on one
project-local SQLite DAGSTER_HOME), generated sources, an API client, process-tree memory and run timelines.

Nothing here is imported by the product or its tests; the benches run it as a script helper.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from dagster import DagsterInstance

from clipped.media.ffmpeg import run_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "clipped_sample.mp4"
PASSWORD = "load-bench-Tr0ubador-horse"
SENSOR = "source_video_upload_sensor"
LOCKED = "database is locked"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_sources(count: int, folder: Path, prefix: str) -> list[Path]:
    """``count`` distinct sources: the bundled sample (73 s, three shots, a moving face, speech from tests/data)
    remuxed with a different title tag, so every file has its own content hash and is a new source."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{prefix}_{index:02d}.mp4"
        run_ffmpeg(["-i", str(SAMPLE), "-map", "0", "-c", "copy", "-metadata", f"title={prefix}-{index}", str(path)])
        paths.append(path)
    return paths


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


@dataclass
class Stack:
    """A fresh CLIPPED_HOME with its DAGSTER_HOME; starts `dagster-daemon run` and `clipped api` against it."""

    home: Path
    inbox_max_clips: int = 2
    logs: Path = field(init=False)
    api_port: int = field(default_factory=free_port)
    daemon: subprocess.Popen | None = None
    api: subprocess.Popen | None = None
    starts: dict[str, int] = field(default_factory=lambda: {"daemon": 0, "api": 0})
    sessions: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.logs = self.home / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CLIPPED_HOME": str(self.home),
            "DAGSTER_HOME": str(self.home / "dagster_home"),
            "CLIPPED_PROFILE": "local",
            "CLIPPED_INBOX_MAX_CLIPS": str(self.inbox_max_clips),
            "CLIPPED_API_RATE_LIMIT_PER_MINUTE": "600",
            "PYTHONPATH": str(ROOT),
        }

    @property
    def inbox(self) -> Path:
        return self.home / "storage" / "local" / "inbox"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def _log(self, name: str):
        return open(self.logs / f"{name}.log", "a")

    def prepare_instance(self, *, sensor: bool = True) -> None:
        """The instance's dagster.yaml, written as `clipped run` would write it, and the upload sensor turned on."""
        subprocess.run(
            [sys.executable, "-c", "from clipped_app.instance import dagster_home; dagster_home()"],
            env=self.env,
            cwd=ROOT,
            check=True,
        )
        if not sensor:
            return
        subprocess.run(
            [sys.executable, "-m", "dagster", "sensor", "start", "-w", str(ROOT / "workspace.yaml"), SENSOR],
            env=self.env,
            cwd=ROOT,
            check=True,
            stdout=self._log("sensor_start"),
            stderr=subprocess.STDOUT,
        )

    def start_daemon(self) -> None:
        self.starts["daemon"] += 1
        self.daemon = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
            env=self.env,
            cwd=ROOT,
            stdout=self._log("daemon"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.sessions.add(self.daemon.pid)

    def start_api(self, timeout_s: float = 120.0) -> None:
        self.starts["api"] += 1
        self.api = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "clipped"), "api", "--port", str(self.api_port)],
            env=self.env,
            cwd=ROOT,
            stdout=self._log("api"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.sessions.add(self.api.pid)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api_url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.api.poll() is not None:
                raise RuntimeError(f"clipped api exited with {self.api.returncode}; see {self.logs / 'api.log'}")
            time.sleep(0.5)
        raise RuntimeError("clipped api did not answer /api/health")

    @staticmethod
    def stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout_s: float = 60.0) -> None:
        """Signal the process only (not its group: a user's kill hits the server, not the runs it started)."""
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def processes(self) -> list[int]:
        """The servers, everything below them, and whatever they left running after a restart (run workers, code
        servers and their ffmpeg children keep the session they were started in, even once orphaned)."""
        roots = [p.pid for p in (self.api, self.daemon) if p is not None and p.poll() is None]
        pids = set(descendants(roots))
        for pid, sid in _sessions().items():
            if sid in self.sessions:
                pids.add(pid)
        pids.update(descendants(list(pids)))
        self.sessions.update(sid for pid, sid in _sessions().items() if pid in pids)
        return sorted(pids)

    def close(self) -> None:
        for process in (self.api, self.daemon):
            if process is not None and process.poll() is None:
                self.stop(process)
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def log_mentions(self, text: str) -> dict[str, int]:
        counts = {}
        for path in sorted(self.logs.glob("*.log")):
            found = path.read_text(errors="replace").count(text)
            if found:
                counts[path.name] = found
        return counts


class ApiUser:
    """One registered editor of the review API (its own workspace)."""

    def __init__(self, base_url: str, email: str, *, register: bool = True):
        self.client = httpx.Client(base_url=base_url, timeout=120)
        self.email = email
        self.workspace_id = self.user_id = ""
        if register:
            registered = self.client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
            registered.raise_for_status()
            body = registered.json()
            self.workspace_id, self.user_id = body["workspace"]["id"], body["user"]["id"]
        self.login()

    def login(self) -> None:
        tokens = self.client.post("/api/auth/login", json={"email": self.email, "password": PASSWORD})
        tokens.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {tokens.json()['access_token']}"

    def submit(self, path: Path, max_clips: int) -> dict:
        """Upload ``path`` (ticket, PUT, confirm) and create a job for it; the job as the API returns it."""
        data = path.read_bytes()
        ticket = self.client.post(
            "/api/uploads", json={"filename": path.name, "content_type": "video/mp4", "size": len(data)}
        )
        ticket.raise_for_status()
        ticket = ticket.json()
        self.client.put(ticket["url"], content=data, headers=ticket["headers"]).raise_for_status()
        self.client.post(f"/api/uploads/{ticket['upload_id']}/confirm").raise_for_status()
        created = self.client.post(
            "/api/jobs",
            json={"upload_id": ticket["upload_id"], "settings": {"max_clips": max_clips}},
            headers={"Idempotency-Key": f"load-{path.stem}"},
        )
        created.raise_for_status()
        return created.json()

    def jobs(self) -> list[dict]:
        page = self.client.get("/api/jobs", params={"limit": 100})
        if page.status_code == 401:
            self.login()
            page = self.client.get("/api/jobs", params={"limit": 100})
        page.raise_for_status()
        return page.json()["items"]

    def clips(self) -> list[dict]:
        page = self.client.get("/api/clips", params={"limit": 100})
        if page.status_code == 401:
            self.login()
            page = self.client.get("/api/clips", params={"limit": 100})
        page.raise_for_status()
        return page.json()["items"]


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(roots: list[int]) -> list[int]:
    """``roots`` and every process below them."""
    children, found, todo = _children_map(), [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _sessions() -> dict[int, int]:
    """pid -> session id of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                found[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[3])
            except OSError:
                continue
    return found


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class MemorySampler:
    """Sums RSS over the given processes every ``interval_s`` (the peak, and the series)."""

    def __init__(self, processes, interval_s: float = 1.0, limit_bytes: int | None = None):
        self._processes = processes  # a callable: the pids to sum now (servers are restarted)
        self.limit_bytes = limit_bytes  # past this the bench stops (the machine is shared): see over_limit
        self.over_limit = threading.Event()
        self.interval_s = interval_s
        self.peak_bytes = 0
        self.peak_processes = 0
        self.series: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._started = time.monotonic()

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            pids = self._processes()
            total = sum(rss_bytes(pid) for pid in pids)
            self.series.append((time.monotonic() - self._started, total))
            self.peak_bytes = max(self.peak_bytes, total)
            self.peak_processes = max(self.peak_processes, len(pids))
            if self.limit_bytes is not None and total > self.limit_bytes:
                self.over_limit.set()


@dataclass
class RunTimes:
    run_id: str
    partition: str
    trigger: str
    status: str
    created: float
    started: float | None
    ended: float | None


def run_times(dagster_home: Path) -> list[RunTimes]:
    """Every run of the instance with its create/start/end times (read from the SQLite run storage)."""
    instance = DagsterInstance.from_config(str(dagster_home))
    try:
        return [
            RunTimes(
                run_id=record.dagster_run.run_id,
                partition=record.dagster_run.tags.get("dagster/partition", ""),
                trigger=record.dagster_run.tags.get("clipped/trigger", ""),
                status=record.dagster_run.status.value,
                created=record.create_timestamp.timestamp(),
                started=record.start_time,
                ended=record.end_time,
            )
            for record in instance.get_run_records()
            if record.dagster_run.job_name == "clip_job"
        ]
    finally:
        instance.dispose()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def stored_clips(home: Path) -> int:
    """Rendered clip files in storage, whoever launched their runs."""
    return sum(1 for _ in (home / "storage").glob("*/clips/*/clip.mp4"))
