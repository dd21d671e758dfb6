"""Generated audience reactions (applause, laughter, cheering) for the reaction detector's tests and bench.

Each is built from what the sound physically is, not from a recording: applause is thousands of short
band-limited noise bursts (claps) from many hands at random times; laughter is a voiced "ha" with breathy
onset repeated 4-6 times a second under a falling pitch; cheering is a crowd of sustained shouted vowels at
different pitches over broadband noise.
"""

from __future__ import annotations

import numpy as np

RATE = 16000


def applause(seconds: float, *, claps_per_s: float = 120.0, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """Dense applause: many ~10 ms noise bursts, each filtered to a random 1-4 kHz band, at random times."""
    rng = np.random.default_rng(seed)
    out = np.zeros(round(seconds * rate))
    clap_len = round(0.012 * rate)
    envelope = np.exp(-np.arange(clap_len) / (0.003 * rate))
    for start in rng.integers(0, len(out) - clap_len, size=round(claps_per_s * seconds)):
        burst = rng.standard_normal(clap_len) * envelope
        centre = rng.uniform(1000, 4000)
        spectrum = np.fft.rfft(burst, n=2 * clap_len)
        freqs = np.fft.rfftfreq(2 * clap_len, 1 / rate)
        spectrum *= np.exp(-(((freqs - centre) / (0.8 * centre)) ** 2))
        out[start : start + clap_len] += np.fft.irfft(spectrum)[:clap_len] * rng.uniform(0.3, 1.0)
    return _normalise(out, 0.2)


def laughter(seconds: float, *, syllables_per_s: float = 5.0, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """Rhythmic laughter: voiced "ha" syllables (breathy onset, harmonic vowel) at ~5 per second."""
    rng = np.random.default_rng(seed)
    out = np.zeros(round(seconds * rate))
    period = 1.0 / syllables_per_s
    t = 0.05
    pitch = rng.uniform(220, 300)
    while t + period < seconds:
        length = round(period * rng.uniform(0.55, 0.7) * rate)
        times = np.arange(length) / rate
        envelope = np.sin(np.pi * np.arange(length) / length) ** 1.5
        f0 = pitch * (1 + 0.05 * np.sin(2 * np.pi * 3 * times))
        phase = 2 * np.pi * np.cumsum(f0) / rate
        vowel = sum(np.sin(k * phase) * _formant_gain(k * pitch) for k in range(1, 20))
        breath = rng.standard_normal(length) * np.exp(-times / 0.03) * 0.6  # the "h" onset
        start = round(t * rate)
        out[start : start + length] += (vowel * 0.6 + breath) * envelope
        t += period * rng.uniform(0.9, 1.1)
        pitch *= 0.985  # a laugh's pitch falls as it goes
    out += rng.standard_normal(len(out)) * 0.01  # breath and room between the syllables
    return _normalise(out, 0.15)


def cheering(seconds: float, *, voices: int = 24, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """A cheering crowd: many shouted vowels at different pitches and onsets over broadband crowd noise."""
    rng = np.random.default_rng(seed)
    total = round(seconds * rate)
    times = np.arange(total) / rate
    out = rng.standard_normal(total) * 0.3
    for _ in range(voices):
        pitch = rng.uniform(150, 450)
        f0 = pitch * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * times + rng.uniform(0, 6)))
        phase = 2 * np.pi * np.cumsum(f0) / rate
        voice = sum(np.sin(k * phase) * _formant_gain(k * pitch) for k in range(1, 12))
        onset = rng.uniform(0, 0.3 * seconds)
        gate = np.clip((times - onset) / 0.2, 0, 1) * np.clip((seconds - times) / 0.3, 0, 1)
        out += voice * gate * rng.uniform(0.2, 0.6)
    return _normalise(out, 0.2)


def _formant_gain(freq: float) -> float:
    """An open "a" vowel: energy around 800 and 1200 Hz, falling off above."""
    return float(np.exp(-(((freq - 800) / 400) ** 2)) + 0.7 * np.exp(-(((freq - 1200) / 500) ** 2)) + 0.05)


def _normalise(signal: np.ndarray, rms: float) -> np.ndarray:
    current = float(np.sqrt(np.mean(signal**2))) or 1.0
    return (signal * (rms / current)).astype(np.float32)
