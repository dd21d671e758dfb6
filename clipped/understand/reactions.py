"""Audience reactions (laughter, applause, cheering) found from signal features alone.

No pretrained audio tagger can be had offline, so each kind is recognised by what it physically is, measured
on 2 s windows of the 20 ms voice frames (:mod:`clipped.understand.voice_frames`), one window per hop:

- applause: noise made of many claps, so the spectrum is flat (most frames' flatness above 0.3), nearly
  nothing is voiced, and the level never dips far (no pauses between words);
- cheering: a crowd of voices over noise, so the level is continuous (dips under ~8 dB) while only part of
  the frames carry one clear pitch (many voices at once blur it);
- laughter: voiced bursts ("ha-ha-ha") at 3.5-7 per second, so the level envelope is strongly periodic at
  that rate with deep dips between bursts; speech has a syllable rhythm too, but an irregular one.

Every kind must also be loud against the running speech baseline: room hiss is flat and continuous too.
"""

from __future__ import annotations

import numpy as np

from clipped.types import Reaction
from clipped.understand.voice_frames import VoiceFrames

WINDOW_S = 2.0
BASELINE_S = 120.0
"""Span of the running median of speech level that a reaction must not be far below."""
FLAT_FRAME = 0.3
RHYTHM_LAGS_S = (0.14, 0.3)  # a burst every 0.14-0.3 s: 3.5-7 bursts per second
MIN_SCORE = 0.5
HOLD_SCORE = 0.3
MIN_HOPS = 2
KINDS = ("applause", "cheering", "laughter")


def reaction_scores(frames: VoiceFrames, hop_s: float, hops: int) -> dict[str, np.ndarray]:
    """Per-hop likelihood (0..1) of each reaction kind, judged on the 2 s window centred on the hop."""
    per_window = round(WINDOW_S / frames.step_s)
    if hops <= 0 or len(frames.level_db) < per_window:
        return {kind: np.zeros(max(hops, 0)) for kind in KINDS}
    centres = (np.arange(hops) + 0.5) * hop_s
    first = np.clip(np.round(centres / frames.step_s - 1 - per_window / 2).astype(np.int64), 0, None)
    first = np.minimum(first, len(frames.level_db) - per_window)
    index = first[:, None] + np.arange(per_window)[None, :]
    level = frames.level_db[index]
    median = np.median(level, axis=1)
    dip = median - np.percentile(level, 10, axis=1)
    audible = level > np.maximum(-55.0, median[:, None] - 20.0)
    count = np.maximum(audible.sum(axis=1), 1)
    flat_share = (audible & (frames.flatness[index] > FLAT_FRAME)).sum(axis=1) / count
    voiced_share = (audible & frames.voiced[index]).sum(axis=1) / count
    rhythm = _envelope_periodicity(level, median, frames.step_s)
    loud = _ramp(median - (_speech_baseline(median, voiced_share, hop_s) - 12.0), 0.0, 6.0)

    applause = _ramp(flat_share, 0.3, 0.6) * _ramp(-voiced_share, -0.35, -0.15) * _ramp(-dip, -14.0, -8.0)
    cheering = (
        _ramp(-dip, -8.0, -4.0)
        * _ramp(voiced_share, 0.05, 0.15)
        * _ramp(-voiced_share, -0.85, -0.65)
        * _ramp(-flat_share, -0.6, -0.3)
    )
    laughter = _ramp(rhythm, 0.55, 0.75) * _ramp(dip, 8.0, 14.0) * _ramp(voiced_share, 0.2, 0.4)
    return {"applause": applause * loud, "cheering": cheering * loud, "laughter": laughter * loud}


def detect_reactions(frames: VoiceFrames, hop_s: float, hops: int) -> list[Reaction]:
    """Stretches of at least two hops where one reaction kind scores at least 0.3 and somewhere 0.5, in time
    order.

    A stretch's score is its mean per-hop likelihood; where kinds overlap, each is reported.
    """
    found: list[Reaction] = []
    for kind, scores in reaction_scores(frames, hop_s, hops).items():
        # Hysteresis: a stretch holds while the score stays above a lower bar, and counts once it peaks above
        # the full one (a laugh's bursts make the score flicker from hop to hop).
        above = np.concatenate(([0], (scores >= HOLD_SCORE).astype(np.int8), [0]))
        edges = np.diff(above)
        for start, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            if end - start >= MIN_HOPS and scores[start:end].max() >= MIN_SCORE:
                found.append(
                    Reaction(
                        kind=kind,
                        start_s=round(float(start * hop_s), 2),
                        end_s=round(float(end * hop_s), 2),
                        score=round(float(scores[start:end].mean()), 3),
                    )
                )
    return sorted(found, key=lambda reaction: (reaction.start_s, reaction.kind))


def _envelope_periodicity(level: np.ndarray, median: np.ndarray, step_s: float) -> np.ndarray:
    """How regularly each window's level envelope repeats at 3.5-7 Hz: the best lag's autocorrelation at one
    and at two periods, whichever is lower."""
    envelope = np.maximum(level, median[:, None] - 30.0)
    envelope = envelope - envelope.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * envelope.shape[1])))
    spectrum = np.fft.rfft(envelope, n=size)
    autocorr = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, n=size)
    low, high = round(RHYTHM_LAGS_S[0] / step_s), round(RHYTHM_LAGS_S[1] / step_s)
    # Scale each lag up for the overlap it lost, so a regular rhythm reaches ~1 at any lag.
    length = envelope.shape[1]
    lags = np.arange(low, 2 * high + 1)
    normalised = autocorr[:, low : 2 * high + 1] * (length / (length - lags)) / np.maximum(autocorr[:, :1], 1e-9)
    # A rhythm repeats: the envelope matches itself one and two periods on. Speech can match once by chance.
    once = normalised[:, : high - low + 1]
    twice = normalised[:, np.arange(low, high + 1) * 2 - low]
    return np.minimum(once, twice).max(axis=1)


def _speech_baseline(median: np.ndarray, voiced_share: np.ndarray, hop_s: float) -> np.ndarray:
    """Running median (over ~2 min) of the level of speech-like windows; the whole track's where none is near."""
    speech = voiced_share >= 0.3
    reference = median[speech] if speech.any() else median
    overall = float(np.median(reference))
    half = max(1, round(BASELINE_S / 2 / hop_s))
    # Subsample the running median every few hops: the baseline moves over minutes, not seconds.
    stride = max(1, half // 8)
    anchors = np.arange(0, len(median), stride)
    values = np.array(
        [
            float(np.median(median[lo:hi][speech[lo:hi]])) if speech[lo:hi].any() else overall
            for lo, hi in ((max(0, a - half), a + half + 1) for a in anchors)
        ]
    )
    return np.interp(np.arange(len(median)), anchors, values)


def _ramp(value: np.ndarray, zero_at: float, one_at: float) -> np.ndarray:
    return np.clip((np.asarray(value, dtype=np.float64) - zero_at) / (one_at - zero_at), 0.0, 1.0)
