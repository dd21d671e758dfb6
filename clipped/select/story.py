"""Story arc of a window: a setup early on, a turn or payoff at the end, delivery that builds, a reaction after.

arc = 0.3 setup (a story opener such as "I remember", "one time", "years ago" in the first two sentences)
+ 0.2 payoff words ("turns out", "that's when", "finally") in the last two sentences
+ 0.2 build (the last third is 3+ dB livelier against the baseline than the first third)
+ 0.3 reaction payoff (laughter, applause or cheering answering the window's end; from the energy features).
"""

from __future__ import annotations

import itertools

import numpy as np

from clipped.select.baseline import prefix_sums
from clipped.select.lexicon import PAYOFF_BIGRAMS, PAYOFF_WORDS, STORY_OPENERS
from clipped.select.text_scores import TextFeatures

ARC_PARTS = {"setup": 0.3, "payoff": 0.2, "build": 0.2, "reaction": 0.3}
BUILD_FULL_DB = 3.0
EDGE_SENTENCES = 2


def story_flags(text: TextFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence: whether it opens a story, whether it carries a payoff phrase (prefix-summed)."""
    setup = np.zeros(len(text.sentences))
    payoff = np.zeros(len(text.sentences))
    for index, sentence in enumerate(text.sentences):
        tokens = [token for token in text.tokens[sentence.word_start : sentence.word_end] if token]
        pairs = set(itertools.pairwise(tokens))
        setup[index] = bool(pairs & STORY_OPENERS)
        payoff[index] = bool(pairs & PAYOFF_BIGRAMS) or any(token in PAYOFF_WORDS for token in tokens)
    return prefix_sums(setup), prefix_sums(payoff)


def arc_scores(
    flags: tuple[np.ndarray, np.ndarray],
    first: np.ndarray,
    last: np.ndarray,
    build_db: np.ndarray,
    reaction: np.ndarray,
) -> dict[str, np.ndarray]:
    """``arc`` (0..1) and its parts for windows of sentences ``first..last``; ``build_db`` is the lift of the
    window's last third over its first, ``reaction`` the energy features' reaction credit."""
    setup_prefix, payoff_prefix = flags
    setup_end = np.minimum(first + EDGE_SENTENCES, last + 1)
    payoff_start = np.maximum(last + 1 - EDGE_SENTENCES, first)
    setup = (setup_prefix[setup_end] - setup_prefix[first] > 0).astype(np.float64)
    payoff = (payoff_prefix[last + 1] - payoff_prefix[payoff_start] > 0).astype(np.float64)
    build = np.clip(build_db / BUILD_FULL_DB, 0.0, 1.0)
    arc = (
        ARC_PARTS["setup"] * setup
        + ARC_PARTS["payoff"] * payoff
        + ARC_PARTS["build"] * build
        + ARC_PARTS["reaction"] * reaction
    )
    return {"arc": np.clip(arc, 0.0, 1.0), "setup": setup, "payoff": payoff, "build": build}
