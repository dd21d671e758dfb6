"""WhisperX's aligned segments (plain dicts) read as decoded segments for :mod:`clipped.understand.transcription`.

WhisperX leaves words whose characters the alignment model does not know (numerals, symbols) without
``start``/``end``/``score``, and a segment it could not align with no words at all; this is where such words get
their place on the timeline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from clipped.understand.transcription import DecodedSegment, DecodedWord


def segments_from_whisperx(raw_segments: Sequence[Mapping[str, Any]]) -> list[DecodedSegment]:
    """WhisperX's aligned segments (``whisperx.align(...)["segments"]``, times relative to their chunk) as decoded
    segments.

    Words without times are placed between the nearest aligned times around them (or the segment's own VAD
    bounds), shared out by length, with probability 0; words with no time around them at all are dropped rather
    than given made-up times. A segment with no text falls back to its words joined. Offsetting onto the source's
    timeline and clamping are left to the chunk loop, as for every backend.
    """
    segments: list[DecodedSegment] = []
    for raw in raw_segments:
        words = _place_words(raw)
        text = str(raw.get("text") or " ".join(word.word for word in words))
        end_s = words[-1].end_s if words else (_seconds(raw.get("end")) or 0.0)
        segments.append(DecodedSegment(text=text, end_s=end_s, words=words))
    return segments


def _place_words(raw_segment: Mapping[str, Any]) -> list[DecodedWord]:
    raw_words = list(raw_segment.get("words") or [])
    if not raw_words:  # an unaligned segment: its words are only in the text
        raw_words = [{"word": token} for token in str(raw_segment.get("text") or "").split()]
    entries = [
        (text, _seconds(item.get("start")), _seconds(item.get("end")), _seconds(item.get("score")))
        for item in raw_words
        if (text := str(item.get("word") or "").strip())
    ]
    segment_start, segment_end = _seconds(raw_segment.get("start")), _seconds(raw_segment.get("end"))
    placed: list[DecodedWord] = []
    index = 0
    while index < len(entries):
        text, start, end, score = entries[index]
        if start is not None and end is not None:
            placed.append(DecodedWord(text, start, max(start, end), score if score is not None else 0.0))
            index += 1
            continue
        # A run of words without times: between the last placed end and the next aligned start.
        run_end = index
        while run_end < len(entries) and (entries[run_end][1] is None or entries[run_end][2] is None):
            run_end += 1
        left = placed[-1].end_s if placed else (start if start is not None else segment_start)
        right = entries[run_end][1] if run_end < len(entries) else (end if end is not None else segment_end)
        if left is not None and right is not None:
            placed.extend(_spread([entry[0] for entry in entries[index:run_end]], left, max(left, right)))
        index = run_end
    return placed


def _spread(texts: list[str], start: float, end: float) -> list[DecodedWord]:
    """Share ``start..end`` among ``texts`` in proportion to their length."""
    total = sum(len(text) for text in texts)
    words: list[DecodedWord] = []
    cursor = start
    for text in texts:
        stop = cursor + (end - start) * len(text) / total
        words.append(DecodedWord(text, cursor, stop, 0.0))
        cursor = stop
    return words


def _seconds(value: Any) -> float | None:
    """A finite float, or None for missing, None or NaN (WhisperX uses all three for 'no time')."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
