"""Sentences from ASR words: the units every clip starts and ends on.

Terminal punctuation ends a sentence; so does a long pause, because many ASR models return little or no
punctuation. Anything still too long (a run-on monologue without pauses) is cut at its best break: the
longest pause, preferring a comma, keeping the pieces balanced.
"""

from __future__ import annotations

from collections.abc import Sequence

from clipped.select.lexicon import ends_sentence
from clipped.types import Sentence, Word

MAX_PAUSE_S = 1.0
MAX_SENTENCE_WORDS = 30
MAX_SENTENCE_S = 15.0
MIN_PIECE_WORDS = 4
SOFT_BREAK_MARKS = (",", ";", ":", "—", "–")


def split_sentences(
    words: Sequence[Word],
    *,
    max_pause_s: float = MAX_PAUSE_S,
    max_words: int = MAX_SENTENCE_WORDS,
    max_duration_s: float = MAX_SENTENCE_S,
) -> list[Sentence]:
    """Group consecutive ``words`` into sentences, in order, covering every word exactly once.

    A sentence ends at terminal punctuation (. ! ? …, not abbreviations), before a pause longer than
    ``max_pause_s``, or is cut so it has at most ``max_words`` words and lasts at most ``max_duration_s``.
    ``word_start``/``word_end`` index into ``words``; times are the first word's start and the last word's end.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for index, word in enumerate(words):
        is_last = index == len(words) - 1
        if is_last or ends_sentence(word.word) or words[index + 1].start_s - word.end_s > max_pause_s:
            spans.extend(_split_long(words, start, index + 1, max_words, max_duration_s))
            start = index + 1
    return [_sentence(words, first, end) for first, end in spans]


def _split_long(
    words: Sequence[Word], start: int, end: int, max_words: int, max_duration_s: float
) -> list[tuple[int, int]]:
    """``[start, end)`` as one span, or recursively halved at its best break while it is too long."""
    too_long = end - start > max_words or words[end - 1].end_s - words[start].start_s > max_duration_s
    if not too_long or end - start < 2:
        return [(start, end)]
    margin = MIN_PIECE_WORDS if end - start >= 2 * MIN_PIECE_WORDS else 1
    best_cut, best_score = start + (end - start) // 2, float("-inf")
    for cut in range(start + margin, end - margin + 1):
        before = words[cut - 1]
        pause = max(0.0, words[cut].start_s - before.end_s)
        soft_break = 0.5 if before.word.strip().endswith(SOFT_BREAK_MARKS) else 0.0
        imbalance = abs((cut - start) - (end - cut)) / (end - start)
        score = pause + soft_break - 0.3 * imbalance
        if score > best_score:
            best_cut, best_score = cut, score
    return [
        *_split_long(words, start, best_cut, max_words, max_duration_s),
        *_split_long(words, best_cut, end, max_words, max_duration_s),
    ]


def join_words(words: Sequence[Word]) -> str:
    """The text of consecutive ASR words.

    Whisper-style words carry their own leading space, and a piece without one continues the previous word
    ("cold" + "-hearted"); words without any spacing (other aligners) are joined with single spaces.
    """
    if any(word.word[:1].isspace() for word in words[1:]):
        return " ".join("".join(word.word for word in words).split())
    return " ".join(token for word in words if (token := word.word.strip()))


def _sentence(words: Sequence[Word], start: int, end: int) -> Sentence:
    text = join_words(words[start:end])
    return Sentence(text=text, start_s=words[start].start_s, end_s=words[end - 1].end_s, word_start=start, word_end=end)
