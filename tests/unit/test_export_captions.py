"""Subtitle cues from word times: line and cue limits, cut remapping, and SRT/VTT read back by a parser."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import webvtt

from clipped.export.captions import MAX_CUE_S, caption_cues, to_srt, to_vtt
from clipped.export.clip_export import clip_record, clip_subtitles
from clipped.export.cut_list import SourceSpan, kept_spans, words_on_clip_timeline
from clipped.layout import RENDERED_CLIPS_FILE, ClipVersionRef, SourceRef
from clipped.render.versions import VERSION_CLIP_FILE
from clipped.render_manifest import RenderedClipsManifest
from clipped.types import RenderedClip, Word
from clipped_resources.storage import LocalStorage


def _words(text: str, start_s: float = 0.0, step_s: float = 0.3, pause_after: dict[int, float] | None = None):
    words, t = [], start_s
    for index, token in enumerate(text.split()):
        words.append(Word(word=token, start_s=t, end_s=t + step_s * 0.8))
        t += step_s + (pause_after or {}).get(index, 0.0)
    return words


def _seconds(timestamp: str) -> float:
    hours, minutes, seconds = timestamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


SPEECH = (
    "So the merchant said that every single thing we sold that summer was made by hand in the village, "
    "which is why it mattered. Then we left at dawn and never looked back at anything behind us"
)


def test_cues_respect_line_and_cue_limits_and_keep_every_word_in_order() -> None:
    words = _words(SPEECH, pause_after={5: 1.2})
    cues = caption_cues(words)
    assert all(1 <= len(c.lines) <= 2 and all(len(line) <= 42 for line in c.lines) for c in cues)
    assert " ".join(" ".join(c.lines) for c in cues) == SPEECH
    assert all(c.end_s - c.start_s <= MAX_CUE_S + 0.5 for c in cues)
    assert all(a.end_s <= b.start_s for a, b in itertools.pairwise(cues))
    # A sentence end and a long pause both start a new cue.
    assert any(c.lines[-1].endswith("mattered.") for c in cues)
    assert any(c.lines[-1].endswith("every") for c in cues)
    three = caption_cues(words, max_lines=3)
    assert len(three) < len(cues) and max(len(c.lines) for c in three) == 3


def test_long_words_are_split_to_the_line_width() -> None:
    url = "https://example.org/" + "a" * 70
    cues = caption_cues([Word(word=url, start_s=0.0, end_s=1.0)])
    assert all(len(line) <= 42 for line in cues[0].lines) and "".join(cues[0].lines) == url


def test_words_in_a_cut_out_stretch_are_dropped_and_later_ones_move_up() -> None:
    words = _words("one two three four five six", start_s=10.0, step_s=1.0)  # 10, 11, ... 15
    spans = [SourceSpan(10.0, 12.0), SourceSpan(14.0, 16.0)]  # "three" and "four" were cut
    moved = words_on_clip_timeline(words, spans)
    assert [w.word for w in moved] == ["one", "two", "five", "six"]
    assert [round(w.start_s, 3) for w in moved] == [0.0, 1.0, 2.0, 3.0]


def test_srt_and_vtt_parse_back_with_the_cue_times(tmp_path: Path) -> None:
    clip = RenderedClip(
        rank=1, clip_id="c", candidate_id="c", video_key="k", thumbnail_key="k", captions_key="k",
        start_s=100.0, end_s=112.0, width=1080, height=1920, score=0.5, scores={}, reason="", title="t",
        words=_words("Fish & chips are <i>great</i>. Really", start_s=100.5, step_s=1.0),
        kept_spans_s=[(100.0, 103.0), (104.0, 112.0)],
    )  # fmt: skip
    spans = kept_spans(clip)
    expected = caption_cues(words_on_clip_timeline(clip.words, spans), timeline_end_s=11.0)
    for format_id, read in (("srt", webvtt.from_srt), ("vtt", webvtt.read)):
        path = tmp_path / f"clip.{format_id}"
        path.write_text(clip_subtitles(clip, format_id))
        parsed = read(str(path))
        assert [(_seconds(c.start), _seconds(c.end)) for c in parsed] == [
            (pytest.approx(c.start_s, abs=1e-3), pytest.approx(c.end_s, abs=1e-3)) for c in expected
        ]
        assert parsed[0].text.replace("&amp;", "&").startswith("Fish & chips")
    assert "&lt;i&gt;" in to_vtt(expected) and "<i>" in to_srt(expected)  # markup in VTT, plain text in SRT
    # "great." ends a sentence; "are" was spoken in the cut stretch (103–104 s) and is gone.
    assert [c.text for c in expected] == ["Fish & chips <i>great</i>.", "Really"]


def test_a_re_rendered_version_exports_its_own_record(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    source = SourceRef("local", "talk-0123456789")
    first = RenderedClip(
        rank=1, clip_id="talk-0123456789-01-abc", candidate_id="c", video_key="k", thumbnail_key="k",
        captions_key="k", start_s=10.0, end_s=20.0, width=1080, height=1920, score=0.5, scores={}, reason="",
        title="t", words=_words("the merch can be", start_s=10.5),
    )  # fmt: skip
    manifest = RenderedClipsManifest(partition=source.partition_key, duration_s=60.0, language="en", clips=[first])
    storage.write_model(source.key(RENDERED_CLIPS_FILE), manifest)
    edited = first.model_copy(update={"start_s": 10.4, "words": _words("the merchant", start_s=10.5)})
    storage.write_model(ClipVersionRef(source, first.clip_id, 2).key(VERSION_CLIP_FILE), edited)
    assert clip_record(storage, source, first.clip_id, 1) == first
    assert "merchant" in clip_subtitles(clip_record(storage, source, first.clip_id, 2), "srt")
    assert clip_record(storage, source, first.clip_id, 3) == first  # a version still rendering has no record yet
    with pytest.raises(LookupError):
        clip_record(storage, source, "talk-0123456789-09-abc")


def test_captions_of_a_clip_with_a_brand_intro_start_after_it() -> None:
    clip = RenderedClip(
        rank=1, clip_id="c", candidate_id="c", video_key="k", thumbnail_key="k", captions_key="k",
        start_s=10.0, end_s=14.0, width=1080, height=1920, score=0.5, scores={}, reason="", title="t",
        words=_words("Hello there friends.", start_s=10.5, step_s=1.0),
    )  # fmt: skip
    plain = caption_cues(words_on_clip_timeline(clip.words, kept_spans(clip)), timeline_end_s=4.0)
    bumped = clip.model_copy(update={"inspection": {"intro_s": 1.5}})
    first = clip_subtitles(bumped, "srt").splitlines()[1]
    assert first.startswith("00:00:02,000") and plain[0].start_s == pytest.approx(0.5)
