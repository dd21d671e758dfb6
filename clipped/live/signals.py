"""The per-segment signals of live detection, each measured against the stream's own running baseline.

A stream has no "normal" loudness or chat rate known in advance, so nothing here is a raw threshold: levels are
turned into z-scores against an exponentially weighted mean and variance (:class:`Ewma`) that follows the stream.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
from pydantic import BaseModel

from clipped.live.models import LiveEvent
from clipped.select.lexicon import words
from clipped.types import Word

SILENT_DB = -55.0  # hops below this are silence: they neither trigger nor teach the baseline
MIN_STD_DB = 3.0  # a very steady stream must still be this far above its mean to count as loud
WARMUP_S = 10.0  # the baseline needs this much audio before a z-score means anything
WINSOR_Z = 2.0  # a hop teaches the baseline no more than a hop this far from it would
CHAT_MIN_STD = 0.5  # messages per second


class Ewma(BaseModel):
    """Exponentially weighted mean and variance with a half-life in seconds of signal (serialisable state)."""

    mean: float = 0.0
    var: float = 0.0
    seen_s: float = 0.0

    def z(self, value: float, min_std: float) -> float | None:
        """How many deviations ``value`` lies above the mean; None while the baseline is warming up."""
        if self.seen_s < WARMUP_S:
            return None
        return (value - self.mean) / max(math.sqrt(self.var), min_std)

    def update(
        self, value: float, step_s: float, halflife_s: float, clip_z: float | None = None, min_std: float = MIN_STD_DB
    ) -> None:
        """Learn ``value`` (covering ``step_s`` seconds); with ``clip_z``, outliers either way are pulled in to that
        many deviations first, so one shout or one dip does not teach the baseline that the stream is erratic."""
        if self.seen_s == 0.0:
            self.mean, self.var, self.seen_s = value, 0.0, step_s
            return
        if clip_z is not None:
            reach = clip_z * max(math.sqrt(self.var), min_std)
            value = min(max(value, self.mean - reach), self.mean + reach)
        alpha = 1.0 - 0.5 ** (step_s / halflife_s)
        delta = value - self.mean
        self.mean += alpha * delta
        self.var = (1.0 - alpha) * (self.var + alpha * delta * delta)
        self.seen_s += step_s


def hop_levels_db(samples: np.ndarray, rate: int, hop_s: float) -> list[float]:
    """RMS level (dBFS) of each ``hop_s`` of mono ``samples``; a last partial hop counts if at least half full."""
    hop = max(1, round(hop_s * rate))
    count = len(samples) // hop + (1 if len(samples) % hop >= hop // 2 else 0)
    levels = []
    for index in range(count):
        chunk = samples[index * hop : (index + 1) * hop].astype(np.float64)
        power = float(np.mean(chunk * chunk)) if len(chunk) else 0.0
        levels.append(round(10 * math.log10(power), 2) if power > 1e-12 else -120.0)
    return levels


def energy_events(
    levels_db: Sequence[float],
    start_s: float,
    hop_s: float,
    baseline: Ewma,
    *,
    z_threshold: float,
    halflife_s: float,
) -> tuple[list[float], list[LiveEvent]]:
    """Z-scores of each hop against ``baseline`` (updated in place, hop by hop) and one ``loud_moment`` event per
    run of loud hops, at its loudest hop. Strength rises from 1/3 at ``z_threshold`` to 1 at two deviations more.
    """
    scores: list[float] = []
    events: list[LiveEvent] = []
    run: list[tuple[float, float, float]] = []  # (time, z, level) of consecutive loud hops

    def close_run() -> None:
        if run:
            at, z, level = max(run, key=lambda item: item[1])
            strength = min(1.0, (z - z_threshold + 1.0) / 3.0)
            events.append(LiveEvent(kind="loud_moment", at_s=round(at, 3), strength=round(strength, 3),
                                    detail=f"{level:.0f} dBFS, z {z:.1f}"))  # fmt: skip
            run.clear()

    for index, level in enumerate(levels_db):
        at = start_s + index * hop_s
        z = baseline.z(level, MIN_STD_DB) if level > SILENT_DB else None
        scores.append(round(z, 2) if z is not None else 0.0)
        if z is not None and z >= z_threshold:
            run.append((at, z, level))
        else:
            close_run()
        if level > SILENT_DB:
            baseline.update(level, hop_s, halflife_s, clip_z=WINSOR_Z)
    close_run()
    return scores, events


_TOKEN = re.compile(r"[a-z0-9']+")


def tokens(text: str) -> list[str]:
    """Lowercase word tokens (apostrophes kept: "let's")."""
    return _TOKEN.findall(text.lower().replace("’", "'"))


def keyword_events(
    words: Sequence[Word], keywords: Iterable[str], weights: dict[str, float], context: Sequence[Word] = ()
) -> list[LiveEvent]:
    """A ``keyword_trigger`` for each keyword or phrase spoken in ``words`` (a phrase may begin in ``context``,
    the words just before); the event is at the keyword's first word, its strength the keyword's weight."""
    stream = [(token, word) for word in [*context, *words] for token in tokens(word.word)]
    new_from = sum(len(tokens(word.word)) for word in context)
    events: list[LiveEvent] = []
    for keyword in keywords:
        phrase = tokens(keyword)
        if not phrase:
            continue
        for index in range(len(stream) - len(phrase) + 1):
            end_index = index + len(phrase) - 1
            if end_index < new_from:  # entirely in the context: reported with its own segment
                continue
            if [token for token, _ in stream[index : end_index + 1]] == phrase:
                first = stream[index][1]
                events.append(LiveEvent(kind="keyword_trigger", at_s=round(first.start_s, 3),
                                        strength=min(1.0, weights.get(keyword, 1.0)), keyword=keyword,
                                        detail=f"said {keyword!r}"))  # fmt: skip
    return events


POSITIVE = words(
    "amazing awesome incredible insane unbelievable love loved beautiful yes yeah wow great perfect best "
    "hilarious haha lol omg epic legendary huge massive crazy wild sick fantastic brilliant"
)
NEGATIVE = words(
    "no nope terrible awful horrible hate worst damn dammit ugh ouch oh disaster fail failed broke broken "
    "wrong scary angry furious nightmare ridiculous"
)


def emotion_intensity(words: Sequence[Word]) -> float:
    """Share of emotive words (either sign) plus exclamation marks, 0..1: a cheap lexical arousal measure."""
    toks = [token for word in words for token in tokens(word.word)]
    if not toks:
        return 0.0
    emotive = sum(token in POSITIVE or token in NEGATIVE for token in toks)
    exclaims = sum(word.word.count("!") for word in words)
    return min(1.0, (emotive + exclaims) / len(toks) * 2.0)


def sentiment_event(
    words: Sequence[Word], baseline: Ewma, step_s: float, halflife_s: float, *, min_delta: float = 0.25
) -> tuple[float, LiveEvent | None]:
    """How far this segment's emotive intensity rises above the stream's usual (the seed's sentiment delta),
    and an ``emotional_moment`` event when it rises by ``min_delta`` or more."""
    intensity = emotion_intensity(words)
    delta = max(0.0, intensity - baseline.mean) if baseline.seen_s else intensity
    baseline.update(intensity, step_s, halflife_s)
    if not words or delta < min_delta:
        return round(delta, 3), None
    event = LiveEvent(kind="emotional_moment", at_s=round(words[0].start_s, 3), strength=round(min(1.0, delta), 3),
                      detail=f"emotive speech (+{delta:.2f})")  # fmt: skip
    return round(delta, 3), event


def chat_event(
    messages: int, start_s: float, duration_s: float, baseline: Ewma, *, z_threshold: float, halflife_s: float
) -> LiveEvent | None:
    """A ``crowd_reaction`` when chat's messages per second in this segment jump above its running rate."""
    if duration_s <= 0:
        return None
    rate = messages / duration_s
    z = baseline.z(rate, CHAT_MIN_STD)
    baseline.update(rate, duration_s, halflife_s, clip_z=WINSOR_Z, min_std=CHAT_MIN_STD)
    if z is None or z < z_threshold:
        return None
    strength = min(1.0, (z - z_threshold + 1.0) / 3.0)
    return LiveEvent(kind="crowd_reaction", at_s=round(start_s, 3), strength=round(strength, 3),
                     detail=f"chat {rate:.1f} msg/s, z {z:.1f}")  # fmt: skip
