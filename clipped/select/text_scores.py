"""Hook, flow and value of transcript windows, each 0..1, from the words alone.

Per-word cues (numbers, name-like capitals, trigger phrases, new content words, dead air after the word) are
turned into prefix sums once, and per-sentence cues (how well it opens, how cleanly it ends) into arrays, so
scoring tens of thousands of windows is a handful of numpy operations.

- hook (first sentence only): a question, talking to "you", a number, curiosity words, a short punchy line;
  opening on "and/but/so" or a filler costs.
- flow: starts on a fresh thought, ends on terminal punctuation (a long pause counts a little less), little
  dead air inside, a speaking rate of 2-4.5 words/s (lively talk runs past 4).
- value: density of numbers, name-like capitalised words and trigger words ("here's", "important", "the
  key"), and the share of content words not already used in the previous 50 words (lexical diversity).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clipped.select.lexicon import (
    CLOSING_MARKS,
    CONTINUATIONS,
    CURIOSITY_WORDS,
    DANGLING_OPENERS,
    FILLERS,
    HEDGES,
    NUMBER_WORDS,
    OPEN_QUESTION_WORDS,
    QUESTION_AUXILIARIES,
    QUESTION_WORDS,
    SECOND_PERSON,
    STOPWORDS,
    STORY_OPENERS,
    TRIGGER_BIGRAMS,
    TRIGGER_WORDS,
    ends_sentence,
    normalize,
)
from clipped.select.sentences import MAX_PAUSE_S
from clipped.select.titles import Signal
from clipped.types import Sentence, Word

HOOK_PARTS = {"question": 0.3, "you": 0.1, "number": 0.15, "curiosity": 0.15, "story": 0.2, "punchy": 0.15}
"""Curiosity counts per word, up to two words; the total is capped at 1."""
CLOSED_QUESTION_CREDIT = 0.3
"""A question that opens no gap (not why/how, no claim word) earns this share of the question part."""
HOOK_CONTINUATION_PENALTY = 0.25
HOOK_FILLER_PENALTY = 0.15
HOOK_HESITATION_PENALTY = 0.15
HOOK_TRAILING_OFF_PENALTY = 0.3
HESITATIONS = frozenset({"um", "uh", "erm", "er", "hmm", "mm"})
TRAILING_OFF = frozenset(
    {"i", "a", "an", "the", "to", "and", "of", "my", "your", "we", "is", "was", "have", "but", "so"}
)
"""A sentence cut off after one of these (no full stop) trails off."""
FLOW_PARTS = {"start": 0.3, "end": 0.3, "pauses": 0.2, "pace": 0.2}
VALUE_PARTS = {"numbers": 0.25, "names": 0.2, "triggers": 0.3, "diversity": 0.25}

DEAD_AIR_AFTER_S = 0.5
"""Silence between words beyond this is dead air."""
DEAD_AIR_ZERO_SHARE = 0.25
"""A window that is this much dead air gets no pause credit."""
NOVELTY_LOOKBACK_WORDS = 50
NUMBERS_SATURATE = 0.02  # numbers per word for full credit (3 in a 150-word minute)
NAMES_SATURATE = 0.04
TRIGGERS_SATURATE = 0.015
_FIRST_PERSON_CAPS = frozenset({"i", "i'm", "i've", "i'll", "i'd"})


@dataclass(frozen=True)
class TextFeatures:
    """Cues of one transcript, ready for scoring any window of whole sentences."""

    words: Sequence[Word]
    tokens: list[str]
    sentences: list[Sentence]
    starts_s: np.ndarray  # per sentence
    ends_s: np.ndarray
    first_word: np.ndarray
    past_word: np.ndarray
    hook: np.ndarray
    hook_cues: list[tuple[str, ...]]
    start_ok: np.ndarray
    end_kind: np.ndarray
    info: np.ndarray  # how much a sentence says, for picking the title
    prefix: dict[str, np.ndarray]  # per-word cue counts, prefix-summed (length words + 1)


def text_features(words: Sequence[Word], sentences: list[Sentence]) -> TextFeatures:
    """Precompute every word and sentence cue of a transcript split into ``sentences``."""
    tokens = [normalize(word.word) for word in words]
    first_of_sentence = np.zeros(len(words), dtype=bool)
    first_of_sentence[[sentence.word_start for sentence in sentences]] = True
    per_word = _word_cues(words, tokens, first_of_sentence)
    prefix = {name: np.concatenate(([0.0], np.cumsum(values))) for name, values in per_word.items()}

    punctuated = any(ends_sentence(word.word) for word in words)
    end_kind = np.array([_end_kind(words, sentence) for sentence in sentences])
    hooks = [_hook(words, tokens, sentence, punctuated) for sentence in sentences]
    start_ok = np.array([_start_ok(tokens, sentences, end_kind, index) for index in range(len(sentences))])
    info = np.array([_info(per_word, tokens, sentence) for sentence in sentences])
    return TextFeatures(
        words=words,
        tokens=tokens,
        sentences=sentences,
        starts_s=np.array([sentence.start_s for sentence in sentences], dtype=np.float64),
        ends_s=np.array([sentence.end_s for sentence in sentences], dtype=np.float64),
        first_word=np.array([sentence.word_start for sentence in sentences], dtype=np.int64),
        past_word=np.array([sentence.word_end for sentence in sentences], dtype=np.int64),
        hook=np.array([score for score, _ in hooks]),
        hook_cues=[cues for _, cues in hooks],
        start_ok=start_ok,
        end_kind=end_kind,
        info=info,
        prefix=prefix,
    )


def text_scores(features: TextFeatures, first: np.ndarray, last: np.ndarray) -> dict[str, np.ndarray]:
    """Sub-scores of the windows made of sentences ``first[k]..last[k]`` (inclusive): ``hook``, ``flow``,
    ``value`` and the components they are built from."""
    begin, end = features.first_word[first], features.past_word[last]
    words = np.maximum(end - begin, 1).astype(np.float64)
    duration = np.maximum(features.ends_s[last] - features.starts_s[first], 1e-3)

    def count(name: str, stop: np.ndarray = end) -> np.ndarray:
        return features.prefix[name][stop] - features.prefix[name][begin]

    # Gaps after the window's last word lie outside it.
    dead_air = count("dead_air", np.maximum(end - 1, begin))
    pauses = np.clip(1.0 - (dead_air / duration) / DEAD_AIR_ZERO_SHARE, 0.0, 1.0)
    words_per_s = words / duration
    pace = np.interp(words_per_s, [1.0, 2.0, 4.5, 6.0], [0.0, 1.0, 1.0, 0.0])
    start_ok, end_kind = features.start_ok[first], features.end_kind[last]
    flow = (
        FLOW_PARTS["start"] * start_ok
        + FLOW_PARTS["end"] * end_kind
        + FLOW_PARTS["pauses"] * pauses
        + FLOW_PARTS["pace"] * pace
    )

    numbers = np.minimum(1.0, count("numbers") / words / NUMBERS_SATURATE)
    names = np.minimum(1.0, count("names") / words / NAMES_SATURATE)
    triggers = np.minimum(1.0, count("triggers") / words / TRIGGERS_SATURATE)
    content = count("content")
    novel_share = np.where(content > 0, count("novel") / np.maximum(content, 1), 0.0)
    diversity = np.clip((novel_share - 0.5) / 0.4, 0.0, 1.0)
    value = (
        VALUE_PARTS["numbers"] * numbers
        + VALUE_PARTS["names"] * names
        + VALUE_PARTS["triggers"] * triggers
        + VALUE_PARTS["diversity"] * diversity
    )
    return {
        "hook": features.hook[first],
        "flow": np.clip(flow, 0.0, 1.0),
        "value": np.clip(value, 0.0, 1.0),
        "start_ok": start_ok,
        "end_kind": end_kind,
        "pauses": pauses,
        "pace": pace,
        "words_per_s": words_per_s,
        "numbers": numbers,
        "names": names,
        "triggers": triggers,
        "diversity": diversity,
    }


def describe_text(features: TextFeatures, first: int, last: int, weights: dict[str, float]) -> list[Signal]:
    """Why one window scored as it did on hook, flow and value, as weighted signals."""
    parts = {
        name: float(values[0]) for name, values in text_scores(features, np.array([first]), np.array([last])).items()
    }
    signals: list[Signal] = []
    cues = features.hook_cues[first]
    if cues:
        label = "strong hook" if parts["hook"] >= 0.5 else "hook"
        signals.append(Signal(weights["hook"] * parts["hook"], f"{label} ({', '.join(cues[:2])})"))
    if parts["start_ok"] >= 0.8 and parts["end_kind"] >= 1.0:
        signals.append(Signal(weights["flow"] * (FLOW_PARTS["start"] + FLOW_PARTS["end"]), "complete thought"))
    if parts["pace"] >= 1.0:
        strength = weights["flow"] * FLOW_PARTS["pace"] * parts["pace"]
        signals.append(Signal(strength, f"steady pace ({parts['words_per_s']:.1f} words/s)"))
    begin, end = int(features.first_word[first]), int(features.past_word[last])
    window_tokens = features.tokens[begin:end]
    trigger = _first_trigger(window_tokens)
    if parts["triggers"] > 0 and trigger:
        strength = weights["value"] * VALUE_PARTS["triggers"] * parts["triggers"]
        signals.append(Signal(strength, f"key-point phrasing ('{trigger}')"))
    if parts["numbers"] > 0:
        signals.append(Signal(weights["value"] * VALUE_PARTS["numbers"] * parts["numbers"], "concrete numbers"))
    if parts["names"] > 0:
        names = _names_in(features, begin, end)
        if names:
            strength = weights["value"] * VALUE_PARTS["names"] * parts["names"]
            signals.append(Signal(strength, f"names ({', '.join(names[:2])})"))
    return signals


def title_sentence(features: TextFeatures, first: int, last: int) -> str:
    """The text of the window's most informative sentence; a hooky opener gets a head start."""
    return title_sentences(features, first, last)[0]


def title_sentences(features: TextFeatures, first: int, last: int) -> list[str]:
    """The window's sentences, best title material first: informative, complete, 4-14 words; a hooky opener
    gets a head start."""
    info = features.info[first : last + 1].copy()
    if features.hook[first] >= 0.5:
        info[0] += 0.5
    info += 0.2 * (features.end_kind[first : last + 1] >= 1.0)
    order = np.argsort(-info, kind="stable")
    return [features.sentences[first + int(index)].text for index in order]


def _word_cues(words: Sequence[Word], tokens: list[str], first_of_sentence: np.ndarray) -> dict[str, np.ndarray]:
    count = len(words)
    numbers = np.zeros(count)
    names = np.zeros(count)
    triggers = np.zeros(count)
    content = np.zeros(count)
    novel = np.zeros(count)
    last_seen: dict[str, int] = {}
    for index, (word, token) in enumerate(zip(words, tokens, strict=True)):
        is_num = any(char.isdigit() for char in token) or token in NUMBER_WORDS
        numbers[index] = is_num
        raw = word.word.strip().lstrip("\"'“‘([«")
        names[index] = (
            bool(raw[:1].isupper())
            and not is_num
            and not first_of_sentence[index]
            and len(token) > 1
            and token not in _FIRST_PERSON_CAPS
        )
        following = tokens[index + 1] if index + 1 < count else ""
        triggers[index] = token in TRIGGER_WORDS or (token, following) in TRIGGER_BIGRAMS
        is_content = len(token) >= 3 and token not in STOPWORDS and not is_num and any(c.isalpha() for c in token)
        content[index] = is_content
        if is_content:
            seen = last_seen.get(token)
            novel[index] = seen is None or index - seen > NOVELTY_LOOKBACK_WORDS
            last_seen[token] = index
    dead_air = np.zeros(count)
    if count > 1:
        starts = np.array([word.start_s for word in words])
        ends = np.array([word.end_s for word in words])
        dead_air[:-1] = np.maximum(0.0, starts[1:] - ends[:-1] - DEAD_AIR_AFTER_S)
    return {
        "numbers": numbers,
        "names": names,
        "triggers": triggers,
        "content": content,
        "novel": novel,
        "dead_air": dead_air,
    }


def _hook(
    words: Sequence[Word], tokens: list[str], sentence: Sentence, punctuated: bool
) -> tuple[float, tuple[str, ...]]:
    toks = [token for token in tokens[sentence.word_start : sentence.word_end] if token]
    if not toks:
        return 0.0, ()
    last_word = words[sentence.word_end - 1].word.strip().rstrip(CLOSING_MARKS)
    # Without any punctuation in the transcript, the opening words are the only sign of a question.
    question = last_word.endswith("?") or (
        not punctuated
        and (toks[0] in QUESTION_WORDS or (toks[0] in QUESTION_AUXILIARIES and len(toks) > 1 and toks[1] == "you"))
    )
    pairs = list(itertools.pairwise(toks))
    # "you guys" addresses the room (usually logistics), not the viewer.
    you = any(token in SECOND_PERSON for token in toks) and ("you", "guys") not in pairs
    number = any(any(char.isdigit() for char in token) or token in NUMBER_WORDS for token in toks)
    # A question word already shows as "question"; name the claim word instead when there is one.
    curious = sorted((t for t in toks if t in CURIOSITY_WORDS), key=lambda t: question and t in QUESTION_WORDS)
    # "Why ...?"/"How ...?" or a question with a claim word opens a gap; "Who wants to take notes?" does not.
    open_question = question and (toks[0] in OPEN_QUESTION_WORDS or bool(curious))
    story = any(pair in STORY_OPENERS for pair in pairs)
    length = len(toks)
    punchy = 0.5 if length < 3 else float(np.interp(length, [12, 30], [1.0, 0.0]))

    score = (
        HOOK_PARTS["question"] * (1.0 if open_question else CLOSED_QUESTION_CREDIT if question else 0.0)
        + HOOK_PARTS["you"] * you
        + HOOK_PARTS["number"] * number
        + HOOK_PARTS["curiosity"] * min(2, len(curious))
        + HOOK_PARTS["story"] * story
        + HOOK_PARTS["punchy"] * punchy
    )
    if toks[0] in CONTINUATIONS or toks[0] in DANGLING_OPENERS:
        score -= HOOK_CONTINUATION_PENALTY
    elif toks[0] in FILLERS:
        score -= HOOK_FILLER_PENALTY
    # Someone thinking aloud ("sort of, um, I") or trailing off mid-clause is no hook whatever its words.
    hesitations = sum(pair in HEDGES for pair in pairs) + sum(token in HESITATIONS for token in toks[1:])
    score -= HOOK_HESITATION_PENALTY * min(3, hesitations)
    if not ends_sentence(last_word) and toks[-1] in TRAILING_OFF:
        score -= HOOK_TRAILING_OFF_PENALTY
    cues = [
        *(["question"] if question else []),
        *(["story opener"] if story else []),
        *([f"'{curious[0]}'"] if curious else []),
        *(["speaks to 'you'"] if you else []),
        *(["number"] if number else []),
    ]
    return float(np.clip(score, 0.0, 1.0)), tuple(cues)


def _end_kind(words: Sequence[Word], sentence: Sentence) -> float:
    """1 for terminal punctuation, 0.6 for a long pause or the end of speech, 0 for a forced cut."""
    last = sentence.word_end - 1
    if ends_sentence(words[last].word):
        return 1.0
    if last == len(words) - 1 or words[last + 1].start_s - words[last].end_s > MAX_PAUSE_S:
        return 0.6
    return 0.0


def _start_ok(tokens: list[str], sentences: list[Sentence], end_kind: np.ndarray, index: int) -> float:
    """How fresh a start the sentence is: not a continuation word or a pointer back ("it", "that one"), not
    right after a forced cut. 0 means a viewer would need what came before."""
    first_token = tokens[sentences[index].word_start]
    if first_token in CONTINUATIONS or first_token in DANGLING_OPENERS:
        return 0.0
    if first_token in FILLERS:
        return 0.3
    if index == 0:
        return 1.0
    return float(np.interp(end_kind[index - 1], [0.0, 0.6, 1.0], [0.2, 0.8, 1.0]))


def _info(per_word: dict[str, np.ndarray], tokens: list[str], sentence: Sentence) -> float:
    span = slice(sentence.word_start, sentence.word_end)
    length = sentence.word_end - sentence.word_start
    info = (
        0.4 * min(1.0, per_word["content"][span].sum() / 6)
        + 0.2 * bool(per_word["numbers"][span].any())
        + 0.2 * bool(per_word["names"][span].any())
        + 0.2 * bool(per_word["triggers"][span].any())
    )
    # Titles come from 4-14 word sentences; longer ones get cut, shorter ones say little.
    if length > 14 or length < 4:
        info -= 0.3
    if tokens[sentence.word_start] in CONTINUATIONS:
        info -= 0.2
    return info


def _first_trigger(tokens: list[str]) -> str | None:
    for index, token in enumerate(tokens):
        if token in TRIGGER_WORDS:
            return token
        if index + 1 < len(tokens) and (token, tokens[index + 1]) in TRIGGER_BIGRAMS:
            return f"{token} {tokens[index + 1]}"
    return None


def _names_in(features: TextFeatures, begin: int, end: int) -> list[str]:
    names: list[str] = []
    steps = np.diff(features.prefix["names"][begin : end + 1])
    for offset in np.flatnonzero(steps):
        name = features.words[begin + int(offset)].word.strip().strip(".,!?;:\"'“”‘’()")
        if name and name not in names:
            names.append(name)
    return names
