"""A clip's cut list: the stretches of the source it keeps, and word times moved onto the clip's own timeline.

A clip is one window of the source, or several stretches of it when clean-up cuts (fillers, pauses) removed some;
the exports describe both the same way, as an ordered list of kept source spans.
"""

from __future__ import annotations

from dataclasses import dataclass

from clipped.types import RenderedClip, Word


@dataclass(frozen=True)
class SourceSpan:
    """One kept stretch of the source, in the source's timeline (seconds)."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def kept_spans(clip: RenderedClip) -> list[SourceSpan]:
    """The source stretches ``clip`` shows, in playback order (its whole window when nothing was cut out)."""
    spans = [SourceSpan(start, end) for start, end in clip.kept_spans_s] or [SourceSpan(clip.start_s, clip.end_s)]
    for span in spans:
        if span.end_s <= span.start_s:
            raise ValueError(f"clip {clip.clip_id} keeps an empty span {span.start_s:.3f}–{span.end_s:.3f} s")
    return spans


def words_on_clip_timeline(words: list[Word], spans: list[SourceSpan]) -> list[Word]:
    """``words`` with times on the clip's timeline (0 = the clip's first frame); words in a removed stretch are
    dropped. A word belongs to the span holding its midpoint and is clamped to that span."""
    moved: list[Word] = []
    offset = 0.0
    for span in spans:
        for word in words:
            middle = (word.start_s + word.end_s) / 2
            if span.start_s <= middle < span.end_s:
                start = max(word.start_s, span.start_s) - span.start_s + offset
                end = min(word.end_s, span.end_s) - span.start_s + offset
                moved.append(word.model_copy(update={"start_s": start, "end_s": max(end, start)}))
        offset += span.duration_s
    return moved
