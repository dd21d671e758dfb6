"""Summaries and chapters: extractive offline, Claude's through the fake Messages API, chapters on sentence starts."""

from __future__ import annotations

import numpy as np
import pytest
from dagster import AssetKey, instance_for_test, materialize

from clipped.layout import REQUEST_FILE, SUMMARY_FILE, TRANSCRIPT_FILE, SourceRef
from clipped.learn.simulate import synthetic_talk
from clipped.select.sentences import split_sentences
from clipped.sources import SourceRequest
from clipped.stage_record import StageRecord, save_record
from clipped.types import Transcript
from clipped.understand.summary import SourceSummary, summarize_source
from clipped_assets import summary
from clipped_resources.ranker import ClaudeRanker, HeuristicRanker
from clipped_resources.storage import LocalStorage
from tests.support.fake_anthropic import API_KEY, fake_anthropic_fixture, message, tool_use  # noqa: F401

SOURCE = SourceRef("ws1", "talk-0123456789")


@pytest.fixture(scope="module")
def transcript() -> Transcript:
    return synthetic_talk(np.random.default_rng(5))[0]


def test_extractive_summary_has_key_points_and_chapters_on_sentence_starts(transcript) -> None:
    result = summarize_source(transcript)
    starts = {s.start_s for s in split_sentences(transcript.words)}
    texts = {s.text for s in split_sentences(transcript.words)}
    assert result.method == "extractive" and result.fallback_reason is None
    assert result.summary and 1 <= len(result.key_points) <= 7 and set(result.key_points) <= texts
    assert len(result.chapters) == 2  # a 5-minute talk: about one chapter per 3 minutes, each at least a minute
    assert result.chapters[0].start_s == transcript.words[0].start_s
    assert all(c.start_s in starts and c.title for c in result.chapters)
    assert [c.end_s for c in result.chapters[:-1]] == [c.start_s for c in result.chapters[1:]]
    assert result.chapters[-1].end_s == transcript.words[-1].end_s
    assert summarize_source(transcript.model_copy(update={"words": [], "segments": []})).chapters == []


def claude_summary(chapter_starts: list[float]) -> dict:
    return message(
        [
            tool_use(
                "record_summary",
                {
                    "summary": "A talk about programs, meetings and the defaults nobody checks.",
                    "key_points": ["Defaults matter", "Most startups never reach the late stage"],
                    "chapters": [{"start_s": t, "title": f"Part at {t:.0f}"} for t in chapter_starts],
                },
            )
        ]
    )


def test_claude_summary_snaps_chapters_to_sentences_or_falls_back(fake_anthropic, transcript, monkeypatch) -> None:
    monkeypatch.setenv("CLIPPED_TEST_ANTHROPIC_KEY", API_KEY)
    ranker = ClaudeRanker(api_key_env="CLIPPED_TEST_ANTHROPIC_KEY", base_url=fake_anthropic.base_url, max_retries=0)
    sentences = split_sentences(transcript.words)
    middle = sentences[len(sentences) // 2].start_s
    fake_anthropic.then_json(claude_summary([0.0, round(middle, 2)]))
    result = ranker.summarize(transcript)
    assert result.method == "claude" and result.usage.calls == 1
    assert [c.start_s for c in result.chapters] == [sentences[0].start_s, middle]
    body = fake_anthropic.requests[-1].body
    assert body["tools"][0]["name"] == "record_summary" and body["system"][0]["cache_control"]["type"] == "ephemeral"
    assert "<transcript>" in body["messages"][0]["content"]

    fake_anthropic.then_json(claude_summary([0.0, middle + 0.7]))  # between two sentence starts
    result = ranker.summarize(transcript)
    assert result.method == "extractive" and "not a sentence start" in result.fallback_reason


def test_source_summary_asset(tmp_path, transcript) -> None:
    storage = LocalStorage(root=str(tmp_path / "storage"))
    request = SourceRequest(kind="file", location="/media/talk.mp4", display_name="talk")
    storage.write_model(SOURCE.key(REQUEST_FILE), request)
    storage.write_model(SOURCE.key(TRANSCRIPT_FILE), transcript)
    save_record(
        storage, SOURCE, StageRecord(stage="transcript", fingerprint="t-1", outputs=[SOURCE.key(TRANSCRIPT_FILE)])
    )
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("source_video", [SOURCE.partition_key])
        result = materialize(
            [summary.source_summary],
            partition_key=SOURCE.partition_key,
            resources={"storage": storage, "ranker": HeuristicRanker()},
            instance=instance,
        )
        [event] = result.asset_materializations_for_node("source_summary")
    assert event.asset_key == AssetKey("source_summary")
    assert event.metadata["method"].value == "extractive" and event.metadata["chapter_count"].value == 2
    assert "**Chapters**" in event.metadata["summary"].value
    assert storage.read_model(SOURCE.key(SUMMARY_FILE), SourceSummary).chapters
