"""Where a clip must not run across: breaks between sentences that a viewer would feel as a different clip.

A boundary between two sentences breaks the thought when
- the speech stops for a long silence (over 3 s), or
- the topic shifts (the sentences after it are far less similar to the ones before than this source's talk
  usually is) together with another sign: a different voice (median pitch jumps by 5+ semitones), a scene cut
  in the gap, or a pause of a second or more; or
- a different voice starts right at a scene cut.

A shift of topic alone is not enough: talk wanders, and one sign alone is too often wrong.
"""

from __future__ import annotations

import numpy as np

from clipped.select.semantics import SemanticFeatures

LONG_SILENCE_S = 3.0
TOPIC_SHIFT_BELOW = 0.25
TOPIC_SHIFT_MARGIN = 0.2
"""A topic shift: similarity under 0.25 and at least 0.2 under the source's typical similarity."""
PAUSE_S = 1.0
MIN_CONTEXT = 2
VOICE_CHANGE_ST = 5.0
VOICE_CONTEXT_S = 4.0
CUT_SLACK_S = 0.3


def thought_breaks(
    starts_s: np.ndarray,
    ends_s: np.ndarray,
    semantics: SemanticFeatures,
    cuts_s: np.ndarray,
    pitch_hz: np.ndarray,
    hop_s: float,
) -> np.ndarray:
    """One bool per boundary between consecutive sentences (``len(starts_s) - 1``): whether it breaks the thought."""
    count = len(starts_s)
    if count < 2:
        return np.zeros(0, dtype=bool)
    gap_start, gap_end = ends_s[:-1], starts_s[1:]
    gap = gap_end - gap_start
    similarity = semantics.topic_similarity
    topic_shift = (similarity < TOPIC_SHIFT_BELOW) & (similarity < semantics.typical_similarity - TOPIC_SHIFT_MARGIN)
    # The context windows blur a shift over neighbouring boundaries; it lies where the similarity bottoms out.
    padded = np.concatenate(([np.inf], similarity, [np.inf]))
    topic_shift &= (similarity < padded[:-2]) & (similarity <= padded[2:])  # a flat bottom: its first boundary
    # One sentence is too little context to call a subject changed.
    topic_shift[: MIN_CONTEXT - 1] = False
    topic_shift[len(topic_shift) - MIN_CONTEXT + 1 :] = False
    cuts = np.sort(np.asarray(cuts_s, dtype=np.float64))
    cut_in_gap = np.searchsorted(cuts, gap_end + CUT_SLACK_S, side="right") > np.searchsorted(
        cuts, gap_start - CUT_SLACK_S, side="left"
    )
    voice_change = _voice_changes(gap_start, gap_end, np.asarray(pitch_hz, dtype=np.float64), hop_s)
    return (
        (gap > LONG_SILENCE_S)
        | (topic_shift & (voice_change | cut_in_gap | (gap >= PAUSE_S)))
        | (voice_change & cut_in_gap)
    )


def crosses_break(breaks: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Whether each window of sentences ``first..last`` contains a breaking boundary."""
    prefix = np.concatenate(([0], np.cumsum(breaks.astype(np.int64))))
    return prefix[last] - prefix[first] > 0


def _voice_changes(gap_start: np.ndarray, gap_end: np.ndarray, pitch_hz: np.ndarray, hop_s: float) -> np.ndarray:
    """Whether the median voiced pitch of the few seconds before a gap and after it differ by 5+ semitones."""
    if len(pitch_hz) == 0 or hop_s <= 0 or not (pitch_hz > 0).any():
        return np.zeros(len(gap_start), dtype=bool)
    semitones = np.where(pitch_hz > 0, 12.0 * np.log2(np.maximum(pitch_hz, 1.0) / 100.0), np.nan)
    context = max(1, round(VOICE_CONTEXT_S / hop_s))
    changes = np.zeros(len(gap_start), dtype=bool)
    for index, (start, end) in enumerate(zip(gap_start, gap_end, strict=True)):
        before_hop = int(start / hop_s)
        after_hop = int(np.ceil(end / hop_s))
        before = semitones[max(0, before_hop - context) : before_hop + 1]
        after = semitones[after_hop : after_hop + context + 1]
        before, after = before[~np.isnan(before)], after[~np.isnan(after)]
        if len(before) >= 3 and len(after) >= 3:
            changes[index] = abs(float(np.median(before)) - float(np.median(after))) >= VOICE_CHANGE_ST
    return changes
