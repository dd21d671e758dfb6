"""Load figure: a batch of sources submitted at once to the embedded default, through the inbox and the API.

A fresh project-local CLIPPED_HOME (SQLite Dagster instance in its DAGSTER_HOME, SQLite app.db, local storage) is
served the way users run it: `dagster-daemon run -w workspace.yaml` (the upload sensor turned on, runs queued by
the instance's default QueuedRunCoordinator and launched by its DefaultRunLauncher) and `clipped api` (jobs run by
its embedded launcher). All sources are dropped into `local/inbox/` and submitted through the API (upload, confirm,
POST /api/jobs) at the same moment; the bench then waits until every run has finished and reports:

- wall time from submission to the last run's end; per-run queueing (submitted → started) and run time
  (started → finished), p50 and max, per path;
- runs and clips: every source has a successful run and its clips in storage (none lost, none run twice);
- "database is locked" anywhere in the servers' logs or the runs' failures;
- peak RSS summed over the daemon, the API and everything they start (run processes, step processes, ffmpeg).

    python bench/load_batch.py --inbox 10 --api 10 --max-clips 2

Sources: the bundled 73 s sample (three shots, a moving face, LibriVox/Piper/espeak speech from tests/data),
remuxed with a different title so each is new content. Writes bench/out/load_batch.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_harness import (  # noqa: E402 - after the path is set
    LOCKED,
    ApiUser,
    MemorySampler,
    RunTimes,
    Stack,
    make_sources,
    percentile,
    run_times,
    stored_clips,
    uptime,
)

TERMINAL_RUN = {"SUCCESS", "FAILURE", "CANCELED"}
TERMINAL_JOB = {"succeeded", "failed", "canceled"}


@dataclass
class Batch:
    """What was submitted and when (epoch seconds), and what the servers answered."""

    inbox_files: dict[str, float] = field(default_factory=dict)
    api_jobs: dict[str, float] = field(default_factory=dict)  # job id -> submitted
    started: float = 0.0


def drop_into_inbox(stack: Stack, sources: list[Path], batch: Batch) -> None:
    """Each file appears in the inbox whole (renamed in from the same file system), as a finished copy would."""
    stack.inbox.mkdir(parents=True, exist_ok=True)
    staging = stack.home / "staging"
    staging.mkdir(exist_ok=True)
    for source in sources:
        staged = staging / source.name
        shutil.copyfile(source, staged)
        os.replace(staged, stack.inbox / source.name)
        batch.inbox_files[source.name] = time.time()


def submit_through_api(user: ApiUser, sources: list[Path], max_clips: int, batch: Batch) -> None:
    def submit(path: Path) -> None:
        job = user.submit(path, max_clips)
        batch.api_jobs[job["id"]] = time.time()

    with ThreadPoolExecutor(max_workers=max(1, len(sources))) as pool:
        list(pool.map(submit, sources))


def submit_batch(stack: Stack, user: ApiUser, inbox: list[Path], api: list[Path], max_clips: int) -> Batch:
    batch = Batch(started=time.time())
    with ThreadPoolExecutor(max_workers=2) as pool:
        dropped = pool.submit(drop_into_inbox, stack, inbox, batch)
        submitted = pool.submit(submit_through_api, user, api, max_clips, batch)
        dropped.result()
        submitted.result()
    return batch


def batch_state(stack: Stack, user: ApiUser, batch: Batch) -> tuple[list[RunTimes], list[dict]]:
    runs = run_times(stack.home / "dagster_home")
    jobs = [job for job in user.jobs() if job["id"] in batch.api_jobs]
    return runs, jobs


def finished(runs: list[RunTimes], jobs: list[dict], batch: Batch) -> bool:
    sensor_runs = [run for run in runs if run.trigger == "sensor"]
    sensor_done = len({r.partition for r in sensor_runs if r.status in TERMINAL_RUN}) >= len(batch.inbox_files)
    jobs_done = len(jobs) == len(batch.api_jobs) and all(job["status"] in TERMINAL_JOB for job in jobs)
    return sensor_done and jobs_done and all(run.status in TERMINAL_RUN for run in runs)


def wait_for_batch(stack: Stack, user: ApiUser, batch: Batch, timeout_s: float, on_poll=None, stop=None):
    """Poll until every run of the batch has finished, the timeout, or ``stop`` (an Event) is set."""
    deadline = time.monotonic() + timeout_s
    while True:
        runs, jobs = batch_state(stack, user, batch)
        if on_poll is not None:
            on_poll(runs, jobs)
        if finished(runs, jobs, batch) or time.monotonic() > deadline or (stop is not None and stop.is_set()):
            return runs, jobs
        time.sleep(5)


def describe(
    stack: Stack,
    batch: Batch,
    runs: list[RunTimes],
    jobs: list[dict],
    clips: list[dict],
    memory: MemorySampler,
    loads: list[str],
    title: str,
) -> str:
    """The markdown report: per path, runs and clips, queueing and run time; memory; locks; load."""
    job_by_run = {job["run_id"]: job for job in jobs}
    lines = [
        f"# {title}",
        "",
        f"Measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {os.cpu_count()} cores.",
        "",
    ]
    lines += [
        "| path | sources | runs | succeeded | other runs | clips in storage | queued→started p50 / max | "
        "started→finished p50 / max |",
        "|---|---|---|---|---|---|---|---|",
    ]
    last_end = batch.started
    for path in ("sensor", "api"):
        path_runs = [run for run in runs if run.trigger == path]
        if path == "sensor":
            submitted = min(batch.inbox_files.values(), default=batch.started)
            sources = len(batch.inbox_files)
            queue = [run.started - submitted for run in path_runs if run.started]
            clip_count = sum(
                1
                for run in path_runs
                if run.status == "SUCCESS"
                for _ in (stack.home / "storage" / "local" / "clips").glob(
                    f"{run.partition.split('.', 1)[1]}-*/clip.mp4"
                )
            )
        else:
            sources = len(batch.api_jobs)
            queue = [
                run.started - batch.api_jobs[job_by_run[run.run_id]["id"]]
                for run in path_runs
                if run.started and run.run_id in job_by_run
            ]
            clip_count = sum(1 for clip in clips if clip.get("job_id") in batch.api_jobs)
        durations = [run.ended - run.started for run in path_runs if run.started and run.ended]
        succeeded = len({run.partition for run in path_runs if run.status == "SUCCESS"})
        other = [f"{run.status.lower()}" for run in path_runs if run.status != "SUCCESS"]
        last_end = max([last_end, *(run.ended for run in path_runs if run.ended)])
        lines.append(
            f"| {'inbox (sensor)' if path == 'sensor' else 'API'} | {sources} | {len(path_runs)} | {succeeded} | "
            f"{', '.join(other) or 'none'} | {clip_count} | "
            f"{percentile(queue, 0.5):.0f} s / {max(queue, default=0):.0f} s | "
            f"{percentile(durations, 0.5):.0f} s / {max(durations, default=0):.0f} s |"
        )
    locked = stack.log_mentions(LOCKED)
    lines += [
        "",
        f"- wall time, submission to the last run's end: **{last_end - batch.started:.0f} s**",
        f"- peak RSS, daemon + API + every process they started (summed): **{memory.peak_bytes / 1e9:.2f} GB** "
        f"({memory.peak_processes} processes at most)",
        f'- "{LOCKED}": {locked or "none"} in the servers\' logs',
        f"- clips in storage, all paths: {stored_clips(stack.home)}",
        f"- server starts: {stack.starts}",
        f"- load during the run (`uptime`): {'; '.join(loads)}",
    ]
    lines += [
        "",
        "Per run (seconds after submission):",
        "",
        "| run | path | status | created | started | finished |",
        "|---|---|---|---|---|---|",
    ]
    for run in sorted(runs, key=lambda r: r.started or float("inf")):

        def at(value: float | None) -> str:
            return f"{value - batch.started:.0f}" if value else "-"

        lines.append(
            f"| {run.run_id[:8]} | {run.trigger} | {run.status.lower()} | {at(run.created)} | "
            f"{at(run.started)} | {at(run.ended)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=int, default=10, help="sources dropped into the inbox")
    parser.add_argument("--api", type=int, default=10, help="sources submitted through the API")
    parser.add_argument("--max-clips", type=int, default=2)
    parser.add_argument("--timeout-min", type=float, default=60)
    parser.add_argument("--memory-limit-gb", type=float, default=14, help="stop the bench past this (shared machine)")
    parser.add_argument("--keep", action="store_true", help="keep the CLIPPED_HOME (its path is printed)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "load_batch.md")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="clipped-load-"))
    stack = Stack(home, inbox_max_clips=args.max_clips)
    print(f"CLIPPED_HOME={home}", flush=True)
    try:
        sources = make_sources(args.inbox + args.api, home / "sources", "load")
        stack.prepare_instance()
        stack.start_daemon()
        stack.start_api()
        user = ApiUser(stack.api_url, "load@example.com")
        loads = [uptime()]
        with MemorySampler(stack.processes, limit_bytes=int(args.memory_limit_gb * 1e9)) as memory:
            batch = submit_batch(stack, user, sources[: args.inbox], sources[args.inbox :], args.max_clips)
            print(f"submitted {len(batch.inbox_files)} to the inbox, {len(batch.api_jobs)} through the API", flush=True)
            last_report = [0.0]

            def progress(runs: list[RunTimes], jobs: list[dict]) -> None:
                if time.monotonic() - last_report[0] >= 60:
                    last_report[0] = time.monotonic()
                    loads.append(uptime())
                    states = {}
                    for run in runs:
                        states[run.status] = states.get(run.status, 0) + 1
                    print(f"{time.time() - batch.started:5.0f} s  runs {states}  {loads[-1]}", flush=True)

            runs, jobs = wait_for_batch(stack, user, batch, args.timeout_min * 60, progress, memory.over_limit)
            if memory.over_limit.is_set():
                print(f"stopped: RSS passed {args.memory_limit_gb} GB", flush=True)
            clips = user.clips()
        report = describe(stack, batch, runs, jobs, clips, memory, loads[::5] + loads[-1:], "Batch under load")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)
        print(report)
    finally:
        stack.close()
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
