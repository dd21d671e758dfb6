"""Ranking and writing a source's candidates: the heuristic always, Claude on top when configured, and a report
of what was used, what it cost and why it fell back."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from clipped.types import Candidate, ClipSettings
from clipped.writing.claude_client import DEFAULT_MODEL, ClaudeFailed, MessagesApi, Usage
from clipped.writing.claude_ranking import rank_with_claude
from clipped.writing.heuristic import HEURISTIC, with_clean_openings, write_heuristically


@dataclass(frozen=True)
class ClaudeOptions:
    model: str = DEFAULT_MODEL
    top_n: int = 15  # how many of the heuristic's best windows Claude sees
    batch_size: int = 8  # candidates per call


class RankingReport(BaseModel):
    """What ranked and wrote a source's candidates; stored beside them and shown as the asset's metadata."""

    ranker: str  # the configured one: "heuristic" or "claude"
    used: str  # what the stored ranking came from
    model: str | None = None
    fallback_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    held_in_place: list[str] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    openings_cleaned: int = 0


def rank_and_write(
    candidates: list[Candidate],
    settings: ClipSettings,
    *,
    claude: ClaudeOptions | None = None,
    messages: MessagesApi | None = None,
    unavailable: str | None = None,
) -> tuple[list[Candidate], RankingReport]:
    """``candidates`` (heuristic order) written and, with ``claude`` and ``messages``, re-ranked by Claude.

    Never raises for Claude's sake: any failure (``unavailable`` says why it could not even be asked) keeps the
    heuristic ranking and says so in the report. Every clip ends with a hook, hashtags, captions within each
    platform's limits and no profanity in its first 3 s.
    """
    written = write_heuristically(candidates)
    report = RankingReport(ranker="claude" if claude else HEURISTIC, used=HEURISTIC)
    if claude is not None:
        report.model = claude.model
        if messages is None:
            report.fallback_reason = unavailable or "Claude is not configured"
        else:
            usage = report.usage
            try:
                ranked = rank_with_claude(
                    messages,
                    written,
                    settings,
                    model=claude.model,
                    top_n=claude.top_n,
                    batch_size=claude.batch_size,
                    usage=usage,
                )
            except ClaudeFailed as exc:
                report.fallback_reason = str(exc)
            else:
                written, report.used = ranked.candidates, "claude"
                report.held_in_place, report.rejected = ranked.held_in_place, ranked.rejected
    cleaned, report.openings_cleaned = with_clean_openings(written, settings)
    return cleaned, report
