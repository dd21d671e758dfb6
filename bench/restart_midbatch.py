"""Load figure: the review API and the Dagster daemon restarted in the middle of a batch lose no job and no clip.

The embedded default of bench/load_batch.py (`dagster-daemon run` with the upload sensor, `clipped api` with its
embedded launcher, one SQLite DAGSTER_HOME) takes a batch through the inbox and the API. Once an API run is
executing and the sensor's runs are queued or executing, both servers get SIGTERM and are started again; once a
run that started after that is executing, both get SIGKILL (the servers only, as an OOM kill or a crash would:
what they started keeps running or dies on its own) and are started again. The bench then waits for the batch
and counts: sources, jobs, runs by status, sources without a successful run, clips in storage per source,
"database is locked" in the logs.

    python bench/restart_midbatch.py --inbox 4 --api 4 --max-clips 1

Writes bench/out/restart_midbatch.md.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_batch import batch_state, describe, submit_batch, wait_for_batch  # noqa: E402
from bench.load_harness import ApiUser, MemorySampler, Stack, make_sources, uptime  # noqa: E402


def wait_until(stack: Stack, user: ApiUser, batch, condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs, _ = batch_state(stack, user, batch)
        if condition(runs):
            return True
        time.sleep(3)
    return False


def executing(trigger: str, after: float = 0.0):
    return lambda runs: any(r.trigger == trigger and r.status == "STARTED" and (r.started or 0) > after for r in runs)


def restart(stack: Stack, user: ApiUser, sig: int, events: list[str], started: float) -> None:
    for name in ("api", "daemon"):
        process = getattr(stack, name)
        events.append(f"{time.time() - started:.0f} s: {signal.Signals(sig).name} to {name} (pid {process.pid})")
        stack.stop(process, sig)
    stack.start_daemon()
    stack.start_api()
    user.login()
    events.append(f"{time.time() - started:.0f} s: both started again")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=int, default=4)
    parser.add_argument("--api", type=int, default=4)
    parser.add_argument("--max-clips", type=int, default=1)
    parser.add_argument("--timeout-min", type=float, default=60)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "restart_midbatch.md")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="clipped-restart-"))
    stack = Stack(home, inbox_max_clips=args.max_clips)
    print(f"CLIPPED_HOME={home}", flush=True)
    events: list[str] = []
    try:
        sources = make_sources(args.inbox + args.api, home / "sources", "restart")
        stack.prepare_instance()
        stack.start_daemon()
        stack.start_api()
        user = ApiUser(stack.api_url, "restart@example.com")
        loads = [uptime()]
        with MemorySampler(stack.processes) as memory:
            batch = submit_batch(stack, user, sources[: args.inbox], sources[args.inbox :], args.max_clips)
            # An API run executing while the sensor's runs exist (queued or executing): the middle of the batch.
            middle = lambda runs: executing("api")(runs) and any(r.trigger == "sensor" for r in runs)  # noqa: E731
            if not wait_until(stack, user, batch, middle, args.timeout_min * 60):
                raise RuntimeError("no API run executing beside the sensor's; nothing to restart in the middle of")
            loads.append(uptime())
            restart(stack, user, signal.SIGTERM, events, batch.started)
            mark = time.time()
            later = lambda runs: executing("sensor", mark)(runs) or executing("api", mark)(runs)  # noqa: E731
            if wait_until(stack, user, batch, later, args.timeout_min * 60):
                loads.append(uptime())
                restart(stack, user, signal.SIGKILL, events, batch.started)
            runs, jobs = wait_for_batch(stack, user, batch, args.timeout_min * 60)
            loads.append(uptime())
            clips = user.clips()
        report = describe(stack, batch, runs, jobs, clips, memory, loads, "Restarts in the middle of a batch")
        statuses: dict[str, int] = {}
        for job in jobs:
            statuses[job["status"]] = statuses.get(job["status"], 0) + 1
        report += "\n".join(
            [
                "",
                "Restarts:",
                "",
                *[f"- {event}" for event in events],
                f"- API jobs by status at the end: {statuses}",
                "",
            ]
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)
        print(report)
    finally:
        stack.close()
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
