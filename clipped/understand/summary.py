"""A source's summary, key points and chapters: Claude's when it is configured and answers well, else extractive.

The extractive summary needs nothing but the transcript: sentences weighted by TF-IDF, the most central ones (closest
to the whole talk's centroid) become key points and the summary; chapters break where the vocabulary of the
sentences before and after a boundary differs most (TextTiling), so every chapter starts on a sentence start.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from clipped.select.lexicon import normalize
from clipped.select.sentences import split_sentences
from clipped.types import Sentence, Transcript
from clipped.writing.claude_client import ClaudeFailed, MessagesApi, Usage
from clipped.writing.claude_summary import summarize_with_claude
from clipped.writing.hashtags import is_topical

MIN_KEY_POINT_WORDS = 6
SUMMARY_SENTENCES = 3
SECONDS_PER_CHAPTER = 180.0
MIN_CHAPTER_S = 60.0
MAX_CHAPTERS = 12
TILING_WINDOW = 4  # sentences compared on each side of a candidate chapter break
MAX_VOCABULARY = 4000


class Chapter(BaseModel):
    start_s: float  # a sentence start
    end_s: float  # the next chapter's start, or the last word's end
    title: str


class SourceSummary(BaseModel):
    summary: str
    key_points: list[str]
    chapters: list[Chapter]
    method: str  # "claude" or "extractive"
    model: str | None = None
    fallback_reason: str | None = None
    usage: Usage | None = None


def summarize_source(
    transcript: Transcript,
    *,
    messages: MessagesApi | None = None,
    model: str | None = None,
    unavailable: str | None = None,
) -> SourceSummary:
    """Claude's summary with ``messages`` and ``model``, else (or when Claude fails) the extractive one, which says
    why in ``fallback_reason``. A transcript without words gets an empty summary."""
    sentences = split_sentences(transcript.words)
    end_s = transcript.words[-1].end_s if transcript.words else 0.0
    fallback_reason = unavailable
    usage = None
    if messages is not None and model and sentences:
        usage = Usage()
        try:
            plan = summarize_with_claude(messages, sentences, model=model, usage=usage)
        except ClaudeFailed as exc:
            fallback_reason = str(exc)
        else:
            starts = [c.start_s for c in plan.chapters]
            return SourceSummary(
                summary=plan.summary.strip(),
                key_points=[" ".join(point.split()) for point in plan.key_points],
                chapters=[
                    Chapter(start_s=start, end_s=stop, title=c.title)
                    for c, start, stop in zip(plan.chapters, starts, [*starts[1:], end_s], strict=True)
                ],
                method="claude",
                model=model,
                usage=usage,
            )
    summary = extractive_summary(sentences, end_s)
    return summary.model_copy(update={"fallback_reason": fallback_reason, "usage": usage, "model": model})


def extractive_summary(sentences: Sequence[Sentence], end_s: float) -> SourceSummary:
    """Key points and summary from the most central sentences (in the order spoken), chapters by TextTiling."""
    if not sentences:
        return SourceSummary(summary="", key_points=[], chapters=[], method="extractive")
    vectors, vocabulary = tfidf_vectors([s.text for s in sentences])
    centroid = vectors.sum(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    centrality = vectors @ centroid
    long_enough = np.array([len(s.text.split()) >= MIN_KEY_POINT_WORDS for s in sentences])
    order = np.argsort(-(centrality + long_enough))  # long sentences first, then the most central
    count = max(1, min(7, round(len(sentences) / 15)))
    chosen: list[int] = []
    for index in order:
        if len(chosen) == count:
            break
        if all(float(vectors[index] @ vectors[other]) < 0.8 for other in chosen):
            chosen.append(int(index))
    key_points = [sentences[i].text for i in sorted(chosen)]
    by_centrality = sorted(chosen[:SUMMARY_SENTENCES])
    return SourceSummary(
        summary=" ".join(sentences[i].text for i in by_centrality),
        key_points=key_points,
        chapters=chapters_by_tiling(sentences, vectors, vocabulary, end_s),
        method="extractive",
    )


def tfidf_vectors(texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """L2-normalised TF-IDF rows (content words only, the ``MAX_VOCABULARY`` most widespread) and their terms."""
    tokens = [[t for t in (normalize(w) for w in text.split()) if _content(t)] for text in texts]
    frequency = Counter(term for row in tokens for term in set(row))
    vocabulary = [term for term, _ in frequency.most_common(MAX_VOCABULARY)]
    column = {term: k for k, term in enumerate(vocabulary)}
    matrix = np.zeros((len(texts), len(vocabulary)), dtype=np.float32)
    for row, terms in enumerate(tokens):
        for term, count in Counter(terms).items():
            if term in column:
                matrix[row, column[term]] = (1 + math.log(count)) * math.log((1 + len(texts)) / (1 + frequency[term]))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms), vocabulary


def chapters_by_tiling(
    sentences: Sequence[Sentence], vectors: np.ndarray, vocabulary: list[str], end_s: float
) -> list[Chapter]:
    """Chapters of about ``SECONDS_PER_CHAPTER`` (at least ``MIN_CHAPTER_S``) split at the sentence starts where
    the vocabulary before and after differs most; each titled by its most distinctive words."""
    duration = end_s - sentences[0].start_s
    wanted = max(1, min(MAX_CHAPTERS, round(duration / SECONDS_PER_CHAPTER)))
    gaps: list[tuple[float, int]] = []
    for boundary in range(1, len(sentences)):
        before = vectors[max(0, boundary - TILING_WINDOW) : boundary].sum(axis=0)
        after = vectors[boundary : boundary + TILING_WINDOW].sum(axis=0)
        norm = float(np.linalg.norm(before) * np.linalg.norm(after))
        gaps.append((float(before @ after) / norm if norm else 0.0, boundary))
    starts = [0]
    for _similarity, boundary in sorted(gaps):
        if len(starts) == wanted:
            break
        start = sentences[boundary].start_s
        edges = [*(sentences[s].start_s for s in starts), end_s]
        if all(abs(start - edge) >= MIN_CHAPTER_S for edge in edges):
            starts.append(boundary)
    starts.sort()
    stops = [*starts[1:], len(sentences)]
    return [
        Chapter(
            start_s=sentences[first].start_s,
            end_s=sentences[past].start_s if past < len(sentences) else end_s,
            title=_chapter_title(vectors[first:past], vocabulary) or f"Part {number}",
        )
        for number, (first, past) in enumerate(zip(starts, stops, strict=True), start=1)
    ]


def _chapter_title(rows: np.ndarray, vocabulary: list[str]) -> str:
    weights = rows.sum(axis=0)
    top = [vocabulary[k].capitalize() for k in np.argsort(-weights)[:3] if weights[k] > 0]
    if len(top) <= 1:
        return "".join(top)
    return f"{', '.join(top[:-1])} and {top[-1]}"


def _content(term: str) -> bool:
    return len(term) >= 3 and is_topical(term)
