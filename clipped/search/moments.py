"""Indexing one source for moment search: its sentences and on-screen text, embedded, with a thumbnail each.

Rows are what a person would search for: one per transcript sentence (what was said) and one per sampled frame
with legible text (what was shown). Each row points at the nearest sampled thumbnail, so a result has a picture
without a frame grab per sentence.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from clipped.layout import SourceRef
from clipped.progress import ProgressCallback, no_progress
from clipped.search.frames import (
    OCR_WIDTH,
    THUMBNAIL_WIDTH,
    FrameReader,
    ScreenText,
    nearest,
    ocr_times,
    thumbnail_times,
)
from clipped.search.moment_store import MomentRow, MomentStore
from clipped.select.sentences import split_sentences
from clipped.storage import Storage
from clipped.types import Sentence, Transcript

MOMENTS_FOLDER = "moments"
SCREEN_MOMENT_S = 5.0  # how long a moment found on screen lasts (the frame is its middle's best guess)


class TextEmbedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class MomentText:
    """A moment before it is embedded: what it says, when, and the words around it."""

    kind: str
    start_s: float
    end_s: float
    text: str
    context: str


@dataclass(frozen=True)
class IndexSummary:
    """What indexing one source did: a reviewer reads it in the asset's metadata."""

    speech_rows: int
    screen_rows: int
    thumbnails: int
    ocr_frames: int
    thumbnail_keys: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict[str, object]:
        return {
            "rows": self.speech_rows + self.screen_rows,
            "speech_rows": self.speech_rows,
            "screen_rows": self.screen_rows,
            "thumbnails": self.thumbnails,
            "ocr_frames": self.ocr_frames,
            "samples": self.samples,
        }


def thumbnail_key(source: SourceRef, index: int) -> str:
    return source.key(f"{MOMENTS_FOLDER}/thumb_{index:04d}.jpg")


def speech_moments(sentences: Sequence[Sentence]) -> list[MomentText]:
    """One moment per non-empty sentence; its context is the sentence before, itself and the one after."""
    moments = []
    for index, sentence in enumerate(sentences):
        text = " ".join(sentence.text.split())
        if not text:
            continue
        around = sentences[max(0, index - 1) : index + 2]
        context = " ".join(" ".join(s.text.split()) for s in around)
        moments.append(MomentText("speech", sentence.start_s, sentence.end_s, text, context))
    return moments


def screen_moments(texts: Sequence[ScreenText], duration_s: float) -> list[MomentText]:
    """One moment per frame whose OCR found words (at least two characters of them)."""
    moments = []
    for found in texts:
        text = " ".join(found.text.split())
        if sum(ch.isalnum() for ch in text) < 2:
            continue
        end_s = min(duration_s, found.at_s + SCREEN_MOMENT_S / 2)
        moments.append(
            MomentText("screen", max(0.0, found.at_s - SCREEN_MOMENT_S / 2), end_s, text, f"On screen: {text}")
        )
    return moments


def moment_rows(
    source: SourceRef,
    moments: Sequence[MomentText],
    thumbnails: Sequence[tuple[float, str]],
    embedder: TextEmbedder,
) -> list[MomentRow]:
    """Embed ``moments`` and tag them with ``source`` and the thumbnail (time, key) nearest their middle."""
    if not moments:
        return []
    vectors = embedder.embed([moment.text for moment in moments])
    times = [at for at, _ in thumbnails]
    rows = []
    counters: dict[str, int] = {}
    for moment, vector in zip(moments, vectors, strict=True):
        number = counters[moment.kind] = counters.get(moment.kind, -1) + 1
        middle = (moment.start_s + moment.end_s) / 2
        rows.append(
            MomentRow(
                id=f"{source.partition_key}/{moment.kind}/{number}",
                source=source.partition_key,
                kind=moment.kind,
                start_s=round(moment.start_s, 3),
                end_s=round(moment.end_s, 3),
                text=moment.text,
                context=moment.context,
                thumbnail_key=thumbnails[nearest(times, middle)][1] if thumbnails else "",
                vector=vector,
            )
        )
    return rows


def index_source(
    storage: Storage,
    source: SourceRef,
    video: Path,
    transcript: Transcript,
    embedder: TextEmbedder,
    store: MomentStore,
    *,
    read_screen: Callable[[Path], str] | None,
    ocr_frames: int,
    on_progress: ProgressCallback = no_progress,
) -> IndexSummary:
    """Write the source's thumbnails to storage and replace its rows in the workspace's moment table.

    ``read_screen`` is the OCR (None: on-screen text is skipped). Thumbnails are written before the rows that point
    at them; the rows replace the source's old ones in one commit.
    """
    duration_s = transcript.duration_s
    times = thumbnail_times(duration_s)
    screen_at = ocr_times(duration_s, ocr_frames) if read_screen is not None else []
    steps = max(1, len(times) + len(screen_at))
    thumbnails: list[tuple[float, str]] = []
    screen_texts: list[ScreenText] = []
    with tempfile.TemporaryDirectory(prefix="clipped-moments-") as scratch, FrameReader(video) as frames:
        for index, at_s in enumerate(times):
            key = thumbnail_key(source, index)
            with storage.writer(key) as out:
                frames.write(at_s, out, THUMBNAIL_WIDTH)
            thumbnails.append((at_s, key))
            on_progress(0.6 * (index + 1) / steps)
        for index, at_s in enumerate(screen_at):
            frame = frames.write(at_s, Path(scratch) / f"ocr_{index}.jpg", OCR_WIDTH)
            screen_texts.append(ScreenText(at_s, read_screen(frame)))
            on_progress(0.6 * (len(times) + index + 1) / steps)
    speech = speech_moments(split_sentences(transcript.words))
    screen = screen_moments(screen_texts, duration_s)
    rows = moment_rows(source, [*speech, *screen], thumbnails, embedder)
    on_progress(0.9)
    store.replace_source(source.workspace_id, source.partition_key, rows)
    on_progress(1.0)
    return IndexSummary(
        speech_rows=len(speech),
        screen_rows=len(screen),
        thumbnails=len(thumbnails),
        ocr_frames=len(screen_at),
        thumbnail_keys=[key for _, key in thumbnails],
        samples=[moment.text for moment in screen[:5]],
    )
