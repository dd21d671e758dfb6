"""What sentences mean, as unit vectors: semantic novelty of a window, topic shifts between sentences and
near-duplicate windows.

Any embedder with ``embed(texts) -> (n, d)`` L2-normalised rows will do (:class:`SentenceEmbedder`); the
pipeline passes the offline MiniLM of :mod:`clipped.understand.sentence_embedding`. Without one, a hashed
bag of content words stands in, so selection never needs a model to run (it sees shared words, not meaning).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from clipped.select.baseline import prefix_sums
from clipped.select.lexicon import STOPWORDS, normalize
from clipped.types import Sentence

NOVELTY_LOOKBACK = 400
"""Sentences before this many back are not compared (a four-hour source stays linear in sentences)."""
NOVELTY_SKIP = 3
"""The sentences right before one are its own context, not an earlier telling of it."""
NOVEL_BELOW, REPEAT_ABOVE = 0.35, 0.8
"""Best similarity to anything said before: below the first it is new (1), above the second a repeat (0)."""
TOPIC_CONTEXT = 3
"""Sentences on each side whose mean vectors are compared for a topic shift."""
LEXICAL_DIMENSIONS = 512


class SentenceEmbedder(Protocol):
    """What selection needs of a sentence embedding model."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


class LexicalEmbedder:
    """Hashed bag of content words (length >= 3, not stop words, trailing "s" dropped), L2-normalised."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), LEXICAL_DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in (normalize(raw) for raw in text.split()):
                if len(token) >= 3 and token not in STOPWORDS and any(char.isalpha() for char in token):
                    stem = token[:-1] if token.endswith("s") and len(token) > 3 else token
                    vectors[row, zlib.crc32(stem.encode()) % LEXICAL_DIMENSIONS] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)


@dataclass(frozen=True)
class SemanticFeatures:
    """Sentence vectors and what follows from them, per sentence and per boundary between sentences."""

    vectors: np.ndarray  # (sentences, d), unit rows (zero rows for empty text)
    novelty: np.ndarray  # per sentence, 0 (said before) .. 1 (new)
    novelty_prefix: np.ndarray
    topic_similarity: np.ndarray  # per boundary i (between sentence i and i + 1)
    typical_similarity: float  # median of topic_similarity: how connected this source's talk usually is


def semantic_features(sentences: Sequence[Sentence], embedder: SentenceEmbedder) -> SemanticFeatures:
    """Embed every sentence once and derive novelty and topic similarity from the vectors."""
    count = len(sentences)
    vectors = np.asarray(embedder.embed([sentence.text for sentence in sentences]), dtype=np.float32)
    vectors = vectors.reshape(count, -1) if count else np.zeros((0, 1), dtype=np.float32)
    novelty = _novelty(vectors)
    topic = _topic_similarity(vectors)
    return SemanticFeatures(
        vectors=vectors,
        novelty=novelty,
        novelty_prefix=prefix_sums(novelty),
        topic_similarity=topic,
        typical_similarity=float(np.median(topic)) if len(topic) else 1.0,
    )


def window_novelty(features: SemanticFeatures, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Mean novelty of the sentences ``first..last`` (inclusive) of each window."""
    return (features.novelty_prefix[last + 1] - features.novelty_prefix[first]) / np.maximum(last + 1 - first, 1)


def window_vector(features: SemanticFeatures, first: int, last: int) -> np.ndarray:
    """A window's meaning: the normalised mean of its sentence vectors."""
    mean = features.vectors[first : last + 1].mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


def _novelty(vectors: np.ndarray) -> np.ndarray:
    count = len(vectors)
    novelty = np.ones(count)
    for index in range(NOVELTY_SKIP, count):
        earlier = vectors[max(0, index - NOVELTY_LOOKBACK) : index - NOVELTY_SKIP + 1]
        if len(earlier) and vectors[index].any():
            best = float((earlier @ vectors[index]).max())
            novelty[index] = np.clip((REPEAT_ABOVE - best) / (REPEAT_ABOVE - NOVEL_BELOW), 0.0, 1.0)
    return novelty


def _topic_similarity(vectors: np.ndarray) -> np.ndarray:
    count = len(vectors)
    if count < 2:
        return np.zeros(0)
    prefix = np.concatenate((np.zeros((1, vectors.shape[1])), np.cumsum(vectors, axis=0)))
    boundary = np.arange(count - 1)
    before = prefix[boundary + 1] - prefix[np.maximum(boundary + 1 - TOPIC_CONTEXT, 0)]
    after = prefix[np.minimum(boundary + 1 + TOPIC_CONTEXT, count)] - prefix[boundary + 1]
    norms = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
    return np.where(norms > 0, (before * after).sum(axis=1) / np.maximum(norms, 1e-9), 0.0)
