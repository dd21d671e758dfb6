"""Seed 002's quality gates for a clip: a hook on every clip, no profanity in the first 3 s, captions within each
platform's limits."""

from __future__ import annotations

from collections.abc import Sequence

from clipped.publish.metadata import LIMITS, compose_post_text
from clipped.publish.models import PLATFORMS, Platform
from clipped.select.lexicon import FILLERS, normalize, words
from clipped.types import Candidate, Word

OPENING_S = 3.0
HOOK_MIN_WORDS = 3
HOOK_MAX_WORDS = 6
HOOK_MAX_CHARS = 48

# Strong words that platforms' "first seconds" reviews and advertisers flag; a short list on purpose: the gate is
# about the opening of a clip, not about muting a whole talk.
PROFANITY = frozenset(
    {
        "fuck", "fucking", "fucked", "fucker", "motherfucker", "shit", "shitty", "bullshit", "bitch", "bastard",
        "asshole", "dick", "cunt", "damn", "goddamn", "piss", "pissed", "crap", "slut", "whore", "wanker",
    }
)  # fmt: skip


_DANGLING = words("a an the and but or of to in on at by for with as from that than into is are was")


def is_profane(token: str) -> bool:
    return normalize(token).replace("'", "") in PROFANITY


def profane_opening_word(words: Sequence[Word], start_s: float, *, seconds: float = OPENING_S) -> Word | None:
    """The last profane word spoken within ``seconds`` of ``start_s``, if any."""
    found = None
    for word in words:
        if word.start_s >= start_s + seconds:
            break
        if word.end_s > start_s and is_profane(word.word):
            found = word
    return found


def clean_opening(candidate: Candidate, min_duration_s: float) -> Candidate | None:
    """``candidate`` unchanged when its first 3 s are clean; else started at the first word boundary after which
    they are (times stay ASR word starts inside the window); ``None`` when that leaves less than the minimum."""
    words = candidate.words
    start_index = 0
    while start_index < len(words):
        bad = profane_opening_word(words[start_index:], words[start_index].start_s)
        if bad is None:
            break
        start_index = next(i for i in range(start_index, len(words)) if words[i] is bad) + 1
    if start_index == 0:
        return candidate
    if start_index >= len(words) or candidate.end_s - words[start_index].start_s < min_duration_s:
        return None
    kept = words[start_index:]
    return candidate.model_copy(
        update={"start_s": kept[0].start_s, "words": kept, "text": " ".join(w.word.strip() for w in kept)}
    )


def valid_hook(hook: str) -> bool:
    """3–6 words, short enough for one overlay line pair, and clean."""
    tokens = hook.split()
    return (
        HOOK_MIN_WORDS <= len(tokens) <= HOOK_MAX_WORDS
        and len(hook) <= HOOK_MAX_CHARS
        and not any(is_profane(token) for token in tokens)
    )


def hook_from_title(title: str, text: str) -> str:
    """A 3–6 word overlay from a heuristic title (or the clip's opening words when the title is too short)."""
    tokens = [t for t in title.split() if normalize(t) not in FILLERS] or title.split()
    if len(tokens) < HOOK_MIN_WORDS:
        tokens = [t for t in text.split() if not is_profane(t)][:HOOK_MAX_WORDS]
    tokens = [t for t in tokens if not is_profane(t)][:HOOK_MAX_WORDS]
    while tokens and len(" ".join(tokens)) > HOOK_MAX_CHARS:
        tokens.pop()
    while len(tokens) > HOOK_MIN_WORDS and tokens[-1].lower() in _DANGLING:
        tokens.pop()  # "The Meeting Ran Late Again on" reads cut off
    hook = " ".join(tokens).rstrip(",;:-–— ")
    return hook if len(hook.split()) >= HOOK_MIN_WORDS else ""


def fitted_captions(title: str, bodies: dict[str, str], hashtags: list[str]) -> dict[str, str]:
    """Each platform's caption text (without hashtags: they are added when posting) cut at a word boundary so that
    :func:`clipped.publish.metadata.compose_post_text` fits title, caption and hashtags whole within the limits."""
    fitted = {}
    for platform in PLATFORMS:
        tokens = bodies.get(platform, "").split()
        while tokens and not caption_fits(platform, title, " ".join(tokens), hashtags):
            tokens.pop()
        if tokens:
            fitted[platform] = " ".join(tokens).rstrip(",;:-–— ")
    return fitted


def caption_fits(platform: Platform, title: str, body: str, hashtags: list[str]) -> bool:
    """Whether the post made of ``title``, ``body`` and ``hashtags`` keeps all of them whole within the limits."""
    post = compose_post_text(platform, title, body, hashtags)
    return body in post.caption and len(post.caption) <= LIMITS[platform].caption_max
