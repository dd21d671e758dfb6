"""Learning-loop benchmark: how ranking improves over publish → measure → fit → accept rounds (simulated).

Clips come from the real selector on synthetic talks; views are drawn from hidden true weights plus log-normal
noise (clipped/learn/simulate.py). Prints, per round, the posts measured so far, the weights version in use,
its Spearman and NDCG@10 against realised views on a fixed pool of fresh clips, and its L1 distance to the
hidden weights; with several seeds, a summary of the gain. Also written to bench/out/learning.md.

    python bench/learning_bench.py                       # 6 rounds of 8 talks × 5 clips, seed 7
    python bench/learning_bench.py --seeds 1 2 3 4 5     # the same, summarised over seeds
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipped.learn.report import rounds_markdown  # noqa: E402
from clipped.learn.simulate import HiddenTruth, simulate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--talks", type=int, default=8, help="fresh talks per round (5 clips each are posted)")
    parser.add_argument("--clips", type=int, default=5)
    parser.add_argument("--eval-talks", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7])
    args = parser.parse_args()
    truth = HiddenTruth()
    hidden = ", ".join(f"{name} {value:.2f}" for name, value in truth.weights.items())
    lines = [f"Hidden weights: {hidden}; noise sigma {truth.noise_sigma} log-views.", ""]
    gains, distances = [], []
    started = time.monotonic()
    for seed in args.seeds:
        reports = simulate(
            rounds=args.rounds,
            talks_per_round=args.talks,
            clips_per_talk=args.clips,
            eval_talks=args.eval_talks,
            seed=seed,
            truth=truth,
        )
        gains.append(reports[-1].spearman - reports[0].spearman)
        distances.append((reports[0].distance, reports[-1].distance))
        if len(args.seeds) == 1 or seed == args.seeds[0]:
            lines += [f"Seed {seed}:", "", rounds_markdown(reports), ""]
    if len(args.seeds) > 1:
        lines.append(
            f"Over {len(args.seeds)} seeds: Spearman gain mean {statistics.mean(gains):+.3f} "
            f"(min {min(gains):+.3f}), L1 distance to hidden {statistics.mean(d[0] for d in distances):.2f} → "
            f"{statistics.mean(d[1] for d in distances):.2f} (worst {max(d[1] for d in distances):.2f})."
        )
    lines.append(f"({time.monotonic() - started:.1f} s)")
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "learning.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
