"""Word-timed captions as an ASS subtitle script, ready for ffmpeg's `ass` filter.

Pure: words in, text out. Words carry SOURCE-timeline times; the script is in CLIP time (0 = clip start), so the
same transcript serves every clip cut from a source.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from clipped.types import Word

CAPTION_STYLES = ("highlight_word", "karaoke", "pop_in")
FONT_NAME = "DejaVu Sans"  # the family of clipped/render/fonts/DejaVuSans-Bold.ttf

MAX_GROUP_WORDS = 4
MAX_GROUP_CHARS = 18
PAUSE_BREAK_S = 0.6  # a longer silence ends the caption line: the next words are a new thought
LAST_WORD_HOLD_S = 0.5  # keep a line readable a little after its last word when the speaker pauses
SENTENCE_END = (".", "!", "?", ";", ":")

# ASS colours are &HAABBGGRR (alpha first, then blue, green, red).
WHITE = "&H00FFFFFF"
YELLOW = "&H0000FFFF"
BLACK = "&H00000000"
SHADOW = "&H80000000"
ACTIVE_TAG = r"{\c&H00FFFF&\fscx110\fscy110}"
RESET_TAG = r"{\r}"
HIDDEN_TAG = r"{\alpha&HFF&}"
POP_IN_MS = 120
HOOK_SECONDS = 3.0  # the overlay hook holds for the opening, where viewers decide to stay


@dataclass(frozen=True)
class CaptionWord:
    """A word in clip time, text already escaped for ASS."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class CaptionLayout:
    """Style numbers derived from the output frame, kept apart so tests and callers can see them."""

    font_size: int
    outline: int
    shadow: int
    margin_h: int
    margin_v: int


def build_ass(
    words: list[Word],
    clip_start_s: float,
    clip_end_s: float,
    width: int,
    height: int,
    style: str = "highlight_word",
    hook: str = "",
) -> str:
    """An ASS script for the words spoken inside [clip_start_s, clip_end_s], rendered at width x height.

    Words outside the clip are dropped, words crossing its edges are clamped, and every event lies in
    [0, clip duration]. ``style`` is one of :data:`CAPTION_STYLES`; anything else raises ValueError. A ``hook``
    (the clip's 3–6 word overlay) is shown boxed near the top for the first :data:`HOOK_SECONDS`.
    """
    if style not in CAPTION_STYLES:
        raise ValueError(f"unknown caption style {style!r}; allowed: {', '.join(CAPTION_STYLES)}")
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    duration_s = max(0.0, clip_end_s - clip_start_s)
    layout = caption_layout(width, height)
    clip_words = to_clip_words(words, clip_start_s, duration_s)
    events: list[str] = []
    groups = group_words(clip_words)
    for index, group in enumerate(groups):
        next_start = groups[index + 1][0].start_s if index + 1 < len(groups) else None
        line_end = _line_end(group, next_start, duration_s)
        events.extend(_EVENT_BUILDERS[style](group, line_end))
    header = _header(width, height, layout, style)
    hook_text = " ".join(hook.split())
    if hook_text and duration_s > 0:
        header = header.replace("\n\n[Events]\n", f"\n{_hook_style(width, height)}\n\n[Events]\n", 1)
        end = format_ass_time(min(HOOK_SECONDS, duration_s))
        events.insert(0, f"Dialogue: 1,{format_ass_time(0.0)},{end},Hook,,0,0,0,,{escape_ass_text(hook_text)}\n")
    return header + "".join(events)


def _hook_style(width: int, height: int) -> str:
    """White bold text on an opaque dark box (BorderStyle 3), top centre, below the platforms' top bar."""
    size = round(0.06 * min(width, height))
    margin_v = round((0.12 if height > width else 0.06) * height)
    return (
        f"Style: Hook,{FONT_NAME},{size},{WHITE},{WHITE},&H30000000,&H30000000,-1,0,0,0,100,100,0,0,3,"
        f"{max(4, round(size * 0.25))},0,8,{round(0.08 * width)},{round(0.08 * width)},{margin_v},1"
    )


def caption_layout(width: int, height: int) -> CaptionLayout:
    """Font size and margins for a frame: text sized to the short side, placed above the platforms' bottom UI."""
    font_size = round(0.065 * min(width, height))
    if height > width:
        # Vertical feeds (Shorts, Reels, TikTok) cover the bottom ~25% with captions, buttons and the
        # account line; a baseline at ~70% of the height keeps the words clear of them.
        margin_frac = 0.30
    elif height == width:
        margin_frac = 0.15
    else:
        margin_frac = 0.10
    return CaptionLayout(
        font_size=font_size,
        outline=max(2, round(font_size * 0.10)),
        shadow=max(1, round(font_size * 0.03)),
        margin_h=round(0.06 * width),
        margin_v=round(margin_frac * height),
    )


def to_clip_words(words: list[Word], clip_start_s: float, duration_s: float) -> list[CaptionWord]:
    """Words shifted to clip time, clamped to [0, duration_s], empty or outside ones dropped, in time order."""
    result: list[CaptionWord] = []
    for word in sorted(words, key=lambda w: w.start_s):
        text = escape_ass_text(" ".join(word.word.split()))
        start = max(0.0, word.start_s - clip_start_s)
        end = min(duration_s, word.end_s - clip_start_s)
        if not text or word.end_s - clip_start_s <= 0 or start >= duration_s:
            continue
        # ASR occasionally emits zero-length words; give them a moment on screen rather than dropping speech.
        end = max(end, min(duration_s, start + 0.05))
        result.append(CaptionWord(text=text, start_s=start, end_s=end))
    return result


def escape_ass_text(text: str) -> str:
    r"""Make a word render literally: no override blocks, no \N line breaks.

    libass reads ``\{`` and ``\}`` as literal braces. A backslash has no escape of its own, so a word joiner
    (zero width) goes after it to stop ``\N``, ``\n`` and ``\h`` from being read as commands.
    """
    return text.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")


def group_words(words: list[CaptionWord]) -> list[list[CaptionWord]]:
    """Short caption lines: at most 4 words / 18 characters, broken at sentence ends and pauses."""
    groups: list[list[CaptionWord]] = []
    current: list[CaptionWord] = []
    for word in words:
        if current:
            chars = sum(len(w.text) for w in current) + len(current) + len(word.text)
            pause = word.start_s - current[-1].end_s
            if (
                len(current) >= MAX_GROUP_WORDS
                or chars > MAX_GROUP_CHARS
                or pause > PAUSE_BREAK_S
                or current[-1].text.endswith(SENTENCE_END)
            ):
                groups.append(current)
                current = []
        current.append(word)
    if current:
        groups.append(current)
    return groups


def format_ass_time(seconds: float) -> str:
    """``H:MM:SS.cc``, truncated to centiseconds so a time never rounds past the clip's end."""
    centis = _centis(seconds)
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6_000)
    secs, cs = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{cs:02d}"


def _centis(seconds: float) -> int:
    # The epsilon keeps 0.29 (stored as 0.28999...) at 29 centiseconds.
    return max(0, math.floor(seconds * 100 + 1e-6))


def _line_end(group: list[CaptionWord], next_start: float | None, duration_s: float) -> float:
    """When a line leaves the screen: at the next line if that follows closely, else shortly after its last word."""
    last_end = group[-1].end_s
    if next_start is not None and next_start - last_end <= PAUSE_BREAK_S:
        # Ending exactly where the next line starts also stops two lines overlapping when ASR times overlap.
        return next_start
    limit = duration_s if next_start is None else next_start
    return min(max(last_end, min(last_end + LAST_WORD_HOLD_S, limit)), duration_s)


def _active_spans(group: list[CaptionWord], line_end: float) -> list[tuple[float, float]]:
    """Each word's highlight runs until the next word starts, so the line never flickers between words."""
    spans = []
    for index, word in enumerate(group):
        end = group[index + 1].start_s if index + 1 < len(group) else line_end
        spans.append((word.start_s, max(end, word.start_s)))
    return spans


def _dialogue(start_s: float, end_s: float, text: str) -> str | None:
    if _centis(end_s) <= _centis(start_s):
        return None  # shorter than a centisecond: libass would never show it
    return f"Dialogue: 0,{format_ass_time(start_s)},{format_ass_time(end_s)},Caption,,0,0,0,,{text}\n"


def _highlight_events(group: list[CaptionWord], line_end: float) -> list[str]:
    events = []
    for active, (start, end) in enumerate(_active_spans(group, line_end)):
        parts = [f"{ACTIVE_TAG}{w.text}{RESET_TAG}" if i == active else w.text for i, w in enumerate(group)]
        event = _dialogue(start, end, " ".join(parts))
        if event:
            events.append(event)
    return events


def _pop_in_events(group: list[CaptionWord], line_end: float) -> list[str]:
    # Words not yet spoken are drawn fully transparent rather than left out, so the line is laid out once
    # and the words already on screen never shift as new ones appear.
    pop = rf"{{\c&H00FFFF&\fscx70\fscy70\t(0,{POP_IN_MS},\fscx110\fscy110)}}"
    events = []
    for active, (start, end) in enumerate(_active_spans(group, line_end)):
        parts = []
        for i, word in enumerate(group):
            if i < active:
                parts.append(word.text)
            elif i == active:
                parts.append(f"{pop}{word.text}{RESET_TAG}")
            else:
                parts.append(f"{HIDDEN_TAG}{word.text}{RESET_TAG}")
        event = _dialogue(start, end, " ".join(parts))
        if event:
            events.append(event)
    return events


def _karaoke_events(group: list[CaptionWord], line_end: float) -> list[str]:
    # One event per line; each \k lasts until the next word starts, counted in the same truncated centiseconds
    # as the event times so the syllables add up to exactly the event's length.
    parts = []
    for start, end in _active_spans(group, line_end):
        parts.append(rf"{{\k{max(0, _centis(end) - _centis(start))}}}")
    text = " ".join(f"{tag}{word.text}" for tag, word in zip(parts, group, strict=True))
    event = _dialogue(group[0].start_s, line_end, text)
    return [event] if event else []


_EVENT_BUILDERS: dict[str, Callable[[list[CaptionWord], float], list[str]]] = {
    "highlight_word": _highlight_events,
    "karaoke": _karaoke_events,
    "pop_in": _pop_in_events,
}


def _header(width: int, height: int, layout: CaptionLayout, style: str) -> str:
    # Karaoke fills from SecondaryColour to PrimaryColour as each \k elapses, so its primary is the highlight.
    primary, secondary = (YELLOW, WHITE) if style == "karaoke" else (WHITE, YELLOW)
    return (
        "[Script Info]\n"
        "ScriptType: v4.00+\n"
        f"PlayResX: {width}\n"
        f"PlayResY: {height}\n"
        "WrapStyle: 0\n"
        "ScaledBorderAndShadow: yes\n"
        "YCbCr Matrix: TV.709\n"
        "\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding\n"
        f"Style: Caption,{FONT_NAME},{layout.font_size},{primary},{secondary},{BLACK},{SHADOW},-1,0,0,0,100,100,0,0,1,"
        f"{layout.outline},{layout.shadow},2,{layout.margin_h},{layout.margin_h},{layout.margin_v},1\n"
        "\n"
        "[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
