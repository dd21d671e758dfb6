"""Short-frame spectral features of a speech track: level, spectral flatness, voicing and pitch.

The WAV is streamed in blocks and every 40 ms frame (20 ms step) is reduced at once to a handful of numbers,
so a four-hour track costs a few tens of megabytes of features, never its samples. These frames feed the
per-hop pitch track (how animated a voice is) and the audience-reaction detector
(:mod:`clipped.understand.reactions`). No trained model is involved: pitch is the normalised autocorrelation
peak (corrected for the window's own autocorrelation), flatness the geometric over the arithmetic mean of the
power spectrum in 500-6000 Hz (noise such as applause is flat, voiced speech is peaky).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

FRAME_S = 0.04
STEP_S = 0.02
MIN_PITCH_HZ = 75.0
MAX_PITCH_HZ = 500.0
VOICED_CORRELATION = 0.45
"""An autocorrelation peak this high (0..1) in the pitch range makes a frame voiced."""
FLATNESS_BAND_HZ = (500.0, 6000.0)
FLOOR_DB = -100.0


@dataclass(frozen=True)
class VoiceFrames:
    """Per-frame features, one entry every ``step_s`` seconds (frame ``i`` is centred on ``(i + 1) * step_s``)."""

    step_s: float
    level_db: np.ndarray
    flatness: np.ndarray  # 0 (tonal) .. 1 (white noise)
    voicing: np.ndarray  # autocorrelation peak in the pitch range, 0..1
    pitch_hz: np.ndarray  # 0 where the frame is not voiced

    @property
    def voiced(self) -> np.ndarray:
        return self.pitch_hz > 0


def compute_voice_frames(wav_path: Path, *, block_s: float = 60.0) -> VoiceFrames:
    """Frame features of the WAV at ``wav_path`` (multi-channel audio is averaged to mono)."""
    with sf.SoundFile(str(wav_path)) as audio:
        rate = audio.samplerate
        frame_len, step = round(FRAME_S * rate), round(STEP_S * rate)
        parts: list[dict[str, np.ndarray]] = []
        carry = np.zeros(0, dtype=np.float32)
        block_len = step * max(1, round(block_s / STEP_S))
        for block in audio.blocks(blocksize=block_len, dtype="float32", always_2d=True):
            mono = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
            samples = np.concatenate((carry, mono))
            count = max(0, (len(samples) - frame_len) // step + 1)
            if count:
                parts.append(frame_features(samples, rate, frame_len, step, count))
            carry = samples[count * step :]
    if not parts:
        empty = np.zeros(0)
        return VoiceFrames(step_s=step / rate, level_db=empty, flatness=empty, voicing=empty, pitch_hz=empty)
    merged = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    return VoiceFrames(step_s=step / rate, **merged)


def frame_features(samples: np.ndarray, rate: int, frame_len: int, step: int, count: int) -> dict[str, np.ndarray]:
    """Level, flatness, voicing and pitch of ``count`` frames of ``samples`` (``frame_len`` long, ``step`` apart)."""
    index = np.arange(frame_len)[None, :] + step * np.arange(count)[:, None]
    frames = samples[index].astype(np.float64)
    frames -= frames.mean(axis=1, keepdims=True)
    mean_square = np.einsum("ij,ij->i", frames, frames) / frame_len
    with np.errstate(divide="ignore"):
        level_db = np.maximum(10.0 * np.log10(mean_square), FLOOR_DB)
    window = np.hanning(frame_len)
    low, high = int(rate / MAX_PITCH_HZ), min(frame_len - 1, int(np.ceil(rate / MIN_PITCH_HZ)))
    size = 1 << int(np.ceil(np.log2(frame_len + high + 1)))  # no circular wrap-around up to the longest lag
    spectrum = np.fft.rfft(frames * window, n=size)
    power = spectrum.real**2 + spectrum.imag**2
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    band = (freqs >= FLATNESS_BAND_HZ[0]) & (freqs <= min(FLATNESS_BAND_HZ[1], rate / 2 - 1))
    band_power = power[:, band] + 1e-12
    flatness = np.exp(np.log(band_power).mean(axis=1)) / band_power.mean(axis=1)

    autocorr = np.fft.irfft(power, n=size)[:, :frame_len]
    window_autocorr = np.fft.irfft(np.abs(np.fft.rfft(window, n=size)) ** 2, n=size)[:frame_len]
    energy = np.maximum(autocorr[:, :1], 1e-12)
    normalised = (
        autocorr[:, low : high + 1] / energy / np.maximum(window_autocorr[low : high + 1] / window_autocorr[0], 1e-3)
    )
    best = np.argmax(normalised, axis=1)
    voicing = np.clip(normalised[np.arange(count), best], 0.0, 1.0)
    audible = level_db > -55.0
    pitch = np.where((voicing >= VOICED_CORRELATION) & audible, rate / (low + best), 0.0)
    return {"level_db": level_db, "flatness": flatness, "voicing": voicing * audible, "pitch_hz": pitch}


def pitch_per_hop(frames: VoiceFrames, hop_s: float, hops: int) -> list[float]:
    """Median pitch (Hz) of the voiced frames of each ``hop_s`` hop; 0.0 where fewer than a fifth are voiced."""
    if hops <= 0:
        return []
    centres = (np.arange(len(frames.pitch_hz)) + 1) * frames.step_s
    hop_of = np.minimum((centres / hop_s).astype(np.int64), hops - 1)
    result = np.zeros(hops)
    per_hop = np.bincount(hop_of, minlength=hops)
    if not frames.voiced.any():
        return [0.0] * hops
    voiced_hops = hop_of[frames.voiced]  # frames are in time order, so these come sorted
    voiced_pitch = frames.pitch_hz[frames.voiced]
    hop_ids, first = np.unique(voiced_hops, return_index=True)
    for hop, pitches in zip(hop_ids, np.split(voiced_pitch, first[1:]), strict=True):
        if len(pitches) >= 0.2 * per_hop[hop]:
            result[hop] = float(np.median(pitches))
    return [round(float(value), 1) for value in result]
