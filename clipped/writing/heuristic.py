"""The offline writer: hooks from the heuristic titles, topical hashtags, a caption per platform, clean openings."""

from __future__ import annotations

from clipped.types import Candidate, ClipSettings, ClipWriting
from clipped.writing.gates import clean_opening, hook_from_title
from clipped.writing.hashtags import topical_hashtags

HEURISTIC = "heuristic"


def write_heuristically(candidates: list[Candidate]) -> list[Candidate]:
    """``candidates`` in the same order, each with a hook, topical hashtags and captions within platform limits."""
    return [candidate.model_copy(update={"writing": heuristic_writing(candidate)}) for candidate in candidates]


def heuristic_writing(candidate: Candidate) -> ClipWriting:
    # No caption text: a post is then the title and the hashtags (what an editor writes comes first).
    return ClipWriting(
        hook=hook_from_title(candidate.title, candidate.text),
        hashtags=topical_hashtags(candidate.text),
        written_by=HEURISTIC,
    )


def with_clean_openings(candidates: list[Candidate], settings: ClipSettings) -> tuple[list[Candidate], int]:
    """Seed 002's gate: no profanity in a clip's first 3 s. A window that opens with it starts at the next clean
    word boundary (still an ASR word start) or, if that leaves it too short, is dropped; when every window would
    go, they are kept as they were (a source that swears throughout still gets its clips). Returns the windows
    and how many were changed or dropped."""
    cleaned: list[Candidate] = []
    changed = 0
    for candidate in candidates:
        kept = clean_opening(candidate, settings.min_duration_s)
        if kept is candidate:
            cleaned.append(candidate)
            continue
        changed += 1
        if kept is not None:
            cleaned.append(kept.model_copy(update={"candidate_id": window_id(kept.start_s, kept.end_s)}))
    if not cleaned:
        return candidates, 0
    return cleaned, changed


def window_id(start_s: float, end_s: float) -> str:
    """The candidate id convention of :mod:`clipped.select.candidates` (start and end in milliseconds)."""
    return f"c{round(start_s * 1000)}-{round(end_s * 1000)}"
