"""Moment search recall@5 on a long source whose moments are known.

The source is built from public-domain and generated speech: the Harvard sentences (piper voice) and the LibriVox
reading shipped in tests/data, plus twelve short passages on distinct topics spoken by espeak-ng, all joined with
pauses so each passage's time span is known. The pipeline's own pieces then run on it: faster-whisper (the default
model) transcribes the audio, ``index_source`` embeds the sentences into LanceDB, and each query is searched.

Queries: per topic two paraphrases that avoid the passage's key words and one keyword query. A query is answered
when one of its top-5 moments overlaps its passage's span. Reported for the hybrid search and each half alone.

Needs espeak-ng (``apt-get install espeak-ng``). Run: ``.venv/bin/python bench/moment_search_recall.py``
(writes bench/out/moment_search_recall.md and .json).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clipped.layout import SourceRef  # noqa: E402
from clipped.media.ffmpeg import run_ffmpeg  # noqa: E402
from clipped.search.moment_store import MomentStore  # noqa: E402
from clipped.search.moments import index_source  # noqa: E402
from clipped.understand.sentence_embedding import SentenceEmbedder  # noqa: E402
from clipped_resources.asr_backends import asr_from_env  # noqa: E402
from clipped_resources.storage import LocalStorage  # noqa: E402

DATA = ROOT / "tests" / "data"
OUT = ROOT / "bench" / "out"
RATE = 16_000
PAUSE_S = 0.8
TOP_K = 5


@dataclass(frozen=True)
class Topic:
    name: str
    passage: str
    queries: tuple[str, str, str]  # paraphrase, paraphrase, keyword


TOPICS = [
    Topic(
        "bees",
        "Honey bees live in colonies ruled by a single queen. Worker bees gather nectar from flowers and turn it "
        "into honey. A beekeeper wears a veil and uses smoke to keep the hive calm.",
        ("how do you avoid getting stung while collecting honey", "insects that make a sweet food", "beekeeper"),
    ),
    Topic(
        "volcano",
        "Mount Etna in Sicily is one of the most active volcanoes in Europe. Lava flows can travel slowly down its "
        "slopes for weeks. Farmers still grow grapes in the rich volcanic soil.",
        ("eruptions of molten rock on an Italian island", "growing vines near a mountain that erupts", "lava"),
    ),
    Topic(
        "marathon",
        "Training for a marathon takes about four months. Runners slowly increase their long run each weekend. "
        "Rest days matter as much as the hard sessions.",
        ("preparing for a long distance race", "why recovery time is important for athletes", "marathon"),
    ),
    Topic(
        "bread",
        "To bake sourdough bread you need a lively starter. The dough rises overnight in a cool kitchen. A hot oven "
        "gives the loaf its dark crackling crust.",
        ("making a fermented loaf at home", "why the outside of baked dough turns dark", "sourdough"),
    ),
    Topic(
        "chess",
        "In chess the queen is the most powerful piece on the board. Beginners often lose games by moving the same "
        "piece twice. Controlling the center squares early is a sound strategy.",
        ("opening strategy in a board game with kings and bishops", "mistakes novices make in this game", "chess"),
    ),
    Topic(
        "solar",
        "Solar panels turn sunlight directly into electricity. Their output drops on cloudy winter days. Batteries "
        "store the extra energy for use at night.",
        ("generating power from the sun at home", "keeping energy for the evening", "batteries"),
    ),
    Topic(
        "whales",
        "Humpback whales migrate thousands of kilometers every year. They sing long complex songs that can last for "
        "hours. Their tails have patterns as unique as fingerprints.",
        ("huge sea mammals crossing the ocean", "animals whose music goes on for hours", "humpback"),
    ),
    Topic(
        "coffee",
        "Coffee beans are the seeds of a red cherry grown on tropical hills. Roasting brings out flavors of chocolate "
        "and fruit. A light roast keeps more of the original acidity.",
        ("where the beans for a morning drink come from", "how heating beans changes their taste", "roast"),
    ),
    Topic(
        "castles",
        "Medieval castles were built on hills to see enemies coming. Thick stone walls protected the people inside "
        "during a siege. A moat filled with water made the gate hard to reach.",
        ("defending a fortress in the middle ages", "why strongholds were placed on high ground", "moat"),
    ),
    Topic(
        "photosynthesis",
        "Plants make their own food through photosynthesis. Their leaves absorb carbon dioxide and release oxygen. "
        "Chlorophyll gives the leaves their green color.",
        ("how trees produce the air we breathe", "the pigment that makes foliage green", "chlorophyll"),
    ),
    Topic(
        "jazz",
        "Jazz was born in New Orleans early in the twentieth century. Musicians improvise solos over a steady rhythm "
        "section. The saxophone became a symbol of the style.",
        ("improvised music from Louisiana", "the history of a swinging music genre", "saxophone"),
    ),
    Topic(
        "budget",
        "A simple budget starts by tracking every expense for a month. Put aside some savings before paying for "
        "anything else. Credit card debt grows quickly when only the minimum is paid.",
        ("managing personal money and avoiding debt", "paying yourself first each month", "credit card"),
    ),
]


def load_16k_mono(path: Path, scratch: Path) -> np.ndarray:
    converted = scratch / f"{path.stem}_16k.wav"
    run_ffmpeg(["-i", str(path), "-ac", "1", "-ar", str(RATE), str(converted)])
    samples, _ = soundfile.read(converted, dtype="float32")
    return samples


def speak(text: str, out: Path) -> Path:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng is needed to speak the topic passages: apt-get install espeak-ng")
    subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(out), text], check=True)
    return out


def build_source(scratch: Path) -> tuple[Path, Path, dict[str, tuple[float, float]]]:
    """(video, wav, topic spans): distractor speech first and between topics, each topic's span known."""
    pause = np.zeros(int(PAUSE_S * RATE), dtype=np.float32)
    distractors = [
        load_16k_mono(DATA / "piper_harvard1.wav", scratch),
        load_16k_mono(DATA / "librivox_austen_5utt.wav", scratch),
    ]
    pieces: list[np.ndarray] = []
    spans: dict[str, tuple[float, float]] = {}
    cursor = 0
    for index, topic in enumerate(TOPICS):
        if index % 6 == 0:  # a distractor before the first and the seventh topic
            for samples in distractors:
                pieces += [samples, pause]
                cursor += len(samples) + len(pause)
        spoken = load_16k_mono(speak(topic.passage, scratch / f"{topic.name}.wav"), scratch)
        spans[topic.name] = (cursor / RATE, (cursor + len(spoken)) / RATE)
        pieces += [spoken, pause]
        cursor += len(spoken) + len(pause)
    audio = np.concatenate(pieces)
    wav = scratch / "source.wav"
    soundfile.write(wav, audio, RATE)
    video = scratch / "source.mp4"
    seconds = len(audio) / RATE
    run_ffmpeg(
        [
            *["-f", "lavfi", "-i", f"color=c=0x334455:size=640x360:rate=5:duration={seconds:.2f}", "-i", str(wav)],
            *["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(video)],
        ]
    )
    return video, wav, spans


def overlaps(hit_start: float, hit_end: float, span: tuple[float, float], tolerance_s: float = 0.5) -> bool:
    return hit_start < span[1] + tolerance_s and hit_end > span[0] - tolerance_s


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clipped-moment-bench-") as name:
        scratch = Path(name)
        video, wav, spans = build_source(scratch)
        started = time.monotonic()
        transcript = asr_from_env().transcribe(wav)
        transcribe_s = time.monotonic() - started
        storage = LocalStorage(root=str(scratch / "storage"))
        source = SourceRef("bench", "moments-0123456789")
        store = MomentStore(str(scratch / "lance"))
        embedder = SentenceEmbedder()
        started = time.monotonic()
        summary = index_source(storage, source, video, transcript, embedder, store, read_screen=None, ocr_frames=0)
        index_s = time.monotonic() - started
        modes = {"hybrid": ("vector", "text"), "vector only": ("vector",), "BM25 only": ("text",)}
        rows = []
        answered = {mode: 0 for mode in modes}
        reciprocal = {mode: 0.0 for mode in modes}
        latencies = []
        for topic in TOPICS:
            for kind, query in zip(("paraphrase", "paraphrase", "keyword"), topic.queries, strict=True):
                ranks = {}
                for mode, retrievers in modes.items():
                    started = time.monotonic()
                    hits = store.search("bench", embedder.embed_one(query), query, limit=TOP_K, retrievers=retrievers)
                    if mode == "hybrid":
                        latencies.append(time.monotonic() - started)
                    rank = next(
                        (i + 1 for i, h in enumerate(hits) if overlaps(h.start_s, h.end_s, spans[topic.name])), None
                    )
                    ranks[mode] = rank
                    answered[mode] += rank is not None
                    reciprocal[mode] += 1.0 / rank if rank else 0.0
                rows.append({"topic": topic.name, "kind": kind, "query": query, "rank": ranks})
        total = len(rows)
        results = {
            "source_duration_s": round(transcript.duration_s, 1),
            "sentences_indexed": summary.speech_rows,
            "queries": total,
            "recall_at_5": {mode: round(answered[mode] / total, 3) for mode in modes},
            "mrr_at_5": {mode: round(reciprocal[mode] / total, 3) for mode in modes},
            "recall_at_5_paraphrase": {
                mode: round(
                    sum(1 for r in rows if r["kind"] == "paraphrase" and r["rank"][mode]) / (2 * len(TOPICS)), 3
                )
                for mode in modes
            },
            "recall_at_5_keyword": {
                mode: round(sum(1 for r in rows if r["kind"] == "keyword" and r["rank"][mode]) / len(TOPICS), 3)
                for mode in modes
            },
            "transcribe_s": round(transcribe_s, 1),
            "index_s": round(index_s, 2),
            "query_ms_median": round(1000 * float(np.median(latencies)), 1),
            "asr_model": transcript.model,
            "rows": rows,
        }
    (OUT / "moment_search_recall.json").write_text(json.dumps(results, indent=2))
    lines = [
        "# Moment search recall@5",
        "",
        f"Source: {results['source_duration_s']} s of speech (Harvard sentences, LibriVox, 12 espeak-ng topic "
        f"passages), transcribed by faster-whisper `{results['asr_model']}`; {results['sentences_indexed']} sentences "
        f"indexed in {results['index_s']} s (thumbnails included); {total} queries (24 paraphrases, 12 keywords); "
        f"median query {results['query_ms_median']} ms (embedding + both retrievers).",
        "",
        "| search | recall@5 | paraphrase recall@5 | keyword recall@5 | MRR@5 |",
        "|---|---|---|---|---|",
    ]
    for mode in modes:
        lines.append(
            f"| {mode} | {results['recall_at_5'][mode]:.2f} | {results['recall_at_5_paraphrase'][mode]:.2f} | "
            f"{results['recall_at_5_keyword'][mode]:.2f} | {results['mrr_at_5'][mode]:.2f} |"
        )
    lines += ["", "| topic | kind | query | rank (hybrid / vector / BM25) |", "|---|---|---|---|"]
    for row in rows:
        ranks = " / ".join(str(row["rank"][mode] or "–") for mode in modes)
        lines.append(f"| {row['topic']} | {row['kind']} | {row['query']} | {ranks} |")
    (OUT / "moment_search_recall.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:10]))


if __name__ == "__main__":
    main()
