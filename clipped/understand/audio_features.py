"""Loudness over time for a speech track: RMS per hop, loudness peaks and silences.

The WAV is streamed in blocks and reduced to a sum of squares per short frame as it is read, so a four-hour
file costs a few hundred kilobytes of frame powers, never the samples themselves. Frames are a fixed fraction
of a hop (0.1 s for the default 0.5 s hop) so silences get finer boundaries than the hop grid, while hop
levels are the exact power average of their frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from clipped.types import AudioFeatures
from clipped.understand.reactions import detect_reactions
from clipped.understand.voice_frames import compute_voice_frames, pitch_per_hop

FLOOR_DB = -100.0
"""Level reported for digital silence (log of zero) and for an empty track."""

ABSOLUTE_SILENCE_DB = -50.0
"""Anything quieter is silence whatever the rest of the track does."""

RELATIVE_SILENCE_DB = 30.0
"""A frame this far below the track's loud level is a pause, even above the absolute floor (room tone)."""

MIN_SILENCE_S = 0.7
PEAK_MIN_SPACING_S = 2.0
PEAK_PROMINENCE_DB = 6.0
"""A peak must stand this far above the local (30 s) and the global median level."""

LOCAL_MEDIAN_S = 30.0
FRAME_TARGET_S = 0.1


def compute_audio_features(wav_path: Path, hop_s: float = 0.5, *, block_s: float = 60.0) -> AudioFeatures:
    """Loudness per ``hop_s`` of the WAV at ``wav_path``, with its peaks and silences.

    Multi-channel audio is averaged to mono. ``rms_db`` has one dBFS value per hop (a trailing partial hop
    counts when it holds at least a quarter of a hop, or when it is all there is); peak times are hop
    centres; silences are (start_s, end_s) runs of at least 0.7 s below the silence floor, which is the
    louder of -50 dBFS and 30 dB under the track's loud level (95th percentile of its sounding hops).
    ``is_silent`` means less than a second (a tenth, for files under 10 s) of the track is above -50 dBFS.
    ``mean_db`` is the mean of the per-hop levels (-100 for an empty file).
    ``hop_s`` in the result is the hop actually used, after rounding to whole samples.
    ``pitch_hz`` is the voice's median pitch per hop (0 where unvoiced) and ``reactions`` the laughter,
    applause and cheering heard (:mod:`clipped.understand.reactions`); both stay empty for a silent track.
    """
    if hop_s <= 0:
        raise ValueError(f"hop_s must be positive, got {hop_s}")
    with sf.SoundFile(str(wav_path)) as audio:
        sample_rate = audio.samplerate
        frames_per_hop = max(1, round(hop_s / FRAME_TARGET_S))
        frame_len = max(1, round(hop_s * sample_rate / frames_per_hop))
        block_len = frame_len * max(1, round(block_s * sample_rate / frame_len))
        frame_power, frame_count = _stream_frame_power(audio, frame_len, block_len)
    hop_len = frame_len * frames_per_hop
    loudness = _features_from_frames(frame_power, frame_count, frames_per_hop, frame_len, hop_len, sample_rate)
    if loudness.is_silent:
        return loudness
    # A second streaming pass: spectral frames for the voice's pitch and for audience reactions.
    voice = compute_voice_frames(wav_path, block_s=block_s)
    hops = len(loudness.rms_db)
    return loudness.model_copy(
        update={
            "pitch_hz": pitch_per_hop(voice, loudness.hop_s, hops),
            "reactions": detect_reactions(voice, loudness.hop_s, hops),
        }
    )


def _stream_frame_power(audio: sf.SoundFile, frame_len: int, block_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum of squares and sample count per frame, reading ``block_len`` samples at a time."""
    sums: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    # block_len is a multiple of frame_len, so only the file's last block can end inside a frame.
    for block in audio.blocks(blocksize=block_len, dtype="float32", always_2d=True):
        mono = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
        whole = len(mono) // frame_len * frame_len
        if whole:
            frames = mono[:whole].reshape(-1, frame_len).astype(np.float64)
            sums.append(np.einsum("ij,ij->i", frames, frames))
            counts.append(np.full(len(frames), frame_len, dtype=np.int64))
        if whole < len(mono):
            tail = mono[whole:].astype(np.float64)
            sums.append(np.array([float(tail @ tail)]))
            counts.append(np.array([len(tail)], dtype=np.int64))
    if not sums:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    return np.concatenate(sums), np.concatenate(counts)


def _features_from_frames(
    frame_power: np.ndarray,
    frame_count: np.ndarray,
    frames_per_hop: int,
    frame_len: int,
    hop_len: int,
    sample_rate: int,
) -> AudioFeatures:
    hop_s = hop_len / sample_rate
    frame_s = frame_len / sample_rate
    duration_s = float(frame_count.sum()) / sample_rate
    hop_db = _hop_levels(frame_power, frame_count, frames_per_hop, hop_len)
    if len(hop_db) == 0:
        return AudioFeatures(hop_s=hop_s, rms_db=[], peaks_s=[], silences=[], mean_db=FLOOR_DB, is_silent=True)

    sounding = hop_db > ABSOLUTE_SILENCE_DB
    # A second of clicks in an otherwise silent four-hour file is still a silent track; a 0.3 s file of
    # speech is not, hence the allowance shrinks for very short files.
    sounding_s = float(sounding.sum()) * hop_s
    is_silent = sounding_s < min(1.0, 0.1 * duration_s) or not sounding.any()
    if is_silent:
        floor_db = ABSOLUTE_SILENCE_DB
    else:
        loud_db = float(np.percentile(hop_db[sounding], 95))
        floor_db = max(ABSOLUTE_SILENCE_DB, loud_db - RELATIVE_SILENCE_DB)

    frame_db = _to_db(frame_power / np.maximum(frame_count, 1))
    silences = _silences(frame_db < floor_db, frame_s, duration_s)
    peaks = [] if is_silent else _peaks(hop_db, hop_s, floor_db)
    return AudioFeatures(
        hop_s=hop_s,
        rms_db=[round(float(v), 2) for v in hop_db],
        peaks_s=peaks,
        silences=silences,
        mean_db=round(float(hop_db.mean()), 2),
        is_silent=bool(is_silent),
    )


def _hop_levels(frame_power: np.ndarray, frame_count: np.ndarray, frames_per_hop: int, hop_len: int) -> np.ndarray:
    """dBFS per hop as the power average of its frames; a short trailing hop only when it is meaningful."""
    if len(frame_power) == 0:
        return np.zeros(0)
    hops = -(-len(frame_power) // frames_per_hop)
    pad = hops * frames_per_hop - len(frame_power)
    power = np.pad(frame_power, (0, pad)).reshape(hops, frames_per_hop).sum(axis=1)
    count = np.pad(frame_count, (0, pad)).reshape(hops, frames_per_hop).sum(axis=1)
    if hops > 1 and count[-1] < hop_len / 4:
        power, count = power[:-1], count[:-1]
    return _to_db(power / np.maximum(count, 1))


def _to_db(mean_square: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10(mean_square)
    return np.maximum(db, FLOOR_DB)


def _silences(quiet: np.ndarray, frame_s: float, duration_s: float) -> list[tuple[float, float]]:
    """Runs of quiet frames lasting at least MIN_SILENCE_S, as (start_s, end_s) clipped to the track."""
    if not quiet.any():
        return []
    edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    result = []
    for start, end in zip(starts, ends, strict=True):
        start_s = start * frame_s
        end_s = min(end * frame_s, duration_s)
        if end_s - start_s >= MIN_SILENCE_S - 1e-9:
            result.append((round(start_s, 3), round(end_s, 3)))
    return result


def _peaks(hop_db: np.ndarray, hop_s: float, floor_db: float) -> list[float]:
    """Hop centres of local loudness maxima clearly above both the local and the global median.

    Greedy by loudness, so of two bumps closer than the minimum spacing the louder one wins.
    """
    local = _rolling_median(hop_db, max(1, round(LOCAL_MEDIAN_S / 2 / hop_s)))
    reference = np.maximum(local, float(np.median(hop_db)))
    above = (hop_db >= reference + PEAK_PROMINENCE_DB) & (hop_db > floor_db)
    spacing = max(1, round(PEAK_MIN_SPACING_S / hop_s))
    candidates = np.flatnonzero(above & (hop_db >= _rolling_max(hop_db, spacing)))
    taken = np.zeros(len(hop_db), dtype=bool)
    chosen: list[int] = []
    # Stable sort on -level keeps earlier hops first among equals, which makes plateaus deterministic.
    for index in candidates[np.argsort(-hop_db[candidates], kind="stable")]:
        if taken[max(0, index - spacing + 1) : index + spacing].any():
            continue
        taken[index] = True
        chosen.append(int(index))
    return [round((index + 0.5) * hop_s, 3) for index in sorted(chosen)]


def _rolling_median(values: np.ndarray, half_width: int) -> np.ndarray:
    padded = np.pad(values, half_width, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half_width + 1)
    return np.median(windows, axis=1)


def _rolling_max(values: np.ndarray, half_width: int) -> np.ndarray:
    padded = np.pad(values, half_width, mode="constant", constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half_width + 1)
    return windows.max(axis=1)
