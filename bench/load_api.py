"""Load figure: the review API with 200 concurrent clients on 127.0.0.1 for a bounded minute.

`clipped api` runs as users start it, on a fresh CLIPPED_HOME whose database and storage are seeded with finished
jobs of one clip each (the bundled sample as the clip file; each with a succeeded run in the Dagster instance that
has the events a pipeline run records, so reading a job costs what it costs) and queued jobs whose runs have not
started, so their event streams stay open (no pipeline runs beside it: the figure is the API's). With --attach it
measures a running API instead (e.g. bench/load_batch.py's in the middle of its batch). Clients (httpx async, one
connection each):

- 100 readers of job event streams (SSE), opened with stream-token links and read for the whole minute;
- 100 request loops, each request of a random kind: the job list, the clip list, one job, a Range request of
  64 KiB at a random offset of a clip's video through its signed link;
- slow clients, for the whole minute: readers taking 1 byte a second of a clip's video, and event-stream readers
  that never read (raw sockets), to show they hold no worker others need.

Reports p50/p95/max latency per request kind, errors (any non-2xx, timeout or connection error), whether every
event stream stayed open, the server's RSS over time, and a request made after the slow clients sit down.

    python bench/load_api.py --seconds 60 --clients 100 --streams 100

Writes bench/out/load_api.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import socket
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dagster import (  # noqa: E402
    DagsterEvent,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    EventLogEntry,
)
from dagster._core.execution.plan.objects import StepSuccessData  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from api.models import Job  # noqa: E402
from bench.load_harness import SAMPLE, ApiUser, Stack, percentile, rss_bytes, uptime  # noqa: E402
from clipped.stages import CLIP_JOB_STEPS  # noqa: E402
from clipped_resources.storage import LocalStorage  # noqa: E402
from tests.api.world import FAKE_JPEG, add_clip, add_finished_job  # noqa: E402

RANGE_BYTES = 64 * 1024
TERMINAL_JOB = {"succeeded", "failed", "canceled"}


class Results:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.began = time.monotonic()
        self.timeline: list[tuple[float, float]] = []  # (sent, from the start; latency) of every answered request
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.streams_opened = 0
        self.streams_events = 0
        self.streams_dropped: list[str] = []


async def request_loop(client: httpx.AsyncClient, kinds: dict, until: float, results: Results) -> None:
    names = list(kinds)
    while time.monotonic() < until:
        kind = random.choice(names)
        started = time.monotonic()
        try:
            response = await kinds[kind](client)
            if response.status_code >= 300:
                results.errors[kind].append(f"{response.status_code} {response.text[:200]}")
            else:
                latency = time.monotonic() - started
                results.latencies[kind].append(latency)
                results.timeline.append((started - results.began, latency))
        except httpx.HTTPError as exc:
            results.errors[kind].append(f"{type(exc).__name__}: {exc}")


async def event_stream_reader(client: httpx.AsyncClient, url: str, until: float, results: Results) -> None:
    """Reads one job's event stream until the minute is over; a stream ending early is counted (a finished job's
    stream ends by design, so readers are given jobs that outlast the minute)."""
    try:
        async with client.stream("GET", url, timeout=httpx.Timeout(30, read=None)) as response:
            if response.status_code != 200:
                results.errors["event stream"].append(str(response.status_code))
                return
            results.streams_opened += 1
            lines = response.aiter_lines()
            while time.monotonic() < until:
                try:
                    line = await asyncio.wait_for(lines.__anext__(), timeout=max(0.1, until - time.monotonic()))
                except TimeoutError:
                    return
                except StopAsyncIteration:
                    results.streams_dropped.append(url)
                    return
                if line.startswith("event:"):
                    results.streams_events += 1
    except httpx.HTTPError as exc:
        results.errors["event stream"].append(f"{type(exc).__name__}: {exc}")


def raw_request(base_url: str, path: str) -> socket.socket:
    """A socket that sent a GET for ``path`` and will be read slowly (or never)."""
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, so the server feels it
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: keep-alive\r\n\r\n".encode())
    return sock


async def byte_a_second(sock: socket.socket, until: float) -> int:
    received = 0
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    while time.monotonic() < until:
        with contextlib.suppress(TimeoutError):
            received += len(await asyncio.wait_for(loop.sock_recv(sock, 1), timeout=2))
        await asyncio.sleep(1)
    return received


async def run_clients(args, base_url: str, user: ApiUser, stream_jobs: list[str], clips: list[dict], results: Results):
    headers = dict(user.client.headers)
    limits = httpx.Limits(max_connections=args.clients + args.streams + 10, max_keepalive_connections=None)
    timeout = httpx.Timeout(30)
    video_urls = [clip["video_url"] for clip in clips]
    sizes = {}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=timeout) as client:
        for url in video_urls:
            head = await client.get(url, headers={"Range": "bytes=0-0"})
            sizes[url] = int(head.headers["content-range"].rsplit("/", 1)[1])
        stream_urls = []
        for index in range(args.streams):
            token = await client.post(f"/api/jobs/{stream_jobs[index % len(stream_jobs)]}/stream-token")
            token.raise_for_status()
            stream_urls.append(token.json()["url"])

        def video_range(c: httpx.AsyncClient):
            url = random.choice(video_urls)
            offset = random.randrange(0, max(1, sizes[url] - RANGE_BYTES))
            return c.get(url, headers={"Range": f"bytes={offset}-{offset + RANGE_BYTES - 1}"})

        kinds = {
            "job list": lambda c: c.get("/api/jobs", params={"limit": 20}),
            "clip list": lambda c: c.get("/api/clips", params={"limit": 20}),
            "one job": lambda c: c.get(f"/api/jobs/{random.choice(stream_jobs)}"),
            "video range (64 KiB)": video_range,
        }
        slow_readers = [raw_request(base_url, video_urls[0]) for _ in range(args.slow)]
        never_read = [raw_request(base_url, url) for url in stream_urls[: args.slow]]
        results.began = time.monotonic()
        until = results.began + args.seconds

        # Each client its own connection, as separate users have: one shared httpx pool of 200 connections
        # serialises its requests on the pool's lock and measures the client (encode/httpx#3215).
        def own_client() -> httpx.AsyncClient:
            return httpx.AsyncClient(base_url=base_url, headers=headers, limits=httpx.Limits(max_connections=1),
                                     timeout=timeout)  # fmt: skip

        async def with_own_client(work, *arguments) -> None:
            async with own_client() as own:
                await work(own, *arguments)

        tasks = [asyncio.create_task(with_own_client(event_stream_reader, url, until, results)) for url in stream_urls]
        tasks += [
            asyncio.create_task(with_own_client(request_loop, kinds, until, results)) for _ in range(args.clients)
        ]
        slow_tasks = [asyncio.create_task(byte_a_second(sock, until)) for sock in slow_readers]
        await asyncio.gather(*tasks)
        slow_bytes = await asyncio.gather(*slow_tasks)
        # With the slow clients still connected: is a fresh request answered at once?
        started = time.monotonic()
        try:
            probe_status = str((await client.get("/api/jobs", params={"limit": 20}, timeout=120)).status_code)
        except httpx.HTTPError as exc:
            probe_status = type(exc).__name__
        probe_s = time.monotonic() - started
        for sock in slow_readers + never_read:
            sock.close()
    return slow_bytes, probe_status, probe_s


def over_the_minute(timeline: list[tuple[float, float]], window_s: float = 10.0) -> str:
    windows: dict[int, list[float]] = defaultdict(list)
    for sent_s, latency in timeline:
        windows[int(sent_s // window_s)].append(latency)
    return "; ".join(
        f"{index * window_s:.0f}–{(index + 1) * window_s:.0f} s {percentile(values, 0.95):.2f} / {max(values):.2f} s"
        for index, values in sorted(windows.items())
    )


def thread_count(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


async def sample_rss(pid: int, every_s: float, stop: asyncio.Event, series: list[tuple[float, int]]) -> None:
    started = time.monotonic()
    while not stop.is_set():
        series.append((time.monotonic() - started, rss_bytes(pid), thread_count(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)


async def measure(args, base_url: str, api_pid: int, user: ApiUser, stream_jobs: list[str], clips: list[dict]):
    results, series, stop = Results(), [], asyncio.Event()
    sampler = asyncio.create_task(sample_rss(api_pid, 5.0, stop, series))
    started = time.monotonic()
    slow_bytes, probe_status, probe_s = await run_clients(args, base_url, user, stream_jobs, clips, results)
    wall = time.monotonic() - started
    await asyncio.sleep(5)
    stop.set()
    await sampler
    return results, series, slow_bytes, probe_status, probe_s, wall


def report(args, results: Results, series, slow_bytes, probe_status, probe_s, wall, loads, setting: str) -> str:
    lines = [
        "# The review API under load",
        "",
        f"Measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {os.cpu_count()} cores: {args.clients} request "
        f"loops + {args.streams} event streams + {2 * args.slow} slow clients for {args.seconds:.0f} s "
        f"(wall {wall:.0f} s), against {setting}.",
        "",
        "| request | count | p50 | p95 | max | errors |",
        "|---|---|---|---|---|---|",
    ]
    for kind in sorted(set(results.latencies) | set(results.errors)):
        values = results.latencies.get(kind, [])
        lines.append(
            f"| {kind} | {len(values)} | {percentile(values, 0.5) * 1000:.0f} ms | "
            f"{percentile(values, 0.95) * 1000:.0f} ms | {max(values, default=0) * 1000:.0f} ms | "
            f"{len(results.errors.get(kind, []))} |"
        )
    errors = [f"{kind}: {message}" for kind, messages in results.errors.items() for message in messages[:3]]
    rss = [
        f"{t:.0f} s {value / 1e6:.0f} MB ({threads} threads)"
        for t, value, threads in series[:: max(1, len(series) // 8)]
    ]
    lines += [
        "",
        f"- over the minute, by when requests were sent (p95 / max): {over_the_minute(results.timeline)}",
        f"- event streams: {results.streams_opened}/{args.streams} opened, {len(results.streams_dropped)} ended "
        f"before the minute was over, {results.streams_events} job events received",
        f"- slow clients: {args.slow} readers of 1 byte/s got {sum(slow_bytes)} bytes in all; {args.slow} event "
        f"streams never read; a request made with all of them still connected: {probe_status} in "
        f"{probe_s * 1000:.0f} ms",
        f"- server RSS (the `clipped api` process): {'; '.join(rss)}",
        f"- load (`uptime`): {'; '.join(loads)}",
    ]
    if errors:
        lines += ["", "Errors (first three of each kind):", "", *[f"- {error}" for error in errors]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=100, help="request loops")
    parser.add_argument("--streams", type=int, default=100, help="event streams held open")
    parser.add_argument("--slow", type=int, default=5, help="slow readers of each kind")
    parser.add_argument("--seed-clips", type=int, default=10, help="finished jobs of one clip each")
    parser.add_argument("--attach", help="base URL of a running `clipped api` to measure instead of a fresh one")
    parser.add_argument("--email", help="with --attach: an editor of that API (the load benches' password)")
    parser.add_argument("--api-pid", type=int, help="with --attach: the server's pid, for its RSS")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "load_api.md")
    args = parser.parse_args()

    if args.attach:
        # A running `clipped api` (e.g. bench/load_batch.py's, mid-batch): its jobs and clips, its process.
        user = ApiUser(args.attach, args.email, register=False)
        run_measurement(args, args.attach, args.api_pid, user, "an API serving a batch (bench/load_batch.py)")
        return
    home = Path(tempfile.mkdtemp(prefix="clipped-load-api-"))
    stack = Stack(home)
    try:
        stack.prepare_instance(sensor=False)
        stack.start_api()
        user = ApiUser(stack.api_url, "api-load@example.com")
        seed_jobs(home, user, finished=args.seed_clips, pending=3)
        run_measurement(
            args, stack.api_url, stack.api.pid, user,
            f"a fresh API (SQLite app.db) with {args.seed_clips} finished jobs of one clip each (the 73 s sample as "
            "the clip file) and a succeeded Dagster run of 107 events each, and 3 queued jobs, seeded in its "
            "database, storage and instance",
        )  # fmt: skip
    finally:
        stack.close()
        shutil.rmtree(home, ignore_errors=True)


def seed_jobs(home: Path, user: ApiUser, *, finished: int, pending: int) -> None:
    """Finished jobs with one clip each and jobs whose runs have not started (their event streams stay open),
    written into the server's database and storage as the pipeline and the launcher leave them: the figure is the
    API's, so no pipeline runs beside it."""
    storage = LocalStorage(root=str(home / "storage"))
    engine = create_engine(f"sqlite:///{home / 'app.db'}")
    instance = DagsterInstance.from_config(str(home / "dagster_home"))
    try:
        with Session(engine) as session:
            for index in range(finished):
                video_id = f"seeded-{index:02d}-0123456789"
                folder = f"{user.workspace_id}/clips/{video_id}-01"
                storage.write_bytes(f"{folder}/clip.mp4", SAMPLE.read_bytes())
                storage.write_bytes(f"{folder}/thumbnail.jpg", FAKE_JPEG)
                job = add_finished_job(session, user.workspace_id, user.user_id, video_id, f"talk {index}.mp4")
                run_id = record_succeeded_run(instance)
                job.run_ids, job.canceled_at, job.clips_synced_run = [run_id], None, run_id
                add_clip(
                    session, job.id, user.workspace_id, f"{video_id}-01", video_key=f"{folder}/clip.mp4",
                    thumbnail_key=f"{folder}/thumbnail.jpg", title=f"Seeded clip {index}",
                )  # fmt: skip
            for index in range(pending):
                video_id = f"waiting-{index:02d}-0123456789"
                session.add(
                    Job(
                        workspace_id=user.workspace_id,
                        user_id=user.user_id,
                        partition_key=f"{user.workspace_id}.{video_id}",
                        source_kind="upload",
                        source_location=f"{user.workspace_id}/uploads/{video_id}.mp4",
                        display_name=f"waiting {index}.mp4",
                        settings={"max_clips": 1},
                        run_ids=[f"run-not-started-{index}"],
                    )
                )
            session.commit()
    finally:
        engine.dispose()
        instance.dispose()


def record_succeeded_run(instance: DagsterInstance, progress_logs_per_step: int = 13) -> str:
    """A succeeded run of the clip job with the events the pipeline's runs record (the demo's run has 109): run
    start and success, each step's start and success and its progress logs; its id."""
    run = instance.add_run(DagsterRun(job_name="clip_job", status=DagsterRunStatus.NOT_STARTED))
    started = time.time() - 600

    def record(offset_s: float, step: str | None, event_type: DagsterEventType | None, message: str = "") -> None:
        event = None
        if event_type is not None:
            data = StepSuccessData(duration_ms=10_000.0) if event_type == DagsterEventType.STEP_SUCCESS else None
            event = DagsterEvent(event_type.value, job_name=run.job_name, step_key=step, event_specific_data=data)
        entry = EventLogEntry(
            error_info=None, level=20, user_message=message, run_id=run.run_id, timestamp=started + offset_s,
            step_key=step, job_name=run.job_name, dagster_event=event,
        )  # fmt: skip
        instance.handle_new_event(entry)  # run-level events also set the run's status

    record(0, None, DagsterEventType.RUN_START)
    offset = 1.0
    for step in CLIP_JOB_STEPS:
        record(offset, step, DagsterEventType.STEP_START)
        for tenth in range(1, progress_logs_per_step + 1):
            record(offset + tenth, step, None, f"{step}: {tenth * 100 // progress_logs_per_step}%")
        offset += progress_logs_per_step + 1
        record(offset, step, DagsterEventType.STEP_SUCCESS)
    record(offset + 1, None, DagsterEventType.RUN_SUCCESS)
    return run.run_id


def run_measurement(args, base_url: str, api_pid: int, user: ApiUser, setting: str) -> None:
    jobs = user.jobs()
    pending = [job["id"] for job in jobs if job["status"] not in TERMINAL_JOB]
    clips = [clip for clip in user.clips() if clip.get("video_url")]
    if not pending or not clips:
        raise RuntimeError(
            f"need pending jobs (for event streams) and clips: {len(pending)} pending, {len(clips)} clips"
        )
    print(f"{len(clips)} clips, {len(pending)} pending jobs for the event streams", flush=True)
    loads = [uptime()]
    measured = asyncio.run(measure(args, base_url, api_pid, user, pending, clips))
    loads.append(uptime())
    text = report(args, *measured, loads, setting)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
