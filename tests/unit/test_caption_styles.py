"""Caption styles, keyword emphasis and emoji, 1–3 words a line, platform safe areas and scripts the fonts cover."""

from __future__ import annotations

import re

import pytest

from clipped.render.captions_ass import CAPTION_STYLES, CaptionOptions, build_ass, caption_layout, hook_band
from clipped.render.safe_areas import VERTICAL_SAFE_AREAS, safe_area
from clipped.types import Word

DIALOGUE = re.compile(r"^Dialogue: 0,(\d+):(\d\d):(\d\d)\.(\d\d),(\d+):(\d\d):(\d\d)\.(\d\d),Caption,,0,0,0,,(.*)$")
HARD_TEXT = "Ça coûte 1,299.50€ — Donaudampfschifffahrtsgesellschaft! Привет, мир. Γειά σου {ok} \\N"


def words_from(text: str, start_s: float = 0.0, step_s: float = 0.4) -> list[Word]:
    return [
        Word(word=t, start_s=start_s + i * step_s, end_s=start_s + i * step_s + 0.3) for i, t in enumerate(text.split())
    ]


def caption_events(ass: str) -> list[tuple[float, float, str]]:
    found = []
    for line in ass.splitlines():
        if line.startswith("Dialogue: 0,"):
            match = DIALOGUE.match(line)
            assert match, f"malformed event line: {line}"
            g = match.groups()
            start = int(g[0]) * 3600 + int(g[1]) * 60 + int(g[2]) + int(g[3]) / 100
            end = int(g[4]) * 3600 + int(g[5]) * 60 + int(g[6]) + int(g[7]) / 100
            found.append((start, end, g[8]))
    return found


def plain(text: str) -> str:
    return re.sub(r"(?<!\\)\{[^}]*\}", "", text)


def test_there_are_five_styles_including_the_original_three() -> None:
    assert {"highlight_word", "karaoke", "pop_in", "typewriter", "bounce"} <= set(CAPTION_STYLES)


@pytest.mark.parametrize("style", CAPTION_STYLES)
def test_every_style_keeps_hard_text_whole_and_inside_the_clip(style: str) -> None:
    words = words_from(HARD_TEXT, start_s=5.0)
    found = caption_events(build_ass(words, 5.0, 12.0, 1080, 1920, style))
    assert found and all(0 <= start < end <= 7.0 for start, end, _ in found)
    shown = " ".join(plain(text) for _, _, text in found)
    for token in (
        "Ça",
        "coûte",
        "1,299.50€",
        "Привет,",
        "мир.",
        "Γειά",
        r"\{ok\}",
        "Donaudampfschifffahrtsgesellschaft!",
    ):
        assert token.replace("\\", "") in shown.replace("\\", "") or token in shown, (style, token)
    assert r"\N" not in shown  # the spoken backslash-N stays text, never a line break
    for _, _, text in found:  # override blocks are balanced: libass would print a stray brace
        assert len(re.findall(r"(?<!\\)\{", text)) == len(re.findall(r"(?<!\\)\}", text))


@pytest.mark.parametrize("style", CAPTION_STYLES)
def test_a_word_wider_than_the_safe_area_is_scaled_down_to_fit(style: str) -> None:
    words = words_from("Donaudampfschifffahrtsgesellschaftskapitänsmütze")
    text = caption_events(build_ass(words, 0.0, 2.0, 1080, 1920, style))[0][2]
    assert text.startswith(r"{\fscx") and int(re.match(r"\{\\fscx(\d+)", text).group(1)) < 70


def test_typewriter_reveals_each_character_in_time_with_its_word() -> None:
    found = caption_events(build_ass(words_from("go now", step_s=0.5), 0.0, 3.0, 1080, 1920, "typewriter"))
    assert len(found) == 1  # one line: the layout never moves
    reveal_ms = [int(ms) for ms in re.findall(r"\\t\((\d+),\d+,\\alpha&H00&\)", found[0][2])]
    assert reveal_ms == sorted(reveal_ms) and len(reveal_ms) == len("go") + len("now")
    assert reveal_ms[0] == 0 and reveal_ms[2] == 500  # "n" of "now" appears when "now" is spoken


def test_bounce_stretches_then_settles_the_spoken_word() -> None:
    found = caption_events(build_ass(words_from("alpha beta"), 0.0, 2.0, 1080, 1920, "bounce"))
    assert len(found) == 2
    tall, squash, settle = (
        int(v)
        for v in re.search(r"\\fscy(\d+)\\t\(0,\d+,\\fscy(\d+)\)\\t\(\d+,\d+,\\fscy(\d+)\)", found[0][2]).groups()
    )
    assert tall > settle > squash


def test_lines_hold_one_to_three_words_as_asked() -> None:
    words = words_from("one two three four five six seven")
    for per_line in (1, 2, 3):
        ass = build_ass(words, 0.0, 5.0, 1080, 1920, "karaoke", options=CaptionOptions(words_per_line=per_line))
        counts = [len(plain(text).split()) for _, _, text in caption_events(ass)]
        assert max(counts) == per_line


def test_keywords_get_the_emphasis_colour_and_an_emoji() -> None:
    words = words_from("we love 42 extraordinary ideas")
    ass = build_ass(words, 0.0, 5.0, 1080, 1920, "karaoke")
    text = " ".join(t for _, _, t in caption_events(ass))
    assert "love \u2764" in text  # the emoji follows its keyword
    emphasised = re.findall(r"\{\\c&HFFE500&[^}]*\}([^{]+)", text)
    assert set(emphasised) == {"love \u2764", "42", "extraordinary"}  # "we" and "ideas" carry no emphasis
    bare = build_ass(
        words, 0.0, 5.0, 1080, 1920, "karaoke", options=CaptionOptions(keyword_emoji=False, keyword_emphasis=False)
    )
    assert "\u2764" not in bare and "FFE500" not in bare


def test_captions_sit_above_each_platforms_bottom_ui_and_clear_its_side_buttons() -> None:
    for platform, area in VERTICAL_SAFE_AREAS.items():
        layout = caption_layout(1080, 1920, safe_area(platform, 1080, 1920))
        assert layout.margin_v > area.bottom * 1920, platform
        assert layout.margin_r >= area.right * 1080 and layout.margin_l >= area.left * 1080, platform
    generic = caption_layout(1080, 1920)
    assert all(generic.margin_v >= caption_layout(1080, 1920, a).margin_v for a in VERTICAL_SAFE_AREAS.values())
    assert safe_area("tiktok", 1920, 1080) == safe_area("generic", 1920, 1080)  # templates are for vertical video
    with pytest.raises(ValueError, match="tiktok"):
        safe_area("myspace", 1080, 1920)


def test_the_hook_goes_above_the_captions_when_asked() -> None:
    words = words_from("so here it is")
    top = build_ass(words, 0.0, 5.0, 1080, 1920, hook="Nobody tells you this")
    bottom = build_ass(
        words, 0.0, 5.0, 1080, 1920, hook="Nobody tells you this", options=CaptionOptions(hook_at="bottom")
    )
    style = lambda ass: next(line for line in ass.splitlines() if line.startswith("Style: Hook")).split(",")  # noqa: E731
    assert style(top)[18] == "8" and style(bottom)[18] == "2"
    bands = hook_band("Nobody tells you this", 1080, 1920)
    caption_top = 1920 - caption_layout(1080, 1920).margin_v - caption_layout(1080, 1920).font_size
    assert bands["top"][1] < bands["bottom"][0] and bands["bottom"][1] < caption_top
