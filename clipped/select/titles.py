"""Heuristic titles and one-line reasons for candidates.

Kept apart from the scoring so an LLM ranker can replace either without touching how windows are scored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clipped.select.lexicon import CLOSING_MARKS, CONTINUATIONS, FILLERS, TERMINAL_PUNCTUATION, normalize, words

MAX_TITLE_CHARS = 60
MAX_TITLE_WORDS = 8
MIN_CLAUSE_WORDS = 3
SAME_TITLE_SHARE = 0.6
MAX_REASON_PARTS = 3
NO_SPEECH_REASON = "no speech: chosen from audio energy and scene changes"

_SMALL_WORDS = words("a an the and but or nor of to in on at by for with as vs")
_LEADING_NOISE = CONTINUATIONS | FILLERS | {"well", "now", "oh"}
_HESITATIONS = frozenset({"um", "uh", "erm", "er", "hmm", "mm", "mhm"})
_HEDGES = frozenset({("sort", "of"), ("kind", "of"), ("you", "know"), ("i", "mean")})
_HANGING_ENDS = (
    _SMALL_WORDS
    | FILLERS
    | words(
        "is are was were be been am it's that which who whom whose i you we they he she my your our their his her its "
        "well so because if when than then just really very actually basically guess mean know"
    )
)
"""A headline ending on one of these leaves the phrase hanging ("... Comes Back Is, Well")."""
_PHRASE_BREAKS = words(
    "before after along near behind beside during with without because when while until since for from into "
    "onto over under about at in on to and but or so which who that where"
)
"""A long sentence is cut before one of these: what comes before is usually a whole phrase."""


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
    """A short Title Case headline (at most 60 characters, about eight words) from one sentence.

    Fillers and hedges ("um", "you know", "sort of") go wherever they are; leading connectives ("so", "and",
    "well") and a trailing tag ("okay", "right") go too. A long sentence keeps its first clause that says
    something (three words or more), cut at eight words; whatever it ends on, it never ends on a word that
    leaves the phrase hanging ("is", "the", "of", "well"). No trailing punctuation.
    """
    words = _without_fillers(sentence.split())
    while len(words) > 1 and normalize(words[0]) in _LEADING_NOISE:
        words = words[1:]
    clause = _first_clause(words)
    text = _shorten(" ".join(_trim_hanging(_cut_phrase(clause))))
    text = text.rstrip(CLOSING_MARKS + "".join(TERMINAL_PUNCTUATION) + ",;:-–— ")
    text = text.lstrip("\"'“‘([«")
    return _title_case(text) if text else "Untitled Clip"


def _without_fillers(words: list[str]) -> list[str]:
    kept: list[str] = []
    index = 0
    while index < len(words):
        token = normalize(words[index])
        following = normalize(words[index + 1]) if index + 1 < len(words) else ""
        if (token, following) in _HEDGES:
            _carry_punctuation(kept, words[index + 1])
            index += 2
            continue
        if token in _HESITATIONS:
            _carry_punctuation(kept, words[index])
        else:
            kept.append(words[index])
        index += 1
    return kept


def _carry_punctuation(kept: list[str], dropped: str) -> None:
    """Keep a clause break that sat on a dropped filler ("sort of, um, I" keeps its commas' meaning)."""
    mark = dropped.strip()[-1:] if dropped.strip() else ""
    if kept and mark in ",;:.!?" and not kept[-1].endswith((",", ";", ":", ".", "!", "?")):
        kept[-1] += mark


def _first_clause(words: list[str]) -> list[str]:
    """The first comma/semicolon/colon clause with at least three words after trimming; all words if none."""
    clauses: list[list[str]] = [[]]
    for word in words:
        clauses[-1].append(word)
        if word.endswith((",", ";", ":", " –", "—")):
            clauses.append([])
    for clause in clauses:
        trimmed = _trim_hanging(clause)
        if len([w for w in trimmed if any(c.isalnum() for c in w)]) >= MIN_CLAUSE_WORDS:
            return trimmed
    return words


def _cut_phrase(words: list[str]) -> list[str]:
    """At most ~8 words: a longer clause is cut before a preposition or conjunction (up to 10 words in, so a
    phrase stays whole: "... Three Heavy Iron Keys | before the rain"), else at 8 words."""
    if len(words) <= MAX_TITLE_WORDS or (len(words) <= MAX_TITLE_WORDS + 2 and len(" ".join(words)) <= 50):
        return words  # a short sentence stays whole
    breaks = [
        index
        for index in range(MIN_CLAUSE_WORDS, min(len(words), MAX_TITLE_WORDS + 2) + 1)
        if index < len(words) and normalize(words[index]) in _PHRASE_BREAKS
    ]
    return words[: breaks[-1]] if breaks else words[:MAX_TITLE_WORDS]


def _trim_hanging(words: list[str]) -> list[str]:
    words = list(words)
    while len(words) > 1 and normalize(words[-1]) in _HANGING_ENDS:
        words.pop()
    while len(words) > 1 and normalize(words[0]) in _LEADING_NOISE:
        words = words[1:]
    return words


def same_title(a: str, b: str) -> bool:
    """Whether two titles say the same to a reader: equal, or sharing most of their words."""
    words_a = {normalize(word) for word in a.split()} - _SMALL_WORDS
    words_b = {normalize(word) for word in b.split()} - _SMALL_WORDS
    if not words_a or not words_b:
        return a.lower() == b.lower()
    return len(words_a & words_b) / len(words_a | words_b) >= SAME_TITLE_SHARE


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
