"""Subtitle files from word times: readable cues (1–3 lines of at most 42 characters) as SRT and WebVTT.

Burned-in captions show a few words at a time for phones; a subtitle file is read in an editor or a player, so
cues follow the usual broadcast limits instead: whole lines of up to 42 characters, a new cue at a sentence end
or a pause, never longer than a few seconds on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from clipped.types import Word

MAX_LINE_CHARS = 42
MAX_LINES = 2  # two lines is the subtitle norm; 3 is allowed for dense speech
MAX_CUE_S = 6.0
PAUSE_BREAK_S = 0.8  # a silence this long starts a new cue
MIN_CUE_S = 0.7  # short cues are held a little longer, up to the next cue
SENTENCE_END = (".", "?", "!", "…")


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _pieces(text: str, width: int) -> list[str]:
    """A word as pieces no wider than a line (only a URL-like word is ever longer)."""
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _wrap(words: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for word in words:
        for piece in _pieces(word, width):
            if lines and len(lines[-1]) + 1 + len(piece) <= width:
                lines[-1] += " " + piece
            else:
                lines.append(piece)
    return lines


def caption_cues(
    words: list[Word],
    *,
    max_line_chars: int = MAX_LINE_CHARS,
    max_lines: int = MAX_LINES,
    timeline_end_s: float | None = None,
) -> list[Cue]:
    """Group ``words`` (in time order, on the timeline the cues are for) into cues.

    A cue ends where adding the next word would need more than ``max_lines`` lines, after a word that ends a
    sentence, before a pause of :data:`PAUSE_BREAK_S`, or when it would stay on screen over :data:`MAX_CUE_S`.
    Short cues are held up to :data:`MIN_CUE_S`, never past the next cue or ``timeline_end_s``.
    """
    if not 1 <= max_lines <= 3:
        raise ValueError(f"max_lines must be 1–3, not {max_lines}")
    spoken = [w for w in words if w.word.strip()]
    groups: list[list[Word]] = []
    for word in spoken:
        current = groups[-1] if groups else None
        if current is not None:
            previous = current[-1]
            texts = [w.word.strip() for w in [*current, word]]
            fits = len(_wrap(texts, max_line_chars)) <= max_lines
            ended = previous.word.strip().endswith(SENTENCE_END)
            paused = word.start_s - previous.end_s >= PAUSE_BREAK_S
            too_long = word.end_s - current[0].start_s > MAX_CUE_S
            if fits and not ended and not paused and not too_long:
                current.append(word)
                continue
        groups.append([word])
    cues = [
        Cue(group[0].start_s, group[-1].end_s, tuple(_wrap([w.word.strip() for w in group], max_line_chars)))
        for group in groups
    ]
    return _hold_short_cues(cues, timeline_end_s)


def _hold_short_cues(cues: list[Cue], timeline_end_s: float | None) -> list[Cue]:
    held = []
    for index, cue in enumerate(cues):
        limit = cues[index + 1].start_s if index + 1 < len(cues) else cue.start_s + MIN_CUE_S
        if timeline_end_s is not None:
            limit = min(limit, timeline_end_s)
        end = min(max(cue.end_s, cue.start_s + MIN_CUE_S), max(limit, cue.end_s))
        held.append(Cue(cue.start_s, end, cue.lines))
    return held


def _timestamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(cues: list[Cue]) -> str:
    """SubRip text: numbered cues, ``HH:MM:SS,mmm`` times."""
    blocks = [
        f"{n}\n{_timestamp(c.start_s, ',')} --> {_timestamp(c.end_s, ',')}\n{c.text}\n" for n, c in enumerate(cues, 1)
    ]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: list[Cue]) -> str:
    """WebVTT text: ``HH:MM:SS.mmm`` times, cue text escaped (``<`` and ``&`` are markup in VTT)."""
    blocks = [f"{_timestamp(c.start_s, '.')} --> {_timestamp(c.end_s, '.')}\n{_vtt_escape(c.text)}\n" for c in cues]
    return "\n".join(["WEBVTT\n", *blocks])
