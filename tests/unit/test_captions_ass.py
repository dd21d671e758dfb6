"""ASS caption building: timing, grouping, escaping and style header."""

from __future__ import annotations

import itertools
import re

import pytest

from clipped.render.captions_ass import CAPTION_STYLES, build_ass, escape_ass_text, format_ass_time
from clipped.types import Word

DIALOGUE = re.compile(r"^Dialogue: 0,(\d+):(\d\d):(\d\d)\.(\d\d),(\d+):(\d\d):(\d\d)\.(\d\d),Caption,,0,0,0,,(.*)$")


def words_from(text: str, start_s: float, step_s: float = 0.4, length_s: float = 0.3) -> list[Word]:
    return [
        Word(word=token, start_s=start_s + i * step_s, end_s=start_s + i * step_s + length_s)
        for i, token in enumerate(text.split())
    ]


def events(ass: str) -> list[tuple[float, float, str]]:
    found = []
    for line in ass.splitlines():
        match = DIALOGUE.match(line)
        if line.startswith("Dialogue:"):
            assert match, f"malformed event line: {line}"
        if match:
            groups = match.groups()
            start = int(groups[0]) * 3600 + int(groups[1]) * 60 + int(groups[2]) + int(groups[3]) / 100
            end = int(groups[4]) * 3600 + int(groups[5]) * 60 + int(groups[6]) + int(groups[7]) / 100
            found.append((start, end, groups[8]))
    return found


def plain(text: str) -> str:
    """Event text without override blocks (escaped braces kept)."""
    return re.sub(r"(?<!\\)\{[^}]*\}", "", text)


def style_fields(ass: str) -> dict[str, str]:
    format_line = next(line for line in ass.splitlines() if line.startswith("Format: Name"))
    style_line = next(line for line in ass.splitlines() if line.startswith("Style: "))
    names = [name.strip() for name in format_line.removeprefix("Format:").split(",")]
    values = [value.strip() for value in style_line.removeprefix("Style:").split(",")]
    return dict(zip(names, values, strict=True))


def test_times_are_shifted_to_clip_time():
    ass = build_ass(words_from("hello world", start_s=100.0), 99.0, 110.0, 1080, 1920)
    found = events(ass)
    assert found[0][0] == pytest.approx(1.0)
    assert found[1][0] == pytest.approx(1.4)
    assert "0:00:01.00" in ass


def test_words_outside_the_clip_are_dropped_and_partial_ones_clamped():
    words = [
        Word(word="before", start_s=1.0, end_s=1.5),
        Word(word="straddles", start_s=4.8, end_s=5.3),
        Word(word="inside", start_s=6.0, end_s=6.4),
        Word(word="crosses", start_s=9.8, end_s=10.6),
        Word(word="after", start_s=11.0, end_s=11.5),
    ]
    found = events(build_ass(words, 5.0, 10.0, 1080, 1920))
    texts = " ".join(plain(text) for _, _, text in found)
    assert "before" not in texts and "after" not in texts
    assert {"straddles", "inside", "crosses"} <= set(texts.split())
    assert found[0][0] == 0.0
    assert max(end for _, end, _ in found) <= 5.0


@pytest.mark.parametrize("style", CAPTION_STYLES)
def test_no_event_outside_the_clip(style: str):
    words = words_from("one two three four five six seven eight nine ten", start_s=9.5, step_s=0.37)
    found = events(build_ass(words, 10.0, 12.5, 1080, 1920, style))
    assert found
    for start, end, _ in found:
        assert 0.0 <= start < end <= 2.5


def test_special_characters_are_escaped():
    assert escape_ass_text("{x}") == r"\{x\}"
    escaped = escape_ass_text(r"a\Nb")
    assert r"\N" not in escaped and escaped.startswith("a\\")
    ass = build_ass([Word(word="{\\b1}bold", start_s=0.0, end_s=0.5)], 0.0, 1.0, 1080, 1920)
    text = events(ass)[0][2]
    assert r"\{" in text and r"\}" in text
    assert "{\\b1}" not in text


def test_words_are_grouped_into_short_lines():
    words = words_from("one two three four five six ten nine", start_s=0.0)
    lines = {plain(text) for _, _, text in events(build_ass(words, 0.0, 10.0, 1080, 1920))}
    assert lines == {"one two three", "four five six", "ten nine"}  # 1–3 words a line


def test_long_words_split_lines_by_characters():
    words = words_from("extraordinary circumstances happen", start_s=0.0)
    for _, _, text in events(build_ass(words, 0.0, 5.0, 1080, 1920)):
        assert len(plain(text)) <= 18 or " " not in plain(text)


def test_lines_break_at_sentence_end_and_long_pause():
    words = [
        Word(word="Stop.", start_s=0.0, end_s=0.3),
        Word(word="Go", start_s=0.4, end_s=0.6),
        Word(word="now", start_s=0.7, end_s=0.9),
        Word(word="later", start_s=2.0, end_s=2.3),
    ]
    lines = [plain(text) for _, _, text in events(build_ass(words, 0.0, 5.0, 1080, 1920))]
    assert lines == ["Stop.", "Go now", "Go now", "later"]


def test_each_word_gets_one_highlighted_event_without_gaps():
    words = words_from("alpha beta gamma", start_s=0.0, step_s=0.5, length_s=0.3)
    found = events(build_ass(words, 0.0, 5.0, 1080, 1920, "highlight_word"))
    assert len(found) == 3
    for (_, end, _), (next_start, _, _) in itertools.pairwise(found):
        assert end == next_start
    for index, (_, _, text) in enumerate(found):
        assert text.count(r"\c&H00FFFF&") == 1
        highlighted = re.search(r"\\fscy110\}([^{]+)\{\\r\}", text)
        assert highlighted and highlighted.group(1) == ["alpha", "beta", "gamma"][index]


def test_karaoke_uses_k_tags_that_add_up_to_the_event():
    words = words_from("alpha beta gamma", start_s=1.0, step_s=0.5, length_s=0.3)
    found = events(build_ass(words, 0.0, 5.0, 1080, 1920, "karaoke"))
    assert len(found) == 1
    start, end, text = found[0]
    durations = [int(k) for k in re.findall(r"\\k(\d+)", text)]
    assert len(durations) == 3
    assert sum(durations) == round((end - start) * 100)


def test_pop_in_animates_the_active_word_and_hides_later_ones():
    words = words_from("alpha beta gamma", start_s=0.0)
    found = events(build_ass(words, 0.0, 5.0, 1080, 1920, "pop_in"))
    assert all(r"\t(" in text for _, _, text in found)
    assert found[0][2].count(r"\alpha&HFF&") == 2
    assert r"\alpha&HFF&" not in found[-1][2]


def test_unknown_style_names_the_allowed_ones():
    with pytest.raises(ValueError, match=r"highlight_word.*karaoke.*pop_in.*typewriter.*bounce"):
        build_ass([], 0.0, 1.0, 1080, 1920, style="comic_sans")


def test_vertical_style_header_puts_bold_text_in_the_safe_area():
    ass = build_ass([], 0.0, 1.0, 1080, 1920)
    assert "PlayResX: 1080" in ass and "PlayResY: 1920" in ass
    style = style_fields(ass)
    assert style["Fontname"] == "DejaVu Sans"
    assert style["Bold"] == "-1"
    assert style["Alignment"] == "2"
    assert style["PrimaryColour"] == "&H00FFFFFF"
    assert style["OutlineColour"] == "&H00000000"
    assert 6 <= int(style["Outline"]) <= 8
    assert 1 <= int(style["Shadow"]) <= 3
    assert int(style["Fontsize"]) == pytest.approx(0.065 * 1080, abs=2)
    assert 0.28 * 1920 <= int(style["MarginV"]) <= 0.32 * 1920


def test_square_frame_scales_the_header():
    style = style_fields(build_ass([], 0.0, 1.0, 1080, 1080))
    assert int(style["MarginV"]) < 0.28 * 1080
    assert int(style["Fontsize"]) == pytest.approx(0.065 * 1080, abs=2)


def test_empty_words_give_a_valid_file_without_events():
    ass = build_ass([], 3.0, 10.0, 1080, 1920)
    assert ass.startswith("[Script Info]")
    assert "[V4+ Styles]" in ass and "[Events]" in ass
    assert ass.rstrip().endswith("Effect, Text")
    assert "Dialogue:" not in ass


def test_time_format_truncates_to_centiseconds():
    assert format_ass_time(0.0) == "0:00:00.00"
    assert format_ass_time(0.29) == "0:00:00.29"
    assert format_ass_time(61.999) == "0:01:01.99"
    assert format_ass_time(3725.5) == "1:02:05.50"
