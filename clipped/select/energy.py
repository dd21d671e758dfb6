"""Energy of time windows (0..1): delivery against the running baseline, audience reactions, scene cuts.

A moment is lively against what surrounds it, not against an absolute scale, so each hop's loudness, pitch
movement and speaking rate are compared with their running median over ~3 minutes (:mod:`clipped.select.baseline`):

energy = 0.3 level (window's loudness lift over the baseline, +-6 dB spans 0..1)
+ 0.15 pitch (how much more the voice's pitch moves than usual: +-3 semitones of spread spans 0..1)
+ 0.1 pace (words per second against the usual rate: +-40 % spans 0..1)
+ 0.3 reaction (laughter, applause or cheering right after or near the end of the window: the payoff;
  one at its start answers what came before and counts a third)
+ 0.05 peaks (loudness peaks inside, one per 30 s for full credit)
+ 0.1 scenes (cuts per minute, best at 2-8; a single-shot window still gets 0.3).
Level, pitch and pace are 0.5 where a window has nothing to compare; a part the whole source cannot show (no
voiced pitch, no words, no reaction anywhere) is left out and the others are scaled up to sum to 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clipped.select.baseline import prefix_sums, running_median, window_mean
from clipped.select.titles import Signal
from clipped.types import AudioFeatures, Scenes, Word

ENERGY_PARTS = {"level": 0.3, "pitch": 0.15, "pace": 0.1, "reaction": 0.3, "peaks": 0.05, "scenes": 0.1}
LEVEL_SPAN_DB = 12.0
LEVEL_FLOOR_DB = -60.0
"""Digital silence (-100 dBFS) would swamp a mean; anything this quiet already counts as silence."""
PEAK_EVERY_S = 30.0
SCENE_DENSITY = ([0.0, 2.0, 8.0, 20.0], [0.3, 1.0, 1.0, 0.3])  # cuts per minute -> score
PITCH_SPAN_ST = 6.0
PACE_SPAN = 0.8
LOCAL_S = 3.0
"""Half-width of the neighbourhood over which a hop's pitch spread and speaking rate are measured."""
REACTION_AFTER_S = 4.0
"""A reaction starting this long after a window's last word still answers it."""
REACTION_AT_START = 1.0 / 3.0
REACTION_SALIENCE = 10.0


@dataclass(frozen=True)
class EnergyFeatures:
    """The loudness track, its baseline-relative delivery, reactions and cuts of one source, indexed for
    window queries."""

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
    delivery: dict[str, tuple[np.ndarray, np.ndarray]]  # level/pitch/pace: prefix sums of (lift, weight) per hop
    reactions: np.ndarray  # (n, 3): start_s, end_s, score, sorted by start
    reaction_kinds: list[str]
    present: frozenset[str]  # the ENERGY_PARTS this source can show at all


def energy_features(audio: AudioFeatures, scenes: Scenes, words: Sequence[Word] = ()) -> EnergyFeatures:
    """Index ``audio``, ``scenes`` and the ``words``' speaking rate for fast window scoring."""
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
    reactions = sorted(audio.reactions, key=lambda reaction: reaction.start_s)
    delivery = _delivery(levels, loud, np.asarray(audio.pitch_hz, dtype=np.float64), words, hop_s)
    shown = {name for name, (_, weight) in delivery.items() if weight[-1] > 0} | {"peaks", "scenes"}
    if not len(levels):
        shown.add("level")  # neutral 0.5, as a track without audio always scored
    if reactions:
        shown.add("reaction")
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
        delivery=delivery,
        reactions=np.array([[r.start_s, r.end_s, r.score] for r in reactions], dtype=np.float64).reshape(-1, 3),
        reaction_kinds=[reaction.kind for reaction in reactions],
        present=frozenset(shown),
    )


def energy_scores(features: EnergyFeatures, start_s: np.ndarray, end_s: np.ndarray) -> dict[str, np.ndarray]:
    """``energy`` and its components for windows ``[start_s, end_s)``, plus ``cuts`` and ``peak_count``."""
    duration = np.maximum(end_s - start_s, 1e-3)
    if len(features.levels):
        _, loudest = window_levels(features, start_s, end_s)
        spread = max(3.0, features.track_loud - features.track_median)
        peak = np.clip((loudest - features.track_median) / spread, 0.0, 1.0)
    else:
        peak = np.full(len(start_s), 0.5)
    lifts = delivery_lifts(features, start_s, end_s)
    level = np.clip(0.5 + lifts["level"] / LEVEL_SPAN_DB, 0.0, 1.0)
    pitch = np.clip(0.5 + lifts["pitch"] / PITCH_SPAN_ST, 0.0, 1.0)
    pace = np.clip(0.5 + lifts["pace"] / PACE_SPAN, 0.0, 1.0)
    reaction, _ = _reaction_credit(features, start_s, end_s)
    peak_count = _count_inside(features.peaks_s, start_s, end_s)
    peaks = np.minimum(1.0, peak_count / np.maximum(1.0, duration / PEAK_EVERY_S))
    cuts = _count_inside(features.cuts_s, start_s, end_s)
    scenes = np.interp(cuts / duration * 60.0, *SCENE_DENSITY)
    values = {"level": level, "pitch": pitch, "pace": pace, "reaction": reaction, "peaks": peaks, "scenes": scenes}
    # A signal this source cannot show (no voiced pitch, no words, no reaction anywhere) says nothing about
    # any of its windows: its weight goes to the others rather than squeezing every window toward the middle.
    total = sum(ENERGY_PARTS[name] for name in features.present)
    energy = sum(ENERGY_PARTS[name] * values[name] for name in features.present) / total
    return {
        "energy": np.clip(energy, 0.0, 1.0),
        "level": level,
        "pitch": pitch,
        "pace": pace,
        "reaction": reaction,
        "peak": peak,
        "peaks": peaks,
        "scenes": scenes,
        "cuts": cuts.astype(np.float64),
        "peak_count": peak_count.astype(np.float64),
        "level_lift_db": lifts["level"],
        "pace_lift": lifts["pace"],
    }


def reaction_after(features: EnergyFeatures, start_s: float, end_s: float) -> tuple[str, float] | None:
    """The reaction that credits window ``[start_s, end_s)`` most (its kind and start), if any."""
    credit, best = _reaction_credit(features, np.array([start_s]), np.array([end_s]))
    if credit[0] <= 0:
        return None
    index = int(best[0])
    return features.reaction_kinds[index], float(features.reactions[index, 0])


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
    reaction = reaction_after(features, start_s, end_s)
    if reaction is not None:
        kind, at = reaction
        # The most telling reason there is, though one sub-score part: listed first whenever it is there.
        strength = REACTION_SALIENCE * weight * ENERGY_PARTS["reaction"] * parts["reaction"]
        signals.append(Signal(strength, f"audience {kind} at {at:.1f}s"))
    if parts["level"] >= 0.7:
        strength = weight * ENERGY_PARTS["level"] * parts["level"]
        signals.append(Signal(strength, f"livelier than around it (+{parts['level_lift_db']:.0f} dB)"))
    if parts["pitch"] >= 0.7:
        signals.append(Signal(weight * ENERGY_PARTS["pitch"] * parts["pitch"], "animated voice"))
    if parts["pace"] >= 0.7:
        strength = weight * ENERGY_PARTS["pace"] * parts["pace"]
        signals.append(Signal(strength, f"faster than usual (+{100 * parts['pace_lift']:.0f}% words/s)"))
    inside = (features.peaks_s > start_s) & (features.peaks_s < end_s)
    if inside.any():
        loudest = features.peaks_s[inside][int(np.argmax(features.peak_levels[inside]))]
        signals.append(Signal(weight * ENERGY_PARTS["peaks"] * parts["peaks"], f"energy peak at {loudest:.1f}s"))
    cuts = int(parts["cuts"])
    if cuts and parts["scenes"] >= 0.8:
        noun = "scene change" if cuts == 1 else "scene changes"
        signals.append(Signal(weight * ENERGY_PARTS["scenes"] * parts["scenes"], f"{cuts} {noun}"))
    return signals


def _delivery(
    levels: np.ndarray, loud_db: float, pitch_hz: np.ndarray, words: Sequence[Word], hop_s: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-hop lift of loudness (dB), pitch spread (semitones) and speaking rate (ratio - 1) over their
    running baselines, as prefix sums of (lift x weight, weight); a hop weighs 0 where it says nothing."""
    count = len(levels)
    speech = levels > max(-50.0, loud_db - 30.0)
    level_lift = np.where(speech, levels - running_median(levels, speech, hop_s), 0.0)
    local = max(1, round(LOCAL_S / hop_s))

    pitch = np.zeros(count)
    pitch[: min(count, len(pitch_hz))] = pitch_hz[:count]
    voiced = pitch > 0
    semitones = np.where(voiced, 12.0 * np.log2(np.maximum(pitch, 1.0) / 100.0), 0.0)
    n = _neighbourhood_sum(voiced.astype(np.float64), local)
    mean = _neighbourhood_sum(semitones, local) / np.maximum(n, 1)
    spread = np.sqrt(np.maximum(_neighbourhood_sum(semitones**2, local) / np.maximum(n, 1) - mean**2, 0.0))
    has_spread = (n >= 4) & voiced
    pitch_lift = np.where(has_spread, spread - running_median(spread, has_spread, hop_s), 0.0)

    starts = np.array([word.start_s for word in words], dtype=np.float64)
    per_hop = np.bincount(np.clip((starts / hop_s).astype(np.int64), 0, max(count - 1, 0)), minlength=count)[:count]
    speaking_s = _neighbourhood_sum(speech.astype(np.float64), local) * hop_s
    rate = _neighbourhood_sum(per_hop.astype(np.float64), local) / np.maximum(speaking_s, hop_s)
    has_rate = speech & (speaking_s >= 2.0) & (rate > 0)
    baseline_rate = running_median(rate, has_rate, hop_s)
    pace_lift = np.where(has_rate, rate / np.maximum(baseline_rate, 1e-3) - 1.0, 0.0)

    return {
        name: (prefix_sums(lift * weight), prefix_sums(weight))
        for name, lift, weight in (
            ("level", level_lift, speech.astype(np.float64)),
            ("pitch", pitch_lift, has_spread.astype(np.float64)),
            ("pace", pace_lift, has_rate.astype(np.float64)),
        )
    }


def delivery_lifts(features: EnergyFeatures, start_s: np.ndarray, end_s: np.ndarray) -> dict[str, np.ndarray]:
    """Mean lift over the running baseline inside each window: ``level`` (dB), ``pitch`` (semitones of
    spread) and ``pace`` (speaking rate ratio - 1); 0 where the window has nothing to measure."""
    count = len(features.levels)
    if count == 0:
        return {name: np.zeros(len(start_s)) for name in ("level", "pitch", "pace")}
    first = np.clip(np.floor(start_s / features.hop_s).astype(np.int64), 0, count - 1)
    past = np.clip(np.ceil(end_s / features.hop_s).astype(np.int64), first + 1, count)
    return {name: window_mean(lift, weight, first, past) for name, (lift, weight) in features.delivery.items()}


def _reaction_credit(features: EnergyFeatures, start_s: np.ndarray, end_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best reaction credit per window (0..1) and the index of the reaction giving it (-1 for none).

    A reaction from the window's second half to a few seconds after its end is its payoff (full score);
    one in its first half answers what came before (a third).
    """
    credit = np.zeros(len(start_s))
    best = np.full(len(start_s), -1, dtype=np.int64)
    middle = (start_s + end_s) / 2
    for index, (at, _, score) in enumerate(features.reactions):
        payoff = (at >= middle) & (at <= end_s + REACTION_AFTER_S)
        early = (at >= start_s - 1.0) & (at < middle)
        value = np.where(payoff, score, np.where(early, REACTION_AT_START * score, 0.0))
        better = value > credit
        credit = np.where(better, value, credit)
        best = np.where(better, index, best)
    return credit, best


def _neighbourhood_sum(values: np.ndarray, half_width: int) -> np.ndarray:
    """Sum of ``values`` over ``[i - half_width, i + half_width]`` for every hop ``i``."""
    prefix = prefix_sums(values)
    index = np.arange(len(values))
    return prefix[np.minimum(index + half_width + 1, len(values))] - prefix[np.maximum(index - half_width, 0)]


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
