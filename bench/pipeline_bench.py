"""Benchmark: wall and CPU time per asset and end to end, as a ratio to media duration, plus peak memory.

``--footage moving`` (the default) runs on camera-like footage from bench/moving_footage.py: a virtual handheld
camera over public-domain photos with faces, hard cuts, grain and speech, at 720p25 or 1080p30. ``--footage
sample`` loops the bundled sample (a still image over speech), the old benchmark. The clip job runs in process
against a throwaway instance; a sampler thread records this process's CPU time (its own threads plus the
ffmpeg children it has waited for) twice a second, so each step's CPU time is read at its start and end. The
machine's load average is recorded too: other work on the machine inflates wall times, not CPU times.

    python bench/pipeline_bench.py --footage moving --resolution 720p --minutes 60
    python bench/pipeline_bench.py --footage moving --resolution 1080p --minutes 60
"""

from __future__ import annotations

import argparse
import bisect
import os
import resource
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from clipped.stages import CLIP_JOB_STEPS  # noqa: E402

# clip_job's steps, upstream first (tests/unit/test_bench_tables.py keeps this equal to the job's assets, so a
# new step shows up in the table with its cost).
STEPS = CLIP_JOB_STEPS


@dataclass
class CpuSampler:
    """(wall clock, CPU seconds of this process and its reaped children, 1-min load) every ``every_s``."""

    every_s: float = 0.5
    samples: list[tuple[float, float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> CpuSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._sample()

    def _sample(self) -> None:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        self.samples.append((time.time(), cpu, os.getloadavg()[0]))

    def cpu_between(self, start: float, end: float) -> float:
        times = [s[0] for s in self.samples]
        return self._cpu_at(times, end) - self._cpu_at(times, start)

    def load_between(self, start: float, end: float) -> float:
        loads = [load for t, _cpu, load in self.samples if start <= t <= end]
        return sum(loads) / len(loads) if loads else float("nan")

    def _cpu_at(self, times: list[float], at: float) -> float:
        index = min(max(bisect.bisect_left(times, at), 0), len(self.samples) - 1)
        return self.samples[index][1]


def build_sample_input(minutes: float, out: Path) -> Path:
    from clipped.media.ffmpeg import run_ffmpeg

    sample = ROOT / "samples" / "clipped_sample.mp4"
    run_ffmpeg(["-stream_loop", "-1", "-i", str(sample), "-t", str(minutes * 60), "-c", "copy", str(out)])
    return out


def run_once(video: Path, minutes: float, max_clips: int, work: Path) -> dict[str, dict[str, float]]:
    from dagster import DagsterInstance

    from clipped.types import ClipSettings
    from clipped_app.pipeline import register_source, run_clip_job
    from definitions import build_definitions

    home = work / f"home_{video.stem}"
    defs = build_definitions("local", home=home, extra_allowed_roots=[str(video.parent), str(work)])
    instance = DagsterInstance.ephemeral()
    source = register_source(
        defs.resources["storage"], instance, str(video), ClipSettings(max_clips=max_clips), "bench"
    )
    with CpuSampler() as sampler:
        started = time.time()
        result = run_clip_job(defs, instance, source, log_level="WARNING")
        ended = time.time()
    rows = {}
    for step, (step_start, step_end) in step_spans(instance, result.run_id).items():
        rows[step] = {
            "wall": step_end - step_start,
            "cpu": sampler.cpu_between(step_start, step_end),
            "load": sampler.load_between(step_start, step_end),
        }
    rows["end_to_end"] = {
        "wall": ended - started,
        "cpu": sampler.cpu_between(started, ended),
        "load": sampler.load_between(started, ended),
    }
    return rows


def step_spans(instance, run_id: str) -> dict[str, tuple[float, float]]:
    """Each step's start and success times (unix seconds), read from the instance's event log."""
    starts: dict[str, float] = {}
    spans: dict[str, tuple[float, float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS" and event.step_key in starts:
            spans[event.step_key] = (starts[event.step_key], entry.timestamp)
    return spans


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--footage", choices=["moving", "sample"], default="moving")
    parser.add_argument("--resolution", choices=["720p", "1080p"], default="720p")
    parser.add_argument("--minutes", type=float, nargs="+", default=[60.0])
    parser.add_argument("--max-clips", type=int, default=10)
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="clipped-bench-") as scratch:
        for minutes in args.minutes:
            if args.footage == "moving":
                from moving_footage import moving_footage

                video = moving_footage(args.resolution, minutes)
                label = f"{minutes:g} min {args.resolution} moving"
            else:
                video = build_sample_input(minutes, Path(scratch) / f"long_{minutes:g}min.mp4")
                label = f"{minutes:g} min sample (still)"
            timings = run_once(video, minutes, args.max_clips, Path(scratch))
            own, children = peak_rss_mb()
            rows.append((label, minutes, timings, own, children))
            print(format_table(rows, args.max_clips), flush=True)
    name = f"pipeline_{args.footage}_{args.resolution if args.footage == 'moving' else 'sample'}.md"
    header = f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs\n\n"
    (out / name).write_text(header + format_table(rows, args.max_clips) + "\n")


def format_table(rows, max_clips: int) -> str:
    header = (
        "| source | "
        + " | ".join(STEPS)
        + " | end to end | ratio | CPU-s per media-s | mean load | peak RSS (python / largest child) |"
    )
    lines = [header, "|" + "---|" * (len(STEPS) + 6)]
    for label, minutes, timings, own, children in rows:
        cells = []
        for step in STEPS:
            row = timings.get(step)
            cells.append(f"{row['wall']:.0f} / {row['cpu']:.0f}" if row else "–")
        total = timings["end_to_end"]
        ratio = total["wall"] / (minutes * 60)
        lines.append(
            f"| {label} → {max_clips} clips | "
            + " | ".join(cells)
            + f" | {total['wall']:.0f} s | {ratio:.3f} | {total['cpu'] / (minutes * 60):.3f} | {total['load']:.1f} "
            f"| {own:.0f} MB / {children:.0f} MB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
