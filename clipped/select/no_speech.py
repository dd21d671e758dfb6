"""Candidates for sources without usable speech (music, b-roll, or too few words for one window).

Windows start and end on scene cuts, silence edges, the source's ends, or a grid of audio hops (so a window
always exists when the source is long enough). Without words, hook, flow and value come from audio and cuts:

- hook = 0.6 opening loudness (first 3 s against the whole track) + 0.4 opens on a cut, after a silence or at 0
- flow = 0.35 starts on such a boundary + 0.35 ends on a cut, before a silence or at the end
  + 0.3 little silence inside (half silent or more scores 0)
- value = 0.5 scene-change density (2-8 per minute best) + 0.5 loudness peaks inside
- energy as for speech (clipped.select.energy)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clipped.select.energy import EnergyFeatures, describe_energy, energy_scores, silent_seconds, window_levels
from clipped.select.errors import NoCandidatesError
from clipped.select.scoring import WEIGHTS, Ranking, combine, weights_of
from clipped.select.sentences import join_words
from clipped.select.suppression import suppress_overlaps
from clipped.select.titles import NO_SPEECH_REASON, make_reason, timestamp_title
from clipped.select.windows import spans_within
from clipped.types import Candidate, ClipSettings, Word

OPENING_S = 3.0
MAX_GRID_S = 5.0
BOUNDARY_DECIMALS = 3


def no_speech_candidates(
    words: Sequence[Word],
    energy: EnergyFeatures,
    settings: ClipSettings,
    keep: int,
    duration_s: float,
    *,
    ranking: Ranking | None = None,
) -> list[Candidate]:
    """Up to ``keep`` non-overlapping windows chosen from audio energy and scene changes, best first
    (``ranking``: learned weights, as in :func:`clipped.select.candidates.select_candidates`).

    Raises :class:`NoCandidatesError` when the source is shorter than the minimum clip duration.
    """
    min_s, max_s = settings.min_duration_s, settings.max_duration_s
    if duration_s < min_s:
        raise NoCandidatesError(f"video is {duration_s:.1f} s long, shorter than the {min_s:g} s minimum clip duration")
    boundaries, opens, closes = _boundaries(energy, duration_s, min_s, max_s)
    first, last = spans_within(boundaries, boundaries, min_s, max_s)
    if len(first) == 0:  # only possible with min == max and no grid point landing exactly; fall back to 0..min
        boundaries = np.array([0.0, min_s])
        opens, closes = np.array([True, False]), np.array([False, False])
        first, last = np.array([0]), np.array([1])
    start, end = boundaries[first], boundaries[last]
    parts = energy_scores(energy, start, end)
    parts.update(_audio_text_scores(energy, start, end, opens[first], closes[last], parts))
    score = combine(parts, ranking, end - start)
    kept = suppress_overlaps(start, end, score, keep)
    energy_weight = weights_of(ranking)["energy"]
    word_starts = np.array([word.start_s for word in words])
    word_ends = np.array([word.end_s for word in words])
    candidates = []
    for index in kept:
        window_start, window_end = float(start[index]), float(end[index])
        inside = [words[k] for k in np.flatnonzero((word_starts >= window_start) & (word_ends <= window_end))]
        signals = describe_energy(energy, window_start, window_end, energy_weight)
        candidates.append(
            Candidate(
                candidate_id=f"c{round(window_start * 1000)}-{round(window_end * 1000)}",
                start_s=window_start,
                end_s=window_end,
                score=round(float(score[index]), 4),
                scores={name: round(float(parts[name][index]), 4) for name in WEIGHTS},
                reason=make_reason(signals, prefix=NO_SPEECH_REASON),
                title=timestamp_title(window_start, window_end),
                text=join_words(inside),
                words=inside,
            )
        )
    return candidates


def _boundaries(
    energy: EnergyFeatures, duration_s: float, min_s: float, max_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted boundary times, and whether each is a natural start (cut, silence end, 0) or end."""
    natural_starts = np.concatenate(([0.0], energy.cuts_s, energy.silences[:, 1]))
    natural_ends = np.concatenate(([duration_s], energy.cuts_s, energy.silences[:, 0]))
    # A grid step of half the duration slack guarantees some end fits each start; hop multiples keep the
    # times on the audio analysis grid.
    step = max(energy.hop_s, min(MAX_GRID_S, (max_s - min_s) / 2))
    step = energy.hop_s * max(1, round(step / energy.hop_s))
    grid = np.arange(0.0, duration_s, step)
    every = np.round(np.concatenate((natural_starts, natural_ends, grid, [duration_s])), BOUNDARY_DECIMALS)
    boundaries = np.unique(every[(every >= 0.0) & (every <= duration_s)])
    opens = np.isin(boundaries, np.round(natural_starts, BOUNDARY_DECIMALS))
    closes = np.isin(boundaries, np.round(natural_ends, BOUNDARY_DECIMALS))
    return boundaries, opens, closes


def _audio_text_scores(
    energy: EnergyFeatures,
    start: np.ndarray,
    end: np.ndarray,
    opens: np.ndarray,
    closes: np.ndarray,
    parts: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    if len(energy.levels):
        opening_mean, _ = window_levels(energy, start, np.minimum(start + OPENING_S, end))
        opening = np.clip(0.5 + (opening_mean - energy.track_mean) / 12.0, 0.0, 1.0)
    else:
        opening = np.full(len(start), 0.5)
    silent_share = silent_seconds(energy, start, end) / np.maximum(end - start, 1e-3)
    quiet_penalty = np.clip(1.0 - silent_share / 0.5, 0.0, 1.0)
    return {
        "hook": 0.6 * opening + 0.4 * opens,
        "flow": 0.35 * opens + 0.35 * closes + 0.3 * quiet_penalty,
        "value": 0.5 * parts["scenes"] + 0.5 * parts["peaks"],
    }
