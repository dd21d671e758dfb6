"""Clean-up cuts: take fillers ("um", "uh", a set-off "like") and long pauses out of a clip, at word boundaries.

The plan is pure timing: which stretches of the source window the clip keeps, snapped to the output frame grid so
audio and video cut on the same instant, and how every source time (words, face samples, scene cuts) moves onto
the shortened timeline. A clip never drops below its minimum duration because of cuts: when the cuts would take it
below, pause cuts are given back first (largest first), then filler cuts.

Whisper often leaves fillers out of its transcript; a dropped "um" then shows up as a gap between two words, which
the pause rule removes when it is longer than ``max_pause_s``. Unworded fillers shorter than that stay.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from clipped.effects import CleanupCuts
from clipped.types import FaceFrame, Word

# Fillers that carry meaning in other uses ("like", "you know", "so") are cut only when punctuation sets them off,
# the way Whisper writes the filler use ("it was, like, huge"); pure disfluencies are always cut.
DISFLUENCIES = frozenset({"um", "umm", "uh", "uhh", "erm", "er", "ah", "hmm", "mm", "mhm"})
KEEP_AROUND_CUT_S = 0.08  # silence left on each side of a cut, so words keep their natural attack and release
MIN_CUT_S = 0.1  # shorter removals are not worth a join
AUDIO_FADE_S = 0.01  # fade out and in at each join: no click where two waveforms meet


@dataclass(frozen=True)
class Removal:
    start_s: float
    end_s: float
    reason: str  # "filler" or "pause"

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class CleanupPlan:
    """The stretches of ``[start_s, end_s]`` a clip keeps (source timeline, playback order) and what was cut."""

    start_s: float
    end_s: float
    kept_spans_s: tuple[tuple[float, float], ...]
    removals: tuple[Removal, ...]

    @property
    def has_cuts(self) -> bool:
        return bool(self.removals)

    @property
    def kept_duration_s(self) -> float:
        return sum(end - start for start, end in self.kept_spans_s)

    def to_output(self, t_s: float) -> float:
        """Source time ``t_s`` on the cut timeline, which starts at ``start_s`` as the source window does; a time
        inside a removed stretch lands on the join."""
        kept_before = 0.0
        for start, end in self.kept_spans_s:
            if t_s < start:
                break
            kept_before += min(t_s, end) - start
        return self.start_s + kept_before

    def is_kept(self, t_s: float) -> bool:
        return any(start <= t_s < end for start, end in self.kept_spans_s)

    def joins_s(self) -> list[float]:
        """Where the kept stretches meet, on the cut timeline."""
        return [self.to_output(start) for start, _ in self.kept_spans_s[1:]]

    def words(self, words: list[Word]) -> list[Word]:
        """``words`` on the cut timeline; a word whose middle was cut out is dropped."""
        moved = []
        for word in words:
            if self.is_kept((word.start_s + word.end_s) / 2):
                start, end = self.to_output(word.start_s), self.to_output(word.end_s)
                moved.append(word.model_copy(update={"start_s": start, "end_s": max(start, end)}))
        return moved

    def face_frames(self, frames: list[FaceFrame]) -> list[FaceFrame]:
        return [
            frame.model_copy(update={"t_s": self.to_output(frame.t_s)}) for frame in frames if self.is_kept(frame.t_s)
        ]

    def scene_cuts(self, cuts_s: list[float]) -> list[float]:
        """Scene cuts on the cut timeline plus every join: the crop jumps at a join rather than panning across."""
        inside = [self.to_output(t) for t in cuts_s if self.start_s < t < self.end_s and self.is_kept(t)]
        return sorted(set(inside + self.joins_s()))


def no_cuts(start_s: float, end_s: float) -> CleanupPlan:
    return CleanupPlan(start_s, end_s, ((start_s, end_s),), ())


def plan_cleanup(
    words: list[Word],
    start_s: float,
    end_s: float,
    settings: CleanupCuts,
    *,
    min_duration_s: float = 0.0,
    fps: int = 30,
) -> CleanupPlan:
    """Which parts of the window ``[start_s, end_s]`` to cut, following ``settings``; see the module docstring."""
    if not (settings.remove_fillers or settings.remove_pauses):
        return no_cuts(start_s, end_s)
    inside = [w for w in words if w.start_s >= start_s - 1e-6 and w.end_s <= end_s + 1e-6]
    fillers = filler_indices(inside, settings.fillers) if settings.remove_fillers else set()
    kept = [w for i, w in enumerate(inside) if i not in fillers]
    removals = _removals(inside, kept, fillers, start_s, end_s, settings)
    frame = 1 / fps
    snapped = []
    for removal in removals:
        # On the output frame grid, so the video's frame select and the audio's sample trim cut the same instant.
        cut_start = start_s + round((removal.start_s - start_s) / frame) * frame
        cut_end = start_s + round((removal.end_s - start_s) / frame) * frame
        if cut_end - cut_start >= MIN_CUT_S:
            snapped.append(Removal(round(cut_start, 6), round(min(cut_end, end_s), 6), removal.reason))
    chosen = _within_minimum(snapped, end_s - start_s, min_duration_s)
    return CleanupPlan(start_s, end_s, _kept_spans(start_s, end_s, chosen), tuple(chosen))


def filler_indices(words: list[Word], fillers: list[str]) -> set[int]:
    """Indices of ``words`` that are fillers from the list (multi-word entries such as "you know" match runs)."""
    phrases = [tuple(_normalise(part) for part in filler.split()) for filler in fillers if filler.strip()]
    tokens = [_normalise(w.word) for w in words]
    found: set[int] = set()
    for phrase in sorted(phrases, key=len, reverse=True):
        for i in range(len(tokens) - len(phrase) + 1):
            if tuple(tokens[i : i + len(phrase)]) != phrase or found & set(range(i, i + len(phrase))):
                continue
            if (len(phrase) == 1 and phrase[0] in DISFLUENCIES) or _set_off(words, i, i + len(phrase) - 1):
                found.update(range(i, i + len(phrase)))
    return found


def _set_off(words: list[Word], first: int, last: int) -> bool:
    """The run is marked off by a comma or dash before or after it (the filler use, not "I like it")."""
    before = first > 0 and words[first - 1].word.rstrip().endswith((",", "-", "—", "..."))
    after = words[last].word.rstrip().endswith((",", "-", "—", "..."))
    return before or after


def _normalise(token: str) -> str:
    return re.sub(r"[^\w']", "", token.lower())


def _removals(
    inside: list[Word], kept: list[Word], fillers: set[int], start_s: float, end_s: float, settings: CleanupCuts
) -> list[Removal]:
    """Between each pair of neighbouring kept words (the window's edges count as words), cut the fillers and the
    silence around them, or a pause longer than ``max_pause_s``; a short gap stays on each side of the cut."""
    edges = [(start_s, start_s), *((w.start_s, w.end_s) for w in kept), (end_s, end_s)]
    filler_words = [inside[i] for i in sorted(fillers)]
    removals = []
    for (_, left_end), (right_start, _) in itertools.pairwise(edges):
        between = [w for w in filler_words if w.start_s >= left_end - 1e-6 and w.end_s <= right_start + 1e-6]
        gap = right_start - left_end
        if between:
            cut_start = min(left_end + KEEP_AROUND_CUT_S, between[0].start_s)
            cut_end = max(right_start - KEEP_AROUND_CUT_S, between[-1].end_s)
            removals.append(Removal(cut_start, cut_end, "filler"))
        elif settings.remove_pauses and gap > settings.max_pause_s:
            removals.append(Removal(left_end + KEEP_AROUND_CUT_S, right_start - KEEP_AROUND_CUT_S, "pause"))
    return removals


def _within_minimum(removals: list[Removal], window_s: float, min_duration_s: float) -> list[Removal]:
    """Give cuts back until the clip is at least ``min_duration_s`` long (pauses first, largest first)."""
    chosen = list(removals)
    order = sorted(removals, key=lambda r: (r.reason != "pause", -r.duration_s))
    for removal in order:
        if window_s - sum(r.duration_s for r in chosen) >= min_duration_s - 1e-6:
            break
        chosen.remove(removal)
    return sorted(chosen, key=lambda r: r.start_s)


def _kept_spans(start_s: float, end_s: float, removals: list[Removal]) -> tuple[tuple[float, float], ...]:
    spans = []
    cursor = start_s
    for removal in removals:
        if removal.start_s > cursor:
            spans.append((cursor, removal.start_s))
        cursor = max(cursor, removal.end_s)
    if end_s > cursor:
        spans.append((cursor, end_s))
    return tuple(spans)


def video_select_filter(plan: CleanupPlan) -> str:
    """Frames of the kept stretches, renumbered gap-free; times relative to the window start (the input is seeked).
    Half a frame of slack on both edges, so a boundary on the frame grid never depends on float rounding."""
    half = 0.5 / 30
    terms = "+".join(
        f"between(t,{start - plan.start_s - half:.4f},{end - plan.start_s - half:.4f})"
        for start, end in plan.kept_spans_s
    )
    return f"select='{terms}',setpts=N/FRAME_RATE/TB"


def audio_cut_filter(plan: CleanupPlan) -> str:
    """The kept stretches of the audio, each faded in and out over a few ms, joined end to end."""
    count = len(plan.kept_spans_s)
    parts = [f"asplit={count}" + "".join(f"[cut{i}]" for i in range(count))] if count > 1 else []
    for i, (start, end) in enumerate(plan.kept_spans_s):
        length = end - start
        piece = (
            f"atrim=start={start - plan.start_s:.4f}:end={end - plan.start_s:.4f},asetpts=PTS-STARTPTS,"
            f"afade=t=in:d={AUDIO_FADE_S},afade=t=out:st={max(0.0, length - AUDIO_FADE_S):.4f}:d={AUDIO_FADE_S}"
        )
        parts.append(f"[cut{i}]{piece}[kept{i}]" if count > 1 else piece)
    if count > 1:
        parts.append("".join(f"[kept{i}]" for i in range(count)) + f"concat=n={count}:v=0:a=1")
    return ";".join(parts)
