"""An editor's changes to a clip: a trim that snaps to the transcript's words, and corrected caption text.

Both only ever use times the transcript already has: a trim lands on a word's start or end, and a corrected word
takes the time of the word (or words) it replaces, so edited captions stay in sync with the speech.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from clipped.types import Word


class ClipEditError(ValueError):
    """An edit that cannot apply (a trim with no words in it); the message says why."""


def snap_window(words: Sequence[Word], start_s: float, end_s: float) -> tuple[float, float, list[Word]]:
    """The window ``[start_s, end_s]`` snapped to whole words: it starts at the first word that ends after
    ``start_s`` and ends with the last word that starts before ``end_s``. Returns (start, end, its words)."""
    if end_s <= start_s:
        raise ClipEditError(f"the end ({end_s:.2f} s) must come after the start ({start_s:.2f} s)")
    inside = [word for word in words if word.end_s > start_s and word.start_s < end_s]
    if not inside:
        raise ClipEditError(f"no spoken word between {start_s:.2f} s and {end_s:.2f} s to start or end on")
    return inside[0].start_s, inside[-1].end_s, inside


def retext_words(words: Sequence[Word], text: str) -> list[Word]:
    """``words`` with their text replaced by ``text`` (what the editor typed), aligned word by word.

    Unchanged words keep their times; a run of changed words shares the time of the words it replaces (one
    misheard phrase, "The merch can be" → "The merchant", becomes words spread over the same span); words typed
    where nothing was said join the word before them; deleted words leave no caption.
    """
    typed = text.split()
    if not typed:
        raise ClipEditError("the caption text is empty: keep at least one word")
    if not words:
        raise ClipEditError("the clip has no words to correct")
    said = [word.word.strip() for word in words]
    result: list[Word] = []
    prefix = ""  # words typed before the first word said: they open the first caption
    matcher = difflib.SequenceMatcher(a=[_norm(w) for w in said], b=[_norm(w) for w in typed], autojunk=False)
    for operation, a0, a1, b0, b1 in matcher.get_opcodes():
        if operation == "equal":
            result.extend(words[i].model_copy(update={"word": typed[b0 + i - a0]}) for i in range(a0, a1))
        elif operation == "replace":
            result.extend(_spread(words[a0:a1], typed[b0:b1]))
        elif operation == "insert":
            extra = " ".join(typed[b0:b1])
            if result:
                result[-1] = result[-1].model_copy(update={"word": f"{result[-1].word} {extra}"})
            else:
                prefix = extra
        # "delete": the words said there get no caption
    if prefix and result:
        result[0] = result[0].model_copy(update={"word": f"{prefix} {result[0].word}"})
    elif prefix:  # every word said was deleted and others typed: they take the first word's time
        result = [words[0].model_copy(update={"word": prefix})]
    return result


def _spread(old: Sequence[Word], new: Sequence[str]) -> list[Word]:
    """``new`` words over the span of ``old``: one to one while both last, the rest joined into the last one."""
    if len(new) <= len(old):
        spans = [(old[i].start_s, old[i].end_s) for i in range(len(new) - 1)]
        spans.append((old[len(new) - 1].start_s, old[-1].end_s))
        return [Word(word=text, start_s=start, end_s=end) for text, (start, end) in zip(new, spans, strict=True)]
    head = [Word(word=new[i], start_s=old[i].start_s, end_s=old[i].end_s) for i in range(len(old) - 1)]
    tail = Word(word=" ".join(new[len(old) - 1 :]), start_s=old[-1].start_s, end_s=old[-1].end_s)
    return [*head, tail]


def _norm(word: str) -> str:
    return "".join(ch for ch in word.lower() if ch.isalnum())


HOOK_S = 3.0  # the opening seconds a viewer decides in: what the "hook" sub-score judges


def words_around(words: Sequence[Word], start_s: float, end_s: float, margin_s: float) -> list[Word]:
    """The transcript's words from ``margin_s`` before the clip to ``margin_s`` after it: what a trim can reach."""
    return [word for word in words if word.end_s > start_s - margin_s and word.start_s < end_s + margin_s]


def hook_end_s(words: Sequence[Word], start_s: float) -> float:
    """Where the clip's hook (its opening words, the first :data:`HOOK_S` seconds) ends: the end of the last word
    starting inside it."""
    opening = [word for word in words if start_s <= word.start_s < start_s + HOOK_S]
    return opening[-1].end_s if opening else start_s
