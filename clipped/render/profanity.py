"""Profanity in a clip's words: which spoken words are listed, their masked caption text and the audio filter
that mutes or bleeps exactly their spans.

The list is better-profanity's maintained word list (MIT) plus a workspace's own words, minus the words the
workspace allows. Matching is per spoken word after lower-casing and stripping punctuation, and multi-word list
entries ("blow job") match consecutive words, so "Fuck," and "FUCK" are found and "Scunthorpe" is not.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from clipped.types import Word

OPENING_CLEAN_S = 3.0  # the quality gate: no listed word may be heard in a clip's first seconds
SPAN_PAD_S = 0.03  # ASR word edges are ~10 ms off after refinement; a little margin keeps the consonants out
BLEEP_HZ = 1000
BLEEP_AMPLITUDE = 0.25  # about -12 dBFS: clearly a bleep, not louder than speech after loudness normalisation


@dataclass(frozen=True)
class ProfaneSpan:
    """Listed words spoken from ``start_s`` to ``end_s`` (source time), ``first``..``last`` indices in the words."""

    first: int
    last: int
    start_s: float
    end_s: float
    text: str


def normalise(token: str) -> str:
    """Lower case, accents and punctuation removed: the form list entries are compared in."""
    decomposed = unicodedata.normalize("NFKD", token.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


@functools.cache
def base_word_list() -> frozenset[str]:
    """better-profanity's word list, normalised word by word (multi-word entries keep their spaces)."""
    text = resources.files("better_profanity").joinpath("profanity_wordlist.txt").read_text(encoding="utf-8")
    return frozenset(_entry(line) for line in text.splitlines() if _entry(line))


def word_list(extra: Iterable[str] = (), allowed: Iterable[str] = ()) -> frozenset[str]:
    """The listed words for a workspace: the base list plus ``extra`` minus ``allowed``."""
    added = {_entry(word) for word in extra} - {""}
    return frozenset((base_word_list() | added) - {_entry(word) for word in allowed})


def find_profanity(words: list[Word], listed: frozenset[str]) -> list[ProfaneSpan]:
    """Spans of listed words (and listed phrases of up to 4 consecutive words) in ``words``, in time order."""
    tokens = [normalise(word.word) for word in words]
    spans: list[ProfaneSpan] = []
    index = 0
    while index < len(words):
        matched = 0
        for length in (4, 3, 2, 1):  # longest first: a listed phrase wins over its first word
            window = tokens[index : index + length]
            if len(window) == length and all(window) and " ".join(window) in listed:
                matched = length
                break
        if matched:
            last = index + matched - 1
            spans.append(
                ProfaneSpan(
                    first=index,
                    last=last,
                    start_s=words[index].start_s,
                    end_s=max(words[last].end_s, words[index].start_s),
                    text=" ".join(word.word.strip() for word in words[index : last + 1]),
                )
            )
            index += matched
        else:
            index += 1
    return spans


def mask_text(word: str) -> str:
    """``fuck,`` -> ``f***,``: the first letter kept, later letters starred, punctuation untouched."""
    seen_letter = False
    out = []
    for ch in word:
        if ch.isalnum():
            out.append("*" if seen_letter else ch)
            seen_letter = True
        else:
            out.append(ch)
    return "".join(out)


def mask_words(words: list[Word], spans: list[ProfaneSpan]) -> list[Word]:
    """``words`` with every word inside a span masked; times unchanged."""
    masked = {index for span in spans for index in range(span.first, span.last + 1)}
    return [
        word.model_copy(update={"word": mask_text(word.word)}) if index in masked else word
        for index, word in enumerate(words)
    ]


def mask_listed(words: list[Word], masked: Iterable[str]) -> list[Word]:
    """``words`` with every word whose normalised form is in ``masked`` masked (what a render censored)."""
    listed = set(masked)
    return [
        word.model_copy(update={"word": mask_text(word.word)}) if listed and normalise(word.word) in listed else word
        for word in words
    ]


def clip_spans(spans: list[ProfaneSpan], clip_start_s: float, clip_end_s: float) -> list[tuple[float, float]]:
    """The spans in CLIP time, padded by :data:`SPAN_PAD_S`, clamped to the clip, overlaps merged."""
    duration = clip_end_s - clip_start_s
    pieces = sorted(
        (max(0.0, span.start_s - clip_start_s - SPAN_PAD_S), min(duration, span.end_s - clip_start_s + SPAN_PAD_S))
        for span in spans
    )
    merged: list[tuple[float, float]] = []
    for start, end in pieces:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def censor_filter(spans_s: list[tuple[float, float]], mode: str) -> str | None:
    """An audio filter (one input, one output) silencing each span, or replacing it with a tone for ``bleep``.

    Times are the filter's own ``t``, so it belongs where the audio starts at 0 (the clip's first sample).
    None when there is nothing to censor or ``mode`` is ``off``.
    """
    if mode not in ("off", "mute", "bleep"):
        raise ValueError(f"unknown profanity mode {mode!r}; allowed: off, mute, bleep")
    if mode == "off" or not spans_s:
        return None
    inside = "+".join(f"between(t,{start:.3f},{end:.3f})" for start, end in spans_s)
    replacement = "0" if mode == "mute" else f"{BLEEP_AMPLITUDE}*sin(2*PI*{BLEEP_HZ}*t)"
    # aeval works per sample (a timeline ``enable`` is per frame, and loudnorm hands on frames of seconds), and
    # keeps this a single-input chain (no separate sine source to mix in). asetpts counts t from the first sample:
    # some ffmpeg builds start the cut audio's timestamps a little off zero, which would shift every span.
    return f"asetpts=N/SR/TB,aeval=exprs='if({inside},{replacement},val(ch))':channel_layout=same"


def profanity_in_opening(spans: list[ProfaneSpan], clip_start_s: float, seconds: float = OPENING_CLEAN_S) -> bool:
    """Whether a listed word starts within the clip's first ``seconds`` (the quality gate fails if so)."""
    return any(span.end_s > clip_start_s and span.start_s < clip_start_s + seconds for span in spans)


def _entry(line: str) -> str:
    return " ".join(normalise(part) for part in line.split() if normalise(part))
