"""ASR real-time factor (wall time / audio duration) per backend, device and batch size.

    python bench/asr_bench.py --minutes 5 --batch-size 0 8                  # CPU: sequential vs batched
    python bench/asr_bench.py --device cuda --model large-v2 --minutes 60 --batch-size 0 8 16 32
    python bench/asr_bench.py --backend whisperx --device cuda --model large-v2 --minutes 60 --batch-size 16

The audio (default: the bundled sample's speech) is looped to ``--minutes``. Model loading is kept out of the
timing by a short warm-up run per configuration. Prints one row per configuration and, with ``--json``, writes
them to a file.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from clipped.understand.asr_audio import WHISPER_SAMPLE_RATE, load_audio_for_asr
from clipped_resources.asr_backends import asr_from_env
from clipped_resources.asr_device import resolve_compute_type, resolve_device

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AUDIO = ROOT / "samples" / "clipped_sample.mp4"


def looped_wav(source: Path, minutes: float, folder: Path) -> Path:
    """``source``'s audio repeated to ``minutes`` as a 16 kHz mono WAV (minutes <= 0: as is)."""
    audio = load_audio_for_asr(source)
    if minutes > 0:
        target = int(minutes * 60 * WHISPER_SAMPLE_RATE)
        audio = np.tile(audio, -(-target // len(audio)))[:target]
    path = folder / f"bench_{len(audio) // WHISPER_SAMPLE_RATE}s.wav"
    soundfile.write(path, audio, WHISPER_SAMPLE_RATE)
    return path


def run_one(args: argparse.Namespace, batch_size: int, audio: Path, warmup: Path) -> dict[str, object]:
    env = {
        "CLIPPED_ASR_BACKEND": args.backend,
        "CLIPPED_ASR_DEVICE": args.device,
        "CLIPPED_ASR_BATCH_SIZE": str(batch_size),
    }
    if args.model:
        env["CLIPPED_ASR_MODEL"] = args.model
    if args.model_cache:
        env["CLIPPED_MODEL_CACHE"] = args.model_cache
    asr = asr_from_env(env)
    asr.transcribe(warmup, language=args.language)  # loads and caches the model
    walls = []
    for _ in range(args.repeat):
        started = time.monotonic()
        transcript = asr.transcribe(audio, language=args.language)
        walls.append(time.monotonic() - started)
    device = resolve_device(args.device)
    wall = min(walls)
    return {
        "backend": args.backend,
        "model": transcript.model,
        "device": device,
        "compute_type": resolve_compute_type("auto", device),
        "batch_size": batch_size,
        "audio_s": round(transcript.duration_s, 1),
        "wall_s": round(wall, 2),
        "rtf": round(wall / transcript.duration_s, 4),
        "words": len(transcript.words),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="ASR real-time factor per backend, device and batch size")
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO)
    parser.add_argument("--minutes", type=float, default=5.0, help="loop the audio to this length (0 = as is)")
    parser.add_argument("--backend", default="faster-whisper", choices=["faster-whisper", "whisperx"])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--model", default=None, help="default: the backend's default model")
    parser.add_argument("--model-cache", default=None, help="CLIPPED_MODEL_CACHE (a baked model cache)")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[0, 8], help="0 = sequential")
    parser.add_argument("--language", default="en")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration; the fastest counts")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="clipped-asr-bench-") as folder:
        audio = looped_wav(args.audio, args.minutes, Path(folder))
        warmup = looped_wav(args.audio, 0.25, Path(folder))
        rows = [run_one(args, batch_size, audio, warmup) for batch_size in args.batch_size]
    columns = list(rows[0])
    print(" | ".join(columns))
    for row in rows:
        print(" | ".join(str(row[column]) for column in columns))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
