"""Benchmark: wall time per asset and end to end, as a ratio to media duration, plus peak memory.

Builds long inputs by looping the bundled sample (stream copy, no re-encode), runs the clip job in process
against a throwaway instance, and prints a markdown table (also written to bench/out/results.md).

    python bench/pipeline_bench.py --minutes 10 60 --max-clips 10
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS = ("source_video", "transcript", "scenes", "audio_features", "candidates", "faces", "rendered_clips")


def build_long_input(minutes: float, out: Path) -> Path:
    from clipped.media.ffmpeg import run_ffmpeg

    sample = ROOT / "samples" / "clipped_sample.mp4"
    run_ffmpeg(["-stream_loop", "-1", "-i", str(sample), "-t", str(minutes * 60), "-c", "copy", str(out)])
    return out


def run_once(minutes: float, max_clips: int, work: Path) -> dict[str, float]:
    from dagster import DagsterInstance

    from clipped.types import ClipSettings
    from clipped_app.pipeline import register_source, run_clip_job
    from definitions import build_definitions

    video = build_long_input(minutes, work / f"long_{minutes:g}min.mp4")
    defs = build_definitions("local", home=work / f"home_{minutes:g}", extra_allowed_roots=[str(work)])
    instance = DagsterInstance.ephemeral()
    source = register_source(
        defs.resources["storage"], instance, str(video), ClipSettings(max_clips=max_clips), "bench"
    )
    started = time.monotonic()
    result = run_clip_job(defs, instance, source, log_level="WARNING")
    total = time.monotonic() - started
    timings = step_durations(instance, result.run_id)
    timings["end_to_end"] = total
    return timings


def step_durations(instance, run_id: str) -> dict[str, float]:
    """Seconds from each step's start to its success, read from the instance's event log."""
    starts: dict[str, float] = {}
    durations: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS" and event.step_key in starts:
            durations[event.step_key] = entry.timestamp - starts[event.step_key]
    return durations


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10.0])
    parser.add_argument("--max-clips", type=int, default=10)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="clipped-bench-") as scratch:
        for minutes in args.minutes:
            timings = run_once(minutes, args.max_clips, Path(scratch))
            own, children = peak_rss_mb()
            rows.append((minutes, timings, own, children))
            print(format_table(rows, args.max_clips), flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(format_table(rows, args.max_clips) + "\n")


def format_table(rows, max_clips: int) -> str:
    header = "| source | " + " | ".join(STEPS) + " | end to end | ratio | peak RSS (python / largest child) |"
    lines = [header, "|" + "---|" * (len(STEPS) + 5)]
    for minutes, timings, own, children in rows:
        cells = [f"{timings.get(step, float('nan')):.0f} s" for step in STEPS]
        ratio = timings["end_to_end"] / (minutes * 60)
        lines.append(
            f"| {minutes:g} min → {max_clips} clips | "
            + " | ".join(cells)
            + f" | {timings['end_to_end']:.0f} s | {ratio:.3f} | {own:.0f} MB / {children:.0f} MB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
