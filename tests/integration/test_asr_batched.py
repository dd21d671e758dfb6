"""faster-whisper's batched pipeline (the GPU path) run on the CPU: same schema, same words, close times."""

from __future__ import annotations

import difflib
import statistics
from pathlib import Path

import faster_whisper
import pytest

from clipped.types import Transcript
from clipped_resources.asr import FasterWhisperAsr

SPEECH = Path(__file__).resolve().parents[1] / "data" / "librivox_austen_5utt.wav"


def _key(word: str) -> str:
    return word.lower().strip(".,;:!?\"'")


def start_differences(reference: Transcript, other: Transcript) -> tuple[int, list[float]]:
    """Words of ``other`` matched to ``reference`` by text in order, and the start-time gap of each match."""
    a, b = [_key(w.word) for w in reference.words], [_key(w.word) for w in other.words]
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    gaps = [
        abs(reference.words[block.a + k].start_s - other.words[block.b + k].start_s)
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
    ]
    return len(gaps), sorted(gaps)


@pytest.fixture(scope="module")
def sequential() -> Transcript:
    return FasterWhisperAsr(model="tiny.en", cpu_threads=2, batch_size=0).transcribe(SPEECH)


@pytest.fixture()
def batched_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls into the real BatchedInferencePipeline, so a test knows the batched path really ran."""
    calls: list[int] = []
    real = faster_whisper.BatchedInferencePipeline.transcribe

    def counting(self, audio, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["batch_size"])
        return real(self, audio, **kwargs)

    monkeypatch.setattr(faster_whisper.BatchedInferencePipeline, "transcribe", counting)
    return calls


@pytest.mark.parametrize("vad_filter", [True, False], ids=["vad", "fixed-windows"])
def test_batched_matches_sequential_words_and_times(
    sequential: Transcript, batched_calls: list[int], vad_filter: bool
) -> None:
    progress: list[float] = []
    batched = FasterWhisperAsr(model="tiny.en", cpu_threads=2, batch_size=8, vad_filter=vad_filter).transcribe(
        SPEECH, on_progress=progress.append
    )
    assert batched_calls == [8]
    assert batched.model == sequential.model and batched.language == "en"
    assert batched.duration_s == pytest.approx(sequential.duration_s)
    matched, gaps = start_differences(sequential, batched)
    assert matched >= 0.95 * len(sequential.words) and len(batched.words) <= 1.05 * len(sequential.words)
    assert statistics.median(gaps) <= 0.05
    assert gaps[int(0.9 * len(gaps))] <= 0.2 and gaps[-1] <= 1.0
    previous_end = 0.0
    for segment in batched.segments:
        assert segment.words and segment.start_s == segment.words[0].start_s
        for word in segment.words:
            assert word.word == word.word.strip() and 0.0 <= word.probability <= 1.0
            assert previous_end <= word.start_s <= word.end_s <= batched.duration_s
            previous_end = word.end_s
    assert progress[0] == 0.0 and progress[-1] == 1.0 and progress == sorted(progress)


def test_sequential_path_does_not_batch_on_cpu_by_default(batched_calls: list[int]) -> None:
    transcript = FasterWhisperAsr(model="tiny.en", cpu_threads=2).transcribe(SPEECH)
    assert batched_calls == [] and len(transcript.words) > 50
