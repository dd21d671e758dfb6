"""Audience reactions and voice pitch from signal features: generated applause, laughter and cheering are found
where they were planted, with the right kind; public-domain speech (a human reader, espeak, piper) is not taken
for any reaction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from clipped.understand.audio_features import compute_audio_features
from clipped.understand.voice_frames import compute_voice_frames, pitch_per_hop
from tests.support.reaction_sounds import RATE, applause, cheering, laughter

DATA = Path(__file__).resolve().parents[1] / "data"
SPEECH = ["librivox_austen_5utt.wav", "espeak_enus_harvard1.wav", "piper_harvard1.wav"]
GENERATORS = {"applause": applause, "laughter": laughter, "cheering": cheering}


def speech(name: str) -> np.ndarray:
    samples, rate = sf.read(DATA / name, dtype="float32")
    assert rate == RATE
    return samples


@pytest.mark.parametrize(("kind", "seed"), [("applause", 1), ("laughter", 2), ("cheering", 0)])
def test_a_reaction_between_speech_is_found_with_its_kind(tmp_path: Path, kind: str, seed: int) -> None:
    before, after = speech(SPEECH[seed]), speech(SPEECH[(seed + 1) % 3])
    path = tmp_path / "talk.wav"
    sf.write(path, np.concatenate([before, GENERATORS[kind](4.0, seed=seed), after]), RATE)
    planted = len(before) / RATE
    features = compute_audio_features(path)
    assert [reaction.kind for reaction in features.reactions] == [kind]
    [reaction] = features.reactions
    assert planted - 0.5 <= reaction.start_s < reaction.end_s <= planted + 4.5
    assert reaction.end_s - reaction.start_s >= 1.5
    assert reaction.score >= 0.6


@pytest.mark.parametrize("name", SPEECH)
def test_speech_alone_is_no_reaction(name: str) -> None:
    assert compute_audio_features(DATA / name).reactions == []


def test_faster_and_slower_laughter_is_still_laughter(tmp_path: Path) -> None:
    for rate in (4.0, 6.5):
        path = tmp_path / f"laugh_{rate}.wav"
        sf.write(path, np.concatenate([speech(SPEECH[0]), laughter(3.0, syllables_per_s=rate)]), RATE)
        assert {reaction.kind for reaction in compute_audio_features(path).reactions} == {"laughter"}


def test_pitch_per_hop_follows_a_voice_and_is_zero_in_silence(tmp_path: Path) -> None:
    t = np.arange(2 * RATE) / RATE
    voice = sum(np.sin(2 * np.pi * k * 180.0 * t) / k for k in range(1, 6)) * 0.1
    path = tmp_path / "voice.wav"
    sf.write(path, np.concatenate([voice, np.zeros(RATE)]), RATE)
    pitch = pitch_per_hop(compute_voice_frames(path), 0.5, 6)
    assert pitch[:3] == pytest.approx([180.0] * 3, rel=0.03)
    assert pitch[-1] == 0.0
    # The real reader's voice sits in a plausible speaking range.
    reader = [value for value in compute_audio_features(DATA / SPEECH[0]).pitch_hz if value]
    assert 70.0 < float(np.median(reader)) < 250.0
