"""Caption timing on real speech: the ASR resource's word times against utterance onsets known to the sample.

A regression floor, a little looser than bench/caption_timing.py's figures (README, "Caption timing").
"""

from __future__ import annotations

import pytest

from clipped.types import Transcript
from clipped_resources.asr import FasterWhisperAsr
from tests.support.speech_reference import (
    RATE,
    Conversation,
    conversation,
    measure_timing,
    shipped_utterances,
    word_error_rate,
)


@pytest.fixture(scope="module")
def spoken() -> Conversation:
    # The first turns: the LibriVox reader and piper's voice, 0.3-3 s apart, in low room noise.
    return conversation(max_seconds=28.0)


@pytest.fixture(scope="module")
def transcript(spoken: Conversation, tmp_path_factory: pytest.TempPathFactory) -> Transcript:
    wav = spoken.write(tmp_path_factory.mktemp("caption-timing") / "conversation.wav")
    return FasterWhisperAsr(model="tiny.en", cpu_threads=2).transcribe(wav)


def test_reference_has_turns_between_voices(spoken: Conversation) -> None:
    assert len(spoken.utterances) >= 5
    assert {u.voice for u in spoken.utterances} >= {"librivox", "piper"}
    gaps = [b.onset_s - a.offset_s for a, b in zip(spoken.utterances, spoken.utterances[1:], strict=False)]
    assert min(gaps) >= 0.3 and max(gaps) <= 3.0


def test_caption_onsets_are_on_the_speech(spoken: Conversation, transcript: Transcript) -> None:
    report = measure_timing(transcript.words, spoken.utterances)
    assert report.missed == 0
    assert report.onset_p50_ms <= 20
    assert report.onset_p95_ms <= 50
    # Captions leave with the voice, not after the pause has begun.
    assert report.end_p95_ms <= 50


def test_refinement_keeps_what_was_said(spoken: Conversation, transcript: Transcript) -> None:
    assert word_error_rate(spoken.text, " ".join(w.word for w in transcript.words)) < 0.25
    previous_end = 0.0
    for word in transcript.words:
        assert previous_end <= word.start_s <= word.end_s <= transcript.duration_s
        previous_end = word.end_s


def test_reference_cut_matches_the_shipped_texts() -> None:
    voices = shipped_utterances()
    assert {voice: len(items) for voice, items in voices.items()} == {"librivox": 5, "piper": 10, "espeak": 10}
    # Every piece is one sentence of its recording: about as long as its text.
    for utterance in (item for items in voices.values() for item in items):
        seconds_per_char = len(utterance.samples) / RATE / len(utterance.text)
        assert 0.03 < seconds_per_char < 0.08, (utterance.voice, utterance.text)
