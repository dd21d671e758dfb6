"""Scene-cut recall and cost of the coarse-then-fine pass against the full-rate reference, on moving footage.

Runs :func:`detect_scenes` (keyframes for the whole file, full rate only in suspect stretches) and
:func:`detect_scenes_full_rate` (every frame) on the same benchmark footage, and compares both with the
footage's ground-truth cuts. A cut counts as found when one lies within ``--tolerance`` seconds (default: one
frame). Writes bench/out/scene_recall.md.

    python bench/scene_recall.py --resolution 720p --minutes 4
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from moving_footage import moving_footage  # noqa: E402

from clipped.understand.scenes import detect_scenes, detect_scenes_full_rate  # noqa: E402


def matched(found: list[float], expected: list[float], tolerance: float) -> int:
    """How many of ``expected`` have a cut in ``found`` within ``tolerance`` (each found cut used once)."""
    remaining = sorted(found)
    hits = 0
    for cut in expected:
        best = min(remaining, key=lambda f: abs(f - cut), default=None)
        if best is not None and abs(best - cut) <= tolerance:
            hits += 1
            remaining.remove(best)
    return hits


def timed(function, video: Path):
    started, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF)
    result = function(video)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return result, time.monotonic() - started, (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", default="720p")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--video", type=Path, help="any video; recall is then against the full-rate pass only")
    parser.add_argument("--tolerance", type=float)
    args = parser.parse_args()
    video = args.video or moving_footage(args.resolution, args.minutes)
    truth_file = video.with_suffix(".truth.json")
    truth = json.loads(truth_file.read_text()) if truth_file.exists() else None
    tolerance = args.tolerance or (1.0 / truth["fps"] + 1e-3 if truth else 0.05)
    coarse, coarse_wall, coarse_cpu = timed(detect_scenes, video)
    full, full_wall, full_cpu = timed(detect_scenes_full_rate, video)
    rows = [
        "| pass | cuts | recall vs full-rate | recall vs truth | false cuts vs truth | wall | CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, scenes, wall, cpu in (
        ("coarse→fine", coarse, coarse_wall, coarse_cpu),
        ("full rate", full, full_wall, full_cpu),
    ):
        vs_full = matched(scenes.cuts_s, full.cuts_s, tolerance) / max(1, len(full.cuts_s))
        vs_truth = "–"
        false_cuts = "–"
        if truth:
            hits = matched(scenes.cuts_s, truth["cuts_s"], tolerance)
            vs_truth = f"{hits / max(1, len(truth['cuts_s'])):.1%} ({hits}/{len(truth['cuts_s'])})"
            false_cuts = str(len(scenes.cuts_s) - hits)
        rows.append(
            f"| {name} | {len(scenes.cuts_s)} | {vs_full:.1%} | {vs_truth} | {false_cuts} "
            f"| {wall:.1f} s | {cpu:.1f} s |"
        )
    table = f"{video.name}, {full.duration_s:.0f} s, tolerance {tolerance * 1000:.0f} ms\n\n" + "\n".join(rows)
    print(table)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"scene_recall_{video.stem}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
