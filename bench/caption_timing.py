"""Caption timing and ASR accuracy on a conversation whose every utterance onset is known to the sample.

    python bench/caption_timing.py                          # tiny.en and base, low and moderate room noise
    python bench/caption_timing.py --models tiny.en --noise -55

The reference (``tests/support/speech_reference.py``) joins the shipped public-domain utterances — a human
LibriVox reader and the Harvard sentences in piper's and espeak's voices — as turns with 0.3–3 s gaps of room
noise. For each model the transcript is measured as the decoder gives it (``raw``) and after
:func:`clipped.understand.word_timing.refine_transcript` (``refined``; what the ``transcript`` asset stores):
the onset error of each utterance's first word (p50/p95 of |error|), utterances missed (no first word within
1.5 s), the end error of its last word, and WER. Writes ``bench/out/caption_timing.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipped.understand.word_timing import refine_transcript  # noqa: E402
from clipped_resources.asr import FasterWhisperAsr, silero_voice_probabilities  # noqa: E402
from tests.support.speech_reference import conversation, measure_timing, word_error_rate  # noqa: E402

OUT = ROOT / "bench" / "out" / "caption_timing.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    parser.add_argument("--noise", nargs="+", type=float, default=[-55.0, -45.0], help="room noise, dBFS RMS")
    parser.add_argument("--model-cache", default=None, help="where Whisper base is assembled (default: a temp dir)")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="clipped-caption-bench-") as work:
        cache = args.model_cache or str(Path(work) / "models")
        for noise in args.noise:
            spoken = conversation(noise_dbfs=noise)
            wav = spoken.write(Path(work) / f"conversation_{int(-noise)}.wav")
            for model in args.models:
                asr = FasterWhisperAsr(model=model, cpu_threads=2, model_cache_dir=cache, refine_word_times=False)
                asr.transcribe(wav)  # load the model outside the timing
                started = time.monotonic()
                raw = asr.transcribe(wav)
                asr_s = time.monotonic() - started
                started = time.monotonic()
                refined = refine_transcript(raw, spoken.audio, voice_probabilities=silero_voice_probabilities)
                refine_s = time.monotonic() - started
                wer = word_error_rate(spoken.text, " ".join(word.word for word in raw.words))
                for label, transcript, seconds in (("raw", raw, asr_s), ("refined", refined, asr_s + refine_s)):
                    report = measure_timing(transcript.words, spoken.utterances)
                    rows.append(
                        {
                            "noise": noise,
                            "model": model,
                            "times": label,
                            "p50": report.onset_p50_ms,
                            "p95": report.onset_p95_ms,
                            "worst": max(abs(e) for e in report.onset_errors_s) * 1000 if report.onset_errors_s else 0,
                            "missed": f"{report.missed}/{report.utterances}",
                            "end_p50": report.end_p50_ms,
                            "end_p95": report.end_p95_ms,
                            "wer": wer,
                            "rtf": seconds / raw.duration_s,
                            "audio_s": raw.duration_s,
                        }
                    )
                    print(_row(rows[-1]), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(_markdown(rows))
    print(f"wrote {OUT}")


_HEADER = (
    "| room noise | model | word times | onset p50 | onset p95 | worst | missed | end p50 | end p95 | WER | RTF |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def _row(row: dict[str, object]) -> str:
    return (
        f"| {row['noise']:.0f} dBFS | {row['model']} | {row['times']} | {row['p50']:.0f} ms | {row['p95']:.0f} ms "
        f"| {row['worst']:.0f} ms | {row['missed']} | {row['end_p50']:.0f} ms | {row['end_p95']:.0f} ms "
        f"| {row['wer']:.1%} | {row['rtf']:.3f} |"
    )


def _markdown(rows: list[dict[str, object]]) -> str:
    audio_s = rows[0]["audio_s"] if rows else 0
    load = os.getloadavg()[0]
    return (
        "# Caption timing\n\n"
        f"`python bench/caption_timing.py`: {audio_s:.0f} s conversation, 25 utterances, 3 voices; "
        f"2-core CPU, int8, load average {load:.1f} at the end.\n\n" + _HEADER + "\n".join(map(_row, rows)) + "\n"
    )


if __name__ == "__main__":
    main()
