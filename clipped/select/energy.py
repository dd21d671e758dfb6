"""Energy of time windows (0..1) from the audio loudness track and the scene cuts.

energy = 0.35 level (window mean vs the whole track, +-6 dB spans 0..1) + 0.25 peak (loudest hop between the
track median and its 99th percentile) + 0.2 peaks (loudness peaks inside, one per 30 s for full credit)
+ 0.2 scenes (cuts per minute, best at 2-8; a single-shot window still gets 0.3).
A track without audio scores 0.5 on level and peak so windows differ only by scenes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clipped.select.titles import Signal
from clipped.types import AudioFeatures, Scenes

ENERGY_PARTS = {"level": 0.35, "peak": 0.25, "peaks": 0.2, "scenes": 0.2}
LEVEL_SPAN_DB = 12.0
LEVEL_FLOOR_DB = -60.0
"""Digital silence (-100 dBFS) would swamp a mean; anything this quiet already counts as silence."""
PEAK_EVERY_S = 30.0
SCENE_DENSITY = ([0.0, 2.0, 8.0, 20.0], [0.3, 1.0, 1.0, 0.3])  # cuts per minute -> score


@dataclass(frozen=True)
class EnergyFeatures:
    """The loudness track and cuts of one source, indexed for window queries."""

    hop_s: float
    levels: np.ndarray  # dB per hop, floored
    level_prefix: np.ndarray
    level_max: np.ndarray  # sparse table: level_max[k][i] = max(levels[i : i + 2**k])
    track_mean: float
    track_median: float
    track_loud: float
    peaks_s: np.ndarray
    peak_levels: np.ndarray
    cuts_s: np.ndarray
    silences: np.ndarray  # (n, 2), sorted
    silence_prefix: np.ndarray  # silent seconds before silence i


def energy_features(audio: AudioFeatures, scenes: Scenes) -> EnergyFeatures:
    """Index ``audio`` and ``scenes`` for fast window scoring."""
    levels = np.maximum(np.asarray(audio.rms_db, dtype=np.float64), LEVEL_FLOOR_DB)
    hop_s = audio.hop_s if audio.hop_s > 0 else 0.5
    peaks = np.sort(np.asarray(audio.peaks_s, dtype=np.float64))
    if len(levels):
        peak_levels = levels[np.clip((peaks / hop_s).astype(np.int64), 0, len(levels) - 1)]
        median, loud = float(np.median(levels)), float(np.percentile(levels, 99))
        mean = float(levels.mean())
    else:
        peak_levels, median, loud, mean = np.zeros(len(peaks)), LEVEL_FLOOR_DB, LEVEL_FLOOR_DB, LEVEL_FLOOR_DB
    silences = np.asarray(sorted(audio.silences), dtype=np.float64).reshape(-1, 2)
    return EnergyFeatures(
        hop_s=hop_s,
        levels=levels,
        level_prefix=np.concatenate(([0.0], np.cumsum(levels))),
        level_max=_sparse_max_table(levels),
        track_mean=mean,
        track_median=median,
        track_loud=loud,
        peaks_s=peaks,
        peak_levels=peak_levels,
        cuts_s=np.sort(np.asarray(scenes.cuts_s, dtype=np.float64)),
        silences=silences,
        silence_prefix=np.concatenate(([0.0], np.cumsum(silences[:, 1] - silences[:, 0]))),
    )


def energy_scores(features: EnergyFeatures, start_s: np.ndarray, end_s: np.ndarray) -> dict[str, np.ndarray]:
    """``energy`` and its components for windows ``[start_s, end_s)``, plus ``cuts`` and ``peak_count``."""
    duration = np.maximum(end_s - start_s, 1e-3)
    if len(features.levels):
        mean, loudest = window_levels(features, start_s, end_s)
        level = np.clip(0.5 + (mean - features.track_mean) / LEVEL_SPAN_DB, 0.0, 1.0)
        spread = max(3.0, features.track_loud - features.track_median)
        peak = np.clip((loudest - features.track_median) / spread, 0.0, 1.0)
    else:
        level = peak = np.full(len(start_s), 0.5)
    peak_count = _count_inside(features.peaks_s, start_s, end_s)
    peaks = np.minimum(1.0, peak_count / np.maximum(1.0, duration / PEAK_EVERY_S))
    cuts = _count_inside(features.cuts_s, start_s, end_s)
    scenes = np.interp(cuts / duration * 60.0, *SCENE_DENSITY)
    energy = (
        ENERGY_PARTS["level"] * level
        + ENERGY_PARTS["peak"] * peak
        + ENERGY_PARTS["peaks"] * peaks
        + ENERGY_PARTS["scenes"] * scenes
    )
    return {
        "energy": np.clip(energy, 0.0, 1.0),
        "level": level,
        "peak": peak,
        "peaks": peaks,
        "scenes": scenes,
        "cuts": cuts.astype(np.float64),
        "peak_count": peak_count.astype(np.float64),
    }


def window_levels(features: EnergyFeatures, start_s: np.ndarray, end_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and maximum hop level (dB) of each window; every window covers at least one hop."""
    count = len(features.levels)
    first = np.clip(np.floor(start_s / features.hop_s).astype(np.int64), 0, count - 1)
    past = np.clip(np.ceil(end_s / features.hop_s).astype(np.int64), first + 1, count)
    mean = (features.level_prefix[past] - features.level_prefix[first]) / (past - first)
    order = np.floor(np.log2(past - first)).astype(np.int64)
    width = np.left_shift(1, order)
    loudest = np.maximum(features.level_max[order, first], features.level_max[order, past - width])
    return mean, loudest


def silent_seconds(features: EnergyFeatures, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
    """Seconds of detected silence inside each window."""
    return _silence_before(features, end_s) - _silence_before(features, start_s)


def describe_energy(features: EnergyFeatures, start_s: float, end_s: float, weight: float) -> list[Signal]:
    """Why one window scored as it did on energy, as weighted signals."""
    parts = {name: float(v[0]) for name, v in energy_scores(features, np.array([start_s]), np.array([end_s])).items()}
    signals: list[Signal] = []
    inside = (features.peaks_s > start_s) & (features.peaks_s < end_s)
    if inside.any():
        loudest = features.peaks_s[inside][int(np.argmax(features.peak_levels[inside]))]
        strength = weight * (ENERGY_PARTS["peak"] * parts["peak"] + ENERGY_PARTS["peaks"] * parts["peaks"])
        signals.append(Signal(strength, f"energy peak at {loudest:.1f}s"))
    if parts["level"] >= 0.75 and len(features.levels):
        lift = (parts["level"] - 0.5) * LEVEL_SPAN_DB
        signals.append(Signal(weight * ENERGY_PARTS["level"] * parts["level"], f"lively delivery (+{lift:.0f} dB)"))
    cuts = int(parts["cuts"])
    if cuts and parts["scenes"] >= 0.8:
        noun = "scene change" if cuts == 1 else "scene changes"
        signals.append(Signal(weight * ENERGY_PARTS["scenes"] * parts["scenes"], f"{cuts} {noun}"))
    return signals


def _count_inside(times: np.ndarray, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
    """Events strictly after each start and strictly before each end."""
    return np.searchsorted(times, end_s, side="left") - np.searchsorted(times, start_s, side="right")


def _silence_before(features: EnergyFeatures, t: np.ndarray) -> np.ndarray:
    if len(features.silences) == 0:
        return np.zeros(len(t))
    index = np.searchsorted(features.silences[:, 0], t, side="right")  # silences starting at or before t
    done = features.silence_prefix[np.maximum(index - 1, 0)]
    current = np.clip(t - features.silences[np.maximum(index - 1, 0), 0], 0.0, None)
    span = features.silences[np.maximum(index - 1, 0), 1] - features.silences[np.maximum(index - 1, 0), 0]
    return np.where(index > 0, done + np.minimum(current, span), 0.0)


def _sparse_max_table(values: np.ndarray) -> np.ndarray:
    count = len(values)
    if count == 0:
        return np.zeros((1, 0))
    levels = int(np.floor(np.log2(count))) + 1
    table = np.full((levels, count), -np.inf)
    table[0] = values
    for order in range(1, levels):
        width = 1 << (order - 1)
        table[order, : count - width] = np.maximum(table[order - 1, : count - width], table[order - 1, width:])
    return table
