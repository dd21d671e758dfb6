"""The ranker role: how a source's candidates are ranked and written, and how its summary is made.

``HeuristicRanker`` (the default, offline, no key) keeps the selector's order and writes hooks, hashtags and captions
from the clip's words. ``ClaudeRanker`` asks Claude to re-rank and write them, falling back to the heuristic for a
source whenever Claude is unavailable or its answer does not pass the guard. The API key is never config: the
resource names the environment variable that holds it (Dagster shows resource config in its UI).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dagster import ConfigurableResource
from pydantic import Field

from clipped.types import Candidate, ClipSettings, Transcript
from clipped.understand.summary import SourceSummary, summarize_source
from clipped.writing.claude_client import DEFAULT_MODEL
from clipped.writing.ranking import ClaudeOptions, RankingReport, rank_and_write

if TYPE_CHECKING:
    import anthropic


class RankerResource(ConfigurableResource):
    """Ranks and writes a source's candidates (:meth:`rank`) and summarizes the source (:meth:`summarize`)."""

    def rank(self, candidates: list[Candidate], settings: ClipSettings) -> tuple[list[Candidate], RankingReport]:
        return rank_and_write(candidates, settings)

    def summarize(self, transcript: Transcript) -> SourceSummary:
        return summarize_source(transcript)

    def fingerprint(self) -> dict[str, object]:
        """What changes the output (joins the stage fingerprints, so switching ranker or model re-ranks)."""
        return {"ranker": "heuristic"}


class HeuristicRanker(RankerResource):
    """The selector's ranking with heuristic writing; the extractive summary."""


class ClaudeRanker(RankerResource):
    api_key_env: str = Field(default="ANTHROPIC_API_KEY", description="Environment variable holding the API key")
    model: str = Field(default=DEFAULT_MODEL, description="Messages API model id")
    base_url: str = Field(default="", description="Messages API base URL (empty: Anthropic's; tests: a local fake)")
    timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout")
    max_retries: int = Field(default=2, ge=0, le=5, description="Retries on 408/409/429/5xx and timeouts, backoff")
    top_n: int = Field(default=15, ge=1, le=60, description="How many of the heuristic's best windows Claude sees")
    batch_size: int = Field(default=8, ge=1, le=30, description="Candidates per call")

    def rank(self, candidates: list[Candidate], settings: ClipSettings) -> tuple[list[Candidate], RankingReport]:
        options = ClaudeOptions(model=self.model, top_n=self.top_n, batch_size=self.batch_size)
        client = self._client()
        return rank_and_write(
            candidates,
            settings,
            claude=options,
            messages=client.messages if client else None,
            unavailable=None if client else f"no API key in ${self.api_key_env}",
        )

    def summarize(self, transcript: Transcript) -> SourceSummary:
        client = self._client()
        if client is None:
            return summarize_source(transcript, unavailable=f"no API key in ${self.api_key_env}")
        return summarize_source(transcript, messages=client.messages, model=self.model)

    def fingerprint(self) -> dict[str, object]:
        return {"ranker": "claude", "model": self.model, "top_n": self.top_n, "batch_size": self.batch_size}

    def _client(self) -> anthropic.Anthropic | None:
        api_key = os.environ.get(self.api_key_env, "").strip() if self.api_key_env else ""
        if not api_key:
            return None
        import anthropic  # on first use: the SDK costs seconds at every code-location load

        return anthropic.Anthropic(
            api_key=api_key,
            base_url=self.base_url or None,
            timeout=self.timeout_s,
            max_retries=self.max_retries,
        )
