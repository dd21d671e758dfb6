"""Moment-selection benchmark: precision and recall of the top N on talks with planted, labelled moments.

Each talk (tests/support/planted_moments.py) is ~28 minutes of one calm public-domain voice with N planted
moments (livelier delivery ending in generated laughter, applause or cheering; half told as a story) and N
decoys (calm lines with lexical hooks: "Who wants to take notes today?"). The talk's WAV goes through the real
`audio_features` code (loudness, pitch, reaction detector); the transcript is the script. The selector picks
its top N windows (15-60 s), and a pick is a hit when at least half of it lies in a planted moment.

Reported per selector: precision@N, recall@N (planted moments hit at least once), decoys picked, the largest
overlap between two picks (share of the shorter), repeated titles, and reactions detected vs planted. With
``--before REF``, the selector as it was at git REF runs on the same features for comparison.

    python bench/selection_eval.py                          # 3 talks (seeds 1-3), N = 10
    python bench/selection_eval.py --before 8352bd8         # also the selector before issue 10
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipped.select import select_candidates  # noqa: E402
from clipped.select.semantics import LexicalEmbedder  # noqa: E402
from clipped.types import AudioFeatures, ClipSettings, Scenes, Transcript  # noqa: E402
from clipped.understand.audio_features import compute_audio_features  # noqa: E402
from clipped.understand.sentence_embedding import SentenceEmbedder  # noqa: E402
from tests.support.planted_moments import LIVELY_GAIN_DB, PlantedTalk, build_talk  # noqa: E402

OUT = ROOT / "bench" / "out"


@dataclass(frozen=True)
class Pick:
    start_s: float
    end_s: float
    title: str


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    decoys: int
    max_overlap: float
    repeated_titles: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--moments", type=int, default=10, help="planted moments (and decoys) per talk; N")
    parser.add_argument("--calm-between", type=float, default=60.0, help="seconds of calm talk between stretches")
    parser.add_argument("--before", help="git ref of an earlier selector to compare on the same features")
    parser.add_argument(
        "--subtle",
        action="store_true",
        help="planted moments only 4 dB louder and never worded as stories (delivery and reaction alone)",
    )
    args = parser.parse_args()

    settings = ClipSettings(max_clips=args.moments, min_duration_s=15, max_duration_s=60)
    minilm = SentenceEmbedder()
    results: dict[str, list[Scores]] = {}
    lines: list[str] = []
    reactions_found = reactions_planted = reactions_wrong = 0
    timings: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        before_root = _export(args.before, Path(folder)) if args.before else None
        for seed in args.seeds:
            talk = build_talk(
                args.moments,
                args.moments,
                calm_between_s=args.calm_between,
                seed=seed,
                lively_gain_db=4.0 if args.subtle else LIVELY_GAIN_DB,
                stories=not args.subtle,
            )
            wav = talk.write(Path(folder) / f"talk_{seed}.wav")
            started = time.monotonic()
            audio = compute_audio_features(wav)
            features_s = time.monotonic() - started
            found, wrong = _reaction_matches(talk, audio)
            reactions_found += found
            reactions_wrong += wrong
            reactions_planted += len(talk.planted)
            scenes = Scenes(cuts_s=[], duration_s=talk.transcript.duration_s)
            inputs = (talk.transcript, audio, scenes, settings)
            runs = {
                "now, MiniLM": partial(_select, *inputs, minilm),
                "now, no model (hashed words)": partial(_select, *inputs, None),
            }
            if before_root is not None:
                runs[f"before ({args.before})"] = partial(_select_before, before_root, *inputs)
            for name, run in runs.items():
                started = time.monotonic()
                picks = run()
                elapsed = time.monotonic() - started
                results.setdefault(name, []).append(_score(talk, picks, args.moments))
                if seed == args.seeds[0]:
                    timings.append(f"{name}: {elapsed:.1f} s")
            duration_min = talk.transcript.duration_s / 60
            lines.append(
                f"- seed {seed}: {duration_min:.1f} min talk, audio_features {features_s:.1f} s "
                f"({features_s / talk.transcript.duration_s:.4f}x real time)"
            )

    table = [
        f"| selector | precision@{args.moments} | recall@{args.moments} | decoys picked | max overlap "
        "| repeated titles |",
        "|---|---|---|---|---|---|",
    ]
    for name, scores in results.items():
        count = len(scores)
        table.append(
            f"| {name} | {sum(s.precision for s in scores) / count:.2f} | {sum(s.recall for s in scores) / count:.2f} "
            f"| {sum(s.decoys for s in scores) / count:.1f} | {max(s.max_overlap for s in scores):.0%} "
            f"| {sum(s.repeated_titles for s in scores) / count:.1f} |"
        )
    variant = (
        "4 dB louder, no story wording" if args.subtle else f"{LIVELY_GAIN_DB:g} dB louder, half worded as stories"
    )
    text = "\n".join(
        [
            f"Moment selection on {len(args.seeds)} generated talks (seeds {', '.join(map(str, args.seeds))}), "
            f"{args.moments} planted moments ({variant}) and {args.moments} decoys each; means over talks "
            "(max overlap: the largest over all talks).",
            "",
            *table,
            "",
            f"Reactions: {reactions_found} of {reactions_planted} planted found with the right kind, "
            f"{reactions_wrong} detections elsewhere or of the wrong kind.",
            "",
            *lines,
            f"- selection time on the first talk: {'; '.join(timings)}",
            f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end",
        ]
    )
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"selection_eval{'_subtle' if args.subtle else ''}.md").write_text(text + "\n")


def _select(transcript: Transcript, audio: AudioFeatures, scenes: Scenes, settings: ClipSettings, embedder) -> list:
    chosen = select_candidates(
        transcript, audio, scenes, settings, keep=settings.max_clips, embedder=embedder or LexicalEmbedder()
    )
    return [Pick(c.start_s, c.end_s, c.title) for c in chosen]


def _export(ref: str, folder: Path) -> Path:
    """The ``clipped`` package as it was at git ``ref``, unpacked under ``folder``."""
    target = folder / "before"
    target.mkdir()
    archive = folder / "before.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), ref, "clipped"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


_BEFORE_SCRIPT = """
import json, sys
from clipped.select import select_candidates
from clipped.types import AudioFeatures, ClipSettings, Scenes, Transcript
data = json.load(sys.stdin)
chosen = select_candidates(
    Transcript.model_validate(data["transcript"]), AudioFeatures.model_validate(data["audio"]),
    Scenes.model_validate(data["scenes"]), ClipSettings.model_validate(data["settings"]),
    keep=data["settings"]["max_clips"],
)
print(json.dumps([[c.start_s, c.end_s, c.title] for c in chosen]))
"""


def _select_before(
    root: Path, transcript: Transcript, audio: AudioFeatures, scenes: Scenes, settings: ClipSettings
) -> list[Pick]:
    payload = json.dumps(
        {
            "transcript": transcript.model_dump(mode="json"),
            "audio": audio.model_dump(mode="json"),
            "scenes": scenes.model_dump(mode="json"),
            "settings": settings.model_dump(mode="json"),
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", _BEFORE_SCRIPT],
        input=payload,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(root)},
        cwd=root,
    )
    return [Pick(start, end, title) for start, end, title in json.loads(result.stdout)]


def _score(talk: PlantedTalk, picks: list[Pick], n: int) -> Scores:
    planted = talk.planted
    hit_moments: set[int] = set()
    hits = decoys = 0
    for pick in picks:
        length = max(pick.end_s - pick.start_s, 1e-6)
        inside = [_overlap(pick, m.start_s, m.end_s) for m in planted]
        best = max(range(len(planted)), key=inside.__getitem__)
        if inside[best] >= 0.5 * length:
            hits += 1
            hit_moments.add(best)
        elif any(pick.start_s <= d.start_s + 1.0 and pick.end_s > d.start_s for d in talk.decoys):
            decoys += 1  # the pick opens on (or runs through) a decoy's hook line
    overlaps = [
        _overlap(a, b.start_s, b.end_s) / min(a.end_s - a.start_s, b.end_s - b.start_s)
        for a, b in itertools.combinations(picks, 2)
    ]
    titles = [pick.title.lower() for pick in picks]
    return Scores(
        precision=hits / n,
        recall=len(hit_moments) / len(planted),
        decoys=decoys,
        max_overlap=max(overlaps, default=0.0),
        repeated_titles=len(titles) - len(set(titles)),
    )


def _overlap(pick: Pick, start_s: float, end_s: float) -> float:
    return max(0.0, min(pick.end_s, end_s) - max(pick.start_s, start_s))


def _reaction_matches(talk: PlantedTalk, audio: AudioFeatures) -> tuple[int, int]:
    """Planted reactions found with the right kind, and detections that match no planted reaction."""
    found = 0
    used: set[int] = set()
    for moment in talk.planted:
        for index, reaction in enumerate(audio.reactions):
            near = moment.end_s - 6.0 <= reaction.start_s <= moment.end_s
            if near and reaction.kind == moment.reaction and index not in used:
                found += 1
                used.add(index)
                break
    return found, len(audio.reactions) - len(used)


if __name__ == "__main__":
    main()
