"""Variations of one moment: N renders that differ in boundaries, hook text, caption style and layout, and how
different they really are.

Boundaries move only to clean word boundaries (a word that starts a sentence or follows a pause; one that ends a
sentence), never below the minimum duration. Uniqueness between two renders is measured on what a viewer (and a
platform's duplicate detector) sees and hears: the Hamming distance of difference hashes (dHash, 64 bits) of frames
at the same fractions of each clip, and the bit error rate of an audio fingerprint (signs of band-energy
differences over time and frequency, after Haitsma and Kalker), at the best alignment within a few seconds.
Both are 0 for identical clips and about 0.5 for unrelated ones.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from clipped.render.captions_ass import CAPTION_STYLES
from clipped.types import Word

LAYOUT_CYCLE = ("auto", "single")
PAUSE_S = 0.25  # a gap this long before a word makes it a clean place to start
FRAME_FRACTIONS = tuple(i / 10 for i in range(1, 10))
FINGERPRINT_RATE = 8000
FINGERPRINT_FRAME_S = 0.064
FINGERPRINT_BANDS = 17  # 16 bits per frame
FINGERPRINT_OVERLAP = 4  # frames start every quarter frame
MAX_SHIFT_S = 3.0  # variants may start a few seconds apart; align their audio before comparing


@dataclass(frozen=True)
class VariantPlan:
    index: int  # 0 is the moment as ranked
    start_s: float
    end_s: float
    hook: str
    caption_style: str
    layout: str


@dataclass(frozen=True)
class Signature:
    """What uniqueness is measured on: frame hashes at fixed fractions of the clip and an audio fingerprint."""

    frame_hashes: tuple[int, ...]
    audio_bits: np.ndarray  # (frames, 16) booleans


def clean_starts(words: list[Word]) -> list[int]:
    """Indices of words a clip can open on: the first, any after a sentence end or a pause."""
    return [
        i
        for i, word in enumerate(words)
        if i == 0
        or words[i - 1].word.rstrip().endswith((".", "?", "!"))
        or word.start_s - words[i - 1].end_s >= PAUSE_S
    ]


def clean_ends(words: list[Word]) -> list[int]:
    """Indices of words a clip can close on: sentence ends and the last word."""
    return [i for i, word in enumerate(words) if i == len(words) - 1 or word.word.rstrip().endswith((".", "?", "!"))]


def plan_variations(
    words: list[Word],
    start_s: float,
    end_s: float,
    *,
    count: int,
    hooks: list[str],
    caption_style: str,
    min_duration_s: float,
) -> list[VariantPlan]:
    """``count`` variants of the moment ``[start_s, end_s]``: variant 0 as ranked, the others with other clean
    boundaries inside it (the tightest last), the next hook of ``hooks``, the next caption style and layout."""
    inside = [w for w in words if w.start_s >= start_s - 1e-6 and w.end_s <= end_s + 1e-6]
    windows = [(start_s, end_s)]
    if inside:
        spans = {
            (inside[a].start_s, inside[b].end_s)
            for a, b in itertools.product(clean_starts(inside), clean_ends(inside))
            if inside[b].end_s - inside[a].start_s >= min_duration_s
        }
        # Most different first: the further a window is from the ranked one, the more a variant differs.
        windows += sorted(spans - {(start_s, end_s)}, key=lambda s: -(abs(s[0] - start_s) + abs(s[1] - end_s)))
    hook_options = [hook for hook in hooks if hook.strip()] or [""]
    first_style = CAPTION_STYLES.index(caption_style) if caption_style in CAPTION_STYLES else 0
    return [
        VariantPlan(
            index=i,
            start_s=windows[i % len(windows)][0],
            end_s=windows[i % len(windows)][1],
            hook=hook_options[i % len(hook_options)],
            caption_style=CAPTION_STYLES[(first_style + i) % len(CAPTION_STYLES)],
            layout=LAYOUT_CYCLE[i % len(LAYOUT_CYCLE)],
        )
        for i in range(count)
    ]


def dhash(gray: np.ndarray) -> int:
    """64-bit difference hash of a 8x9 greyscale image: is each pixel brighter than its right neighbour."""
    bits = (gray[:, 1:] > gray[:, :-1]).flatten()
    return int("".join("1" if bit else "0" for bit in bits), 2)


def audio_bits(samples: np.ndarray, rate: int = FINGERPRINT_RATE) -> np.ndarray:
    """Fingerprint of mono ``samples``: per frame, the signs of energy differences across neighbouring bands and
    successive frames (log-spaced bands, 300–3000 Hz)."""
    size = int(FINGERPRINT_FRAME_S * rate)
    hop = size // FINGERPRINT_OVERLAP  # overlapping frames: two copies cut at different instants still line up
    frames = (len(samples) - size) // hop + 1 if len(samples) >= size else 0
    if frames < 2:
        return np.zeros((0, FINGERPRINT_BANDS - 1), dtype=bool)
    windows = np.lib.stride_tricks.sliding_window_view(samples, size)[::hop][:frames]
    spectrum = np.abs(np.fft.rfft(windows * np.hanning(size), axis=1)) ** 2
    edges = np.geomspace(300, 3000, FINGERPRINT_BANDS + 1) * size / rate
    bands = np.stack(
        [spectrum[:, int(lo) : max(int(lo) + 1, int(hi))].sum(axis=1) for lo, hi in itertools.pairwise(edges)], axis=1
    )
    across = bands[:, :-1] - bands[:, 1:]
    return (across[1:] - across[:-1]) > 0


def audio_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Lowest bit error rate of ``a`` against ``b`` over shifts up to :data:`MAX_SHIFT_S` (0.5 when either is
    silent or too short to compare)."""
    max_shift = int(MAX_SHIFT_S / FINGERPRINT_FRAME_S * FINGERPRINT_OVERLAP)
    best = 0.5
    for shift in range(-max_shift, max_shift + 1):
        x, y = (a[shift:], b) if shift >= 0 else (a, b[-shift:])
        overlap = min(len(x), len(y))
        if overlap >= 16:
            best = min(best, float(np.mean(x[:overlap] != y[:overlap])))
    return best


def frame_distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    pairs = list(zip(a, b, strict=False))
    if not pairs:
        return 0.5
    return sum(bin(x ^ y).count("1") for x, y in pairs) / (64 * len(pairs))


def uniqueness(a: Signature, b: Signature) -> dict[str, float]:
    """How different two renders are (0 identical, ~0.5 unrelated): frames, audio, and their mean."""
    frames = frame_distance(a.frame_hashes, b.frame_hashes)
    audio = audio_distance(a.audio_bits, b.audio_bits)
    return {"frames": round(frames, 3), "audio": round(audio, 3), "overall": round((frames + audio) / 2, 3)}


def least_unique(signatures: list[Signature]) -> list[dict[str, float]]:
    """For each variant, its uniqueness against the most similar other variant (what a duplicate check sees)."""
    report = []
    for i, own in enumerate(signatures):
        others = [uniqueness(own, other) for j, other in enumerate(signatures) if j != i]
        report.append(
            min(others, key=lambda u: u["overall"]) if others else {"frames": 0.5, "audio": 0.5, "overall": 0.5}
        )
    return report


def signature(video: Path) -> Signature:
    """Frame hashes and audio fingerprint of a rendered clip."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
        targets = [fraction * duration for fraction in FRAME_FRACTIONS]
        hashes = []
        for frame in container.decode(stream):
            if targets and frame.time is not None and frame.time >= targets[0]:
                hashes.append(dhash(frame.reformat(width=9, height=8, format="gray").to_ndarray()[:, :9]))
                targets.pop(0)
    samples = _mono_samples(video)
    return Signature(tuple(hashes), audio_bits(samples))


def _mono_samples(video: Path) -> np.ndarray:
    with av.open(str(video)) as container:
        if not container.streams.audio:
            return np.zeros(0, dtype=np.float32)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=FINGERPRINT_RATE)
        chunks = [
            out.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for out in resampler.resample(frame)
        ]
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
