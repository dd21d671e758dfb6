"""Loudness features from WAV files: levels, silences, peaks, edge cases and streaming consistency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from clipped.understand.audio_features import compute_audio_features

RATE = 16000
DATA = Path(__file__).resolve().parents[1] / "data"


def tone(seconds: float, amplitude: float, freq: float = 220.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return amplitude * np.sin(2 * np.pi * freq * t)


def write(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    sf.write(path, samples.astype(np.float32), rate, subtype="PCM_16")
    return path


def test_levels_and_silences_of_tone_bursts(tmp_path: Path) -> None:
    signal = np.concatenate([tone(3, 0.1), np.zeros(2 * RATE), tone(3, 0.1), np.zeros(RATE // 2), tone(2, 0.1)])
    features = compute_audio_features(write(tmp_path / "bursts.wav", signal))
    assert features.hop_s == 0.5
    assert len(features.rms_db) == 21
    assert features.rms_db[0] == pytest.approx(-23.0, abs=0.2)  # 0.1 amplitude sine: RMS 0.0707
    assert features.rms_db[7] < -90
    assert not features.is_silent
    # The 2 s gap is a silence (to the 0.1 s frame); the 0.5 s gap is too short to count.
    assert features.silences == [(3.0, 5.0)]


def test_loud_burst_is_a_peak(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    signal = rng.normal(0, 0.03, 40 * RATE)
    signal[20 * RATE : 21 * RATE] *= 8  # +18 dB for one second
    features = compute_audio_features(write(tmp_path / "burst.wav", signal))
    assert len(features.peaks_s) == 1
    assert 20.0 <= features.peaks_s[0] <= 21.0


def test_peaks_are_at_least_two_seconds_apart(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    signal = rng.normal(0, 0.02, 60 * RATE)
    for second in (10.0, 11.0, 30.0, 45.0):
        start = int(second * RATE)
        signal[start : start + RATE // 2] *= 10
    features = compute_audio_features(write(tmp_path / "bursts.wav", signal))
    assert len(features.peaks_s) == 3
    assert np.all(np.diff(features.peaks_s) >= 2.0)


def test_digital_silence_is_silent(tmp_path: Path) -> None:
    features = compute_audio_features(write(tmp_path / "silence.wav", np.zeros(5 * RATE)))
    assert features.is_silent
    assert features.silences == [(0.0, 5.0)]
    assert features.peaks_s == []
    assert features.mean_db == -100.0


def test_quiet_hiss_is_silent_but_quiet_speech_is_not(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    hiss = compute_audio_features(write(tmp_path / "hiss.wav", rng.normal(0, 0.0005, 10 * RATE)))  # about -66 dBFS
    assert hiss.is_silent
    whisper = compute_audio_features(write(tmp_path / "whisper.wav", rng.normal(0, 0.005, 10 * RATE)))  # -46 dBFS
    assert not whisper.is_silent


def test_empty_file(tmp_path: Path) -> None:
    features = compute_audio_features(write(tmp_path / "empty.wav", np.zeros(0)))
    assert features.rms_db == [] and features.peaks_s == [] and features.silences == []
    assert features.is_silent


def test_very_short_file(tmp_path: Path) -> None:
    features = compute_audio_features(write(tmp_path / "short.wav", tone(0.3, 0.2)))
    assert len(features.rms_db) == 1
    assert features.peaks_s == [] and features.silences == []
    assert not features.is_silent


def test_streaming_block_size_does_not_change_the_result(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    signal = rng.normal(0, 0.05, 95 * RATE + 1234) * np.repeat(rng.uniform(0, 1, 96), RATE)[: 95 * RATE + 1234]
    path = write(tmp_path / "noise.wav", signal)
    assert compute_audio_features(path, block_s=0.7) == compute_audio_features(path, block_s=60.0)


def test_stereo_is_mixed_to_mono(tmp_path: Path) -> None:
    mono = tone(4, 0.1)
    stereo = np.stack([mono, mono], axis=1)
    features = compute_audio_features(write(tmp_path / "stereo.wav", stereo))
    assert features.rms_db[0] == pytest.approx(-23.0, abs=0.2)


def test_other_hop_sizes(tmp_path: Path) -> None:
    features = compute_audio_features(write(tmp_path / "tone.wav", tone(6, 0.1)), hop_s=0.25)
    assert features.hop_s == 0.25
    assert len(features.rms_db) == 24


def test_real_speech(tmp_path: Path) -> None:
    features = compute_audio_features(DATA / "librivox_austen_5utt.wav")
    assert not features.is_silent
    assert -35 < features.mean_db < -10
    assert len(features.rms_db) == pytest.approx(24.73 / 0.5, abs=1)
