"""Heuristic titles and one-line reasons for candidates.

Kept apart from the scoring so an LLM ranker can replace either without touching how windows are scored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clipped.select.lexicon import CLOSING_MARKS, CONTINUATIONS, FILLERS, TERMINAL_PUNCTUATION, normalize, words

MAX_TITLE_CHARS = 60
MAX_REASON_PARTS = 3
NO_SPEECH_REASON = "no speech: chosen from audio energy and scene changes"

_SMALL_WORDS = words("a an the and but or nor of to in on at by for with as vs")
_LEADING_NOISE = CONTINUATIONS | FILLERS | {"well", "now", "oh"}


@dataclass(frozen=True)
class Signal:
    """One reason a window scored well: its weighted contribution to the score and a short phrase."""

    strength: float
    phrase: str


def make_reason(signals: Iterable[Signal], *, prefix: str | None = None) -> str:
    """The strongest few signal phrases as one line ("strong hook (question), complete thought, ...")."""
    phrases: list[str] = []
    for signal in sorted(signals, key=lambda s: -s.strength):
        if signal.strength > 0 and signal.phrase not in phrases:
            phrases.append(signal.phrase)
        if len(phrases) == MAX_REASON_PARTS:
            break
    body = ", ".join(phrases)
    if prefix:
        return f"{prefix}; {body}" if body else prefix
    return body or "best remaining moment by overall score"


def make_title(sentence: str) -> str:
    """A Title Case headline of at most 60 characters from one sentence, without leading filler or trailing
    punctuation; cut at a clause break or word boundary when the sentence is longer."""
    words = sentence.split()
    while len(words) > 1 and normalize(words[0]) in _LEADING_NOISE:
        words = words[1:]
    text = _shorten(" ".join(words))
    text = text.rstrip(CLOSING_MARKS + "".join(TERMINAL_PUNCTUATION) + ",;:-–— ")
    text = text.lstrip("\"'“‘([«")
    return _title_case(text) if text else "Untitled Clip"


def timestamp_title(start_s: float, end_s: float) -> str:
    """A title for a clip with no words to draw on."""
    return f"Highlight From {_clock(start_s)} to {_clock(end_s)}"


def _shorten(text: str) -> str:
    if len(text) <= MAX_TITLE_CHARS:
        return text
    head = text[: MAX_TITLE_CHARS + 1]
    # A clause break reads better than a mid-phrase cut, as long as enough of the sentence survives.
    clause_end = max(head.rfind(mark) for mark in (",", ";", ":", " –", " —"))
    if clause_end >= 25:
        return head[:clause_end]
    space = head.rfind(" ")
    return head[:space] if space > 0 else head[:MAX_TITLE_CHARS]


def _title_case(text: str) -> str:
    words = text.split(" ")
    cased = []
    for index, word in enumerate(words):
        keep_as_is = any(char.isupper() for char in word)  # acronyms, names, "iPhone"
        small = word.lower() in _SMALL_WORDS and 0 < index < len(words) - 1
        if keep_as_is or small or not word:
            cased.append(word)
        else:
            cased.append(word[0].upper() + word[1:])
    return " ".join(cased)


def _clock(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
