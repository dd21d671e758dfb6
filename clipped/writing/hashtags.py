"""Topical hashtags from a clip's own words: its most frequent content words, in order of weight."""

from __future__ import annotations

from collections import Counter

from clipped.select.lexicon import FILLERS, STOPWORDS, normalize, words

MAX_TOPICAL_TAGS = 4
MIN_TAG_CHARS = 4
PROPER_NOUN_BONUS = 2  # a capitalised word inside a sentence is usually a name: the most topical tag there is

# Common verbs and adverbs that are content words to a stoplist but never a topic anyone follows.
_NOT_TOPICS = words(
    "made make makes making said says tell told think thought want wanted need needed come came take took give "
    "gave look looked seem seems seemed kept keep keeps start started remember later together different "
    "yourself myself ourselves themselves actually probably basically literally maybe always never often "
    "something anything everything nothing someone everyone people today tomorrow yesterday again still even "
    "little great good better best okay right sure first last next another other every each same easy hard tell "
    "told ask asked says thing things feel felt kind sort lots"
)


def topical_hashtags(text: str, *, limit: int = MAX_TOPICAL_TAGS) -> list[str]:
    """Up to ``limit`` ``#Word`` tags: the clip's content words ranked by count, then by length (longer words
    are usually the more specific ones), then by first appearance."""
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    tokens = text.split()
    for position, token in enumerate(tokens):
        word = normalize(token).replace("'", "")
        if len(word) < MIN_TAG_CHARS or not is_topical(word):
            continue
        sentence_start = position == 0 or tokens[position - 1].endswith((".", "!", "?"))
        counts[word] += PROPER_NOUN_BONUS if token[:1].isupper() and not sentence_start else 1
        first_seen.setdefault(word, position)
    ranked = sorted(counts, key=lambda w: (-counts[w], -len(w), first_seen[w]))
    return [f"#{word.capitalize()}" for word in ranked[:limit]]


def is_topical(word: str) -> bool:
    """Whether a normalised word can name a topic: a content word, not a stopword, filler, common verb or adverb."""
    return (
        word.isalpha()
        and word not in STOPWORDS
        and word not in FILLERS
        and word not in _NOT_TOPICS
        and not word.endswith("ly")
    )
