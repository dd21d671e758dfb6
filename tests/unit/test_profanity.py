"""Profanity: found from the maintained list plus a workspace's words, masked in captions, censored in audio."""

from __future__ import annotations

import pytest

from clipped.export.clip_export import clip_subtitles
from clipped.render.profanity import (
    censor_filter,
    clip_spans,
    find_profanity,
    mask_listed,
    mask_text,
    mask_words,
    profanity_in_opening,
    word_list,
)
from clipped.types import RenderedClip, Word


def words_from(text: str, start_s: float = 0.0) -> list[Word]:
    return [Word(word=t, start_s=start_s + i * 0.5, end_s=start_s + i * 0.5 + 0.4) for i, t in enumerate(text.split())]


def test_listed_words_are_found_whatever_their_case_or_punctuation() -> None:
    words = words_from("Well, FUCK. this shit works in Scunthorpe")
    spans = find_profanity(words, word_list())
    assert [(span.first, span.text) for span in spans] == [(1, "FUCK."), (3, "shit")]
    assert (spans[0].start_s, spans[0].end_s) == (0.5, 0.9)


def test_a_workspace_adds_its_own_words_and_phrases_and_allows_others() -> None:
    words = words_from("the frobnicating blow job and hell")
    listed = word_list(extra=["Frobnicating"], allowed=["hell"])
    assert [span.text for span in find_profanity(words, listed)] == ["frobnicating", "blow job"]
    phrase = find_profanity(words, listed)[1]
    assert (phrase.first, phrase.last, phrase.start_s, phrase.end_s) == (2, 3, 1.0, 1.9)


def test_masking_keeps_the_first_letter_and_the_punctuation() -> None:
    assert mask_text("fuck,") == "f***," and mask_text("Shit!") == "S***!" and mask_text("ass") == "a**"
    words = words_from("oh shit no")
    masked = mask_words(words, find_profanity(words, word_list()))
    assert [w.word for w in masked] == ["oh", "s***", "no"] and masked[1].start_s == words[1].start_s


def test_spans_move_to_clip_time_padded_merged_and_clamped() -> None:
    words = [
        Word(word="shit", start_s=10.0, end_s=10.4),
        Word(word="fuck", start_s=10.42, end_s=10.8),  # touching once padded: one span
        Word(word="okay", start_s=11.0, end_s=11.3),
        Word(word="damn", start_s=11.5, end_s=11.9),  # runs past the clip's end
    ]
    spans = find_profanity(words, word_list())
    assert [(round(a, 3), round(b, 3)) for a, b in clip_spans(spans, 10.2, 11.8)] == [(0.0, 0.63), (1.27, 1.6)]


def test_the_censor_filter_mutes_or_bleeps_exactly_the_spans() -> None:
    spans = [(0.5, 0.9), (2.0, 2.25)]
    inside = "between(t,0.500,0.900)+between(t,2.000,2.250)"
    assert censor_filter(spans, "mute") == f"asetpts=N/SR/TB,aeval=exprs='if({inside},0,val(ch))':channel_layout=same"
    bleep = censor_filter(spans, "bleep")
    assert f"if({inside},0.25*sin(2*PI*1000*t),val(ch))" in bleep
    assert censor_filter(spans, "off") is None and censor_filter([], "mute") is None
    with pytest.raises(ValueError, match="mute"):
        censor_filter(spans, "beep")


def test_the_opening_gate_looks_at_the_first_three_seconds_only() -> None:
    early = find_profanity(words_from("so shit happens", start_s=100.0), word_list())
    late = find_profanity(words_from("one two three four five six seven shit", start_s=100.0), word_list())
    assert profanity_in_opening(early, 100.0) and not profanity_in_opening(late, 100.0)


def test_subtitle_exports_mask_what_the_render_censored() -> None:
    words = words_from("oh Shit, that works")
    assert [w.word for w in mask_listed(words, ["shit"])] == ["oh", "S***,", "that", "works"]
    clip = RenderedClip(
        rank=1, clip_id="c", candidate_id="c", video_key="v", thumbnail_key="t", captions_key="a", start_s=0.0,
        end_s=2.0, width=1080, height=1920, score=1.0, scores={}, reason="", title="", words=words,
        inspection={"masked_words": ["shit"]},
    )  # fmt: skip
    assert "S***," in clip_subtitles(clip, "srt") and "Shit" not in clip_subtitles(clip, "vtt")
    unmasked = clip.model_copy(update={"inspection": {}})  # rendered with profanity off, or before masking existed
    assert "Shit," in clip_subtitles(unmasked, "srt")
