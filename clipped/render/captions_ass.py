"""Word-timed captions as an ASS subtitle script, ready for ffmpeg's `ass` filter.

Pure: words in, text out. Words carry SOURCE-timeline times; the script is in CLIP time (0 = clip start), so the
same transcript serves every clip cut from a source.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from clipped.render.keywords import KEYWORD_EMOJI, KEYWORD_MIN_LETTERS, STOPWORDS, normalise_keyword
from clipped.render.safe_areas import SafeArea, generic_safe_area
from clipped.types import Word

CAPTION_STYLES = ("highlight_word", "karaoke", "pop_in", "typewriter", "bounce")
FONT_NAME = "DejaVu Sans"  # the family of clipped/render/fonts/DejaVuSans-Bold.ttf

MAX_GROUP_WORDS = 3
MAX_GROUP_CHARS = 18
PAUSE_BREAK_S = 0.6  # a longer silence ends the caption line: the next words are a new thought
LAST_WORD_HOLD_S = 0.5  # keep a line readable a little after its last word when the speaker pauses
SENTENCE_END = (".", "!", "?", ";", ":")
CHAR_WIDTH_EM = 0.62  # DejaVu Sans Bold's average advance; a line wider than the safe area is scaled down to fit

# ASS colours are &HAABBGGRR (alpha first, then blue, green, red).
WHITE = "&H00FFFFFF"
YELLOW = "&H0000FFFF"
CYAN = "&H00FFE500"
BLACK = "&H00000000"
SHADOW = "&H80000000"
HOOK_BOX = "&H30000000"
ACTIVE_TAG = r"{\c&H00FFFF&\fscx110\fscy110}"
RESET_TAG = r"{\r}"
HIDDEN_TAG = r"{\alpha&HFF&}"
POP_IN_MS = 120
BOUNCE_MS = 90  # each phase of the bounce: stretch up, squash, settle
EMPHASIS_SCALE = 1.15
HOOK_SECONDS = 3.0  # the overlay hook holds for the opening, where viewers decide to stay


@dataclass(frozen=True)
class CaptionLook:
    """Font and ASS colours of the captions and the hook: the brand kit's, or these defaults."""

    font: str = FONT_NAME
    text: str = WHITE
    highlight: str = YELLOW
    emphasis: str = CYAN
    hook_text: str = WHITE
    hook_box: str = HOOK_BOX


@dataclass(frozen=True)
class CaptionOptions:
    """How captions are laid out and decorated (from the clip's effects settings)."""

    words_per_line: int = MAX_GROUP_WORDS
    keyword_emphasis: bool = True
    keyword_emoji: bool = True
    safe: SafeArea | None = None  # None: the union of the platforms' UI margins
    hook_at: str = "top"  # "top" or "bottom": where the hook goes (chosen clear of the face)


@dataclass(frozen=True)
class CaptionWord:
    """A word in clip time, text already escaped for ASS."""

    text: str
    start_s: float
    end_s: float
    emphasis: bool = False


@dataclass(frozen=True)
class CaptionLayout:
    """Style numbers derived from the output frame, kept apart so tests and callers can see them."""

    font_size: int
    outline: int
    shadow: int
    margin_h: int
    margin_v: int
    margin_l: int = 0
    margin_r: int = 0


def build_ass(
    words: list[Word],
    clip_start_s: float,
    clip_end_s: float,
    width: int,
    height: int,
    style: str = "highlight_word",
    hook: str = "",
    *,
    options: CaptionOptions | None = None,
    look: CaptionLook | None = None,
) -> str:
    """An ASS script for the words spoken inside [clip_start_s, clip_end_s], rendered at width x height.

    Words outside the clip are dropped, words crossing its edges are clamped, and every event lies in
    [0, clip duration]. ``style`` is one of :data:`CAPTION_STYLES`; anything else raises ValueError. A ``hook``
    (the clip's 3–6 word overlay) is shown boxed for the first :data:`HOOK_SECONDS`, at the top or above the
    captions as ``options.hook_at`` says. Keywords get the emphasis colour and an emoji when ``options`` ask.
    """
    if style not in CAPTION_STYLES:
        raise ValueError(f"unknown caption style {style!r}; allowed: {', '.join(CAPTION_STYLES)}")
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    options = options or CaptionOptions()
    look = look or CaptionLook()
    duration_s = max(0.0, clip_end_s - clip_start_s)
    layout = caption_layout(width, height, options.safe)
    clip_words = to_clip_words(words, clip_start_s, duration_s)
    hook_text = " ".join(hook.split())
    clip_words = decorate(clip_words, options, hook_text)
    events: list[str] = []
    groups = group_words(clip_words, options.words_per_line)
    for index, group in enumerate(groups):
        next_start = groups[index + 1][0].start_s if index + 1 < len(groups) else None
        line_end = _line_end(group, next_start, duration_s)
        line = _LineFormat.fit(group, layout, width, look)
        events.extend(_EVENT_BUILDERS[style](group, line_end, line))
    header = _header(width, height, layout, style, look)
    if hook_text and duration_s > 0:
        hook_style = _hook_style(width, height, layout, options, look)
        header = header.replace("\n\n[Events]\n", f"\n{hook_style}\n\n[Events]\n", 1)
        end = format_ass_time(min(HOOK_SECONDS, duration_s))
        events.insert(0, f"Dialogue: 1,{format_ass_time(0.0)},{end},Hook,,0,0,0,,{escape_ass_text(hook_text)}\n")
    return header + "".join(events)


def hook_font_size(width: int, height: int) -> int:
    return round(0.06 * min(width, height))


def hook_band(
    hook: str, width: int, height: int, options: CaptionOptions | None = None
) -> dict[str, tuple[float, float]]:
    """Where the hook's box would lie at the top and at the bottom: ``{"top": (y0, y1), "bottom": (y0, y1)}`` in
    output pixels, so a caller can keep it off a face."""
    options = options or CaptionOptions()
    layout = caption_layout(width, height, options.safe)
    size = hook_font_size(width, height)
    usable = width - 2 * round(0.08 * width)
    lines = max(1, math.ceil(len(" ".join(hook.split())) * CHAR_WIDTH_EM * size / max(1, usable)))
    box = lines * size * 1.2 + 2 * max(4, round(size * 0.25))
    top_margin = _hook_top_margin(width, height, options.safe)
    bottom_margin = _hook_bottom_margin(layout)
    return {"top": (top_margin, top_margin + box), "bottom": (height - bottom_margin - box, height - bottom_margin)}


def _hook_top_margin(width: int, height: int, safe: SafeArea | None) -> int:
    if safe is not None:
        return round((safe.top + 0.02) * height)
    return round((0.12 if height > width else 0.06) * height)


def _hook_bottom_margin(layout: CaptionLayout) -> int:
    # Above the caption line with room for a two-line caption: the hook and the first captions share the opening.
    return layout.margin_v + round(2.6 * layout.font_size)


def _hook_style(width: int, height: int, layout: CaptionLayout, options: CaptionOptions, look: CaptionLook) -> str:
    """Bold text on an opaque box (BorderStyle 3), centred, at the top below the platforms' top bar or just
    above the captions."""
    size = hook_font_size(width, height)
    if options.hook_at == "bottom":
        alignment, margin_v = 2, _hook_bottom_margin(layout)
    else:
        alignment, margin_v = 8, _hook_top_margin(width, height, options.safe)
    return (
        f"Style: Hook,{look.font},{size},{look.hook_text},{look.hook_text},{look.hook_box},{look.hook_box},"
        f"-1,0,0,0,100,100,0,0,3,{max(4, round(size * 0.25))},0,{alignment},"
        f"{round(0.08 * width)},{round(0.08 * width)},{margin_v},1"
    )


def caption_layout(width: int, height: int, safe: SafeArea | None = None) -> CaptionLayout:
    """Font size and margins for a frame: text sized to the short side, placed above the platform's bottom UI.

    Without a platform (``safe`` None) the margins are the union of TikTok's, Shorts' and Reels' UI.
    """
    safe = safe or generic_safe_area(width, height)
    font_size = round(0.065 * min(width, height))
    return CaptionLayout(
        font_size=font_size,
        outline=max(2, round(font_size * 0.10)),
        shadow=max(1, round(font_size * 0.03)),
        margin_h=math.ceil(max(safe.left, safe.right) * width),
        # The baseline sits a little above the bottom UI (account line, caption, music ticker).
        margin_v=round((safe.bottom + 0.04) * height),
        margin_l=math.ceil(safe.left * width),
        margin_r=math.ceil(safe.right * width),
    )


def decorate(words: list[CaptionWord], options: CaptionOptions, hook: str = "") -> list[CaptionWord]:
    """Mark the words that carry the point (numbers, long content words, the hook's words) and add the
    emoji of keywords that have one; at most one emoji per sentence so the line stays readable."""
    hook_words = {normalise_keyword(word) for word in hook.split()} - STOPWORDS
    out: list[CaptionWord] = []
    emoji_used = False
    for word in words:
        key = normalise_keyword(word.text)
        text = word.text
        emoji = KEYWORD_EMOJI.get(key) if options.keyword_emoji else None
        if emoji and not emoji_used:
            text = f"{text} {emoji}"
            emoji_used = True
        if word.text.endswith(SENTENCE_END):
            emoji_used = False
        emphasis = options.keyword_emphasis and is_keyword(key, word.text, hook_words)
        out.append(CaptionWord(text=text, start_s=word.start_s, end_s=word.end_s, emphasis=emphasis))
    return out


def is_keyword(key: str, text: str, hook_words: set[str]) -> bool:
    """A word that carries the point: a number, a word the hook repeats, an emoji keyword, or a long content word."""
    if not key or key in STOPWORDS:
        return False
    return (
        any(ch.isdigit() for ch in text) or key in hook_words or key in KEYWORD_EMOJI or len(key) >= KEYWORD_MIN_LETTERS
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


def group_words(words: list[CaptionWord], max_words: int = MAX_GROUP_WORDS) -> list[list[CaptionWord]]:
    """Short caption lines: at most ``max_words`` words / 18 characters, broken at sentence ends and pauses."""
    groups: list[list[CaptionWord]] = []
    current: list[CaptionWord] = []
    for word in words:
        if current:
            chars = sum(len(w.text) for w in current) + len(current) + len(word.text)
            pause = word.start_s - current[-1].end_s
            if (
                len(current) >= max_words
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


@dataclass(frozen=True)
class _LineFormat:
    """Override tags of one caption line: its fit-to-width scale, the look's colours, the emphasised words."""

    scale: int  # percent; below 100 when the line would overflow the safe area (a very long word)
    look: CaptionLook

    @classmethod
    def fit(cls, group: list[CaptionWord], layout: CaptionLayout, width: int, look: CaptionLook) -> _LineFormat:
        usable = width - layout.margin_l - layout.margin_r - 2 * layout.outline
        chars = sum(len(word.text) for word in group) + len(group) - 1
        emphasis = EMPHASIS_SCALE if any(word.emphasis for word in group) else 1.0
        estimate = chars * CHAR_WIDTH_EM * layout.font_size * max(emphasis, 1.1)
        return cls(scale=min(100, math.floor(100 * usable / max(1.0, estimate))), look=look)

    def _size(self, factor: float = 1.0) -> str:
        return rf"\fscx{round(self.scale * factor)}\fscy{round(self.scale * factor)}"

    @property
    def start(self) -> str:
        """The tags opening the line (nothing at full size), also what every reset returns to."""
        return "" if self.scale == 100 else "{" + self._size() + "}"

    @property
    def reset(self) -> str:
        return RESET_TAG if self.scale == 100 else "{\\r" + self._size() + "}"

    def word(self, word: CaptionWord) -> str:
        """A word not being spoken: plain, or in the emphasis colour and size."""
        if not word.emphasis:
            return word.text
        return "{" + rf"\c{_bgr(self.look.emphasis)}" + self._size(EMPHASIS_SCALE) + "}" + word.text + self.reset

    def active_tags(self, word: CaptionWord, extra: str = "") -> str:
        factor = 1.2 if word.emphasis else 1.1
        return "{" + rf"\c{_bgr(self.look.highlight)}" + self._size(factor) + extra + "}"

    def active(self, word: CaptionWord) -> str:
        return self.active_tags(word) + word.text + self.reset

    def hidden(self, word: CaptionWord) -> str:
        # Hidden words keep their emphasis size so the line is laid out once and never shifts as they appear.
        size = self._size(EMPHASIS_SCALE) if word.emphasis else ""
        return "{" + r"\alpha&HFF&" + size + "}" + word.text + self.reset

    def line(self, parts: list[str]) -> str:
        return self.start + " ".join(parts)


def _bgr(ass_colour: str) -> str:
    """``&HAABBGGRR`` style colour as the ``&HBBGGRR&`` an override tag takes."""
    return f"&H{ass_colour[-6:]}&"


def _dialogue(start_s: float, end_s: float, text: str) -> str | None:
    if _centis(end_s) <= _centis(start_s):
        return None  # shorter than a centisecond: libass would never show it
    return f"Dialogue: 0,{format_ass_time(start_s)},{format_ass_time(end_s)},Caption,,0,0,0,,{text}\n"


def _highlight_events(group: list[CaptionWord], line_end: float, line: _LineFormat) -> list[str]:
    events = []
    for active, (start, end) in enumerate(_active_spans(group, line_end)):
        parts = [line.active(w) if i == active else line.word(w) for i, w in enumerate(group)]
        event = _dialogue(start, end, line.line(parts))
        if event:
            events.append(event)
    return events


def _pop_in_events(group: list[CaptionWord], line_end: float, line: _LineFormat) -> list[str]:
    # Words not yet spoken are drawn fully transparent rather than left out, so the line is laid out once
    # and the words already on screen never shift as new ones appear.
    events = []
    for active, (start, end) in enumerate(_active_spans(group, line_end)):
        parts = []
        for i, word in enumerate(group):
            if i < active:
                parts.append(line.word(word))
            elif i == active:
                factor = 1.2 if word.emphasis else 1.1
                grow = rf"\fscx{round(line.scale * 0.7)}\fscy{round(line.scale * 0.7)}\t(0,{POP_IN_MS},"
                grow += rf"\fscx{round(line.scale * factor)}\fscy{round(line.scale * factor)})"
                parts.append("{" + rf"\c{_bgr(line.look.highlight)}" + grow + "}" + word.text + line.reset)
            else:
                parts.append(line.hidden(word))
        event = _dialogue(start, end, line.line(parts))
        if event:
            events.append(event)
    return events


def _bounce_events(group: list[CaptionWord], line_end: float, line: _LineFormat) -> list[str]:
    # The spoken word jumps: stretched tall, squashed, then settled, over three short phases from its start.
    events = []
    for active, (start, end) in enumerate(_active_spans(group, line_end)):
        parts = []
        for i, word in enumerate(group):
            if i != active:
                parts.append(line.word(word))
                continue
            base = round(line.scale * (1.2 if word.emphasis else 1.1))
            phases = (
                rf"\fscy{round(base * 1.35)}\t(0,{BOUNCE_MS},\fscy{round(base * 0.85)})"
                rf"\t({BOUNCE_MS},{2 * BOUNCE_MS},\fscy{base})"
            )
            tags = "{" + rf"\c{_bgr(line.look.highlight)}\fscx{base}" + phases + "}"
            parts.append(tags + word.text + line.reset)
        event = _dialogue(start, end, line.line(parts))
        if event:
            events.append(event)
    return events


def _typewriter_events(group: list[CaptionWord], line_end: float, line: _LineFormat) -> list[str]:
    # One event per line; each character turns from transparent to opaque at its moment, spread evenly over its
    # word's span, so the text types itself in time with the speech and the layout never moves.
    line_start = group[0].start_s
    parts = []
    for word, (start, end) in zip(group, _active_spans(group, line_end), strict=True):
        chars = _ass_chars(word.text)
        step = (end - start) / max(1, len(chars))
        opening = "{" + rf"\c{_bgr(line.look.emphasis)}" + line._size(EMPHASIS_SCALE) + "}" if word.emphasis else ""
        typed = []
        for index, char in enumerate(chars):
            at_ms = round((start - line_start + index * step) * 1000)
            typed.append("{" + rf"\alpha&HFF&\t({at_ms},{at_ms + 1},\alpha&H00&)" + "}" + char)
        parts.append(opening + "".join(typed) + (line.reset if word.emphasis else ""))
    event = _dialogue(line_start, line_end, line.line(parts))
    return [event] if event else []


def _ass_chars(text: str) -> list[str]:
    """Characters of escaped ASS text, an escape (``\\{``, ``\\}``, backslash + word joiner) kept as one."""
    return re.findall(r"\\[{}]|\\\u2060|.", text)


def _karaoke_events(group: list[CaptionWord], line_end: float, line: _LineFormat) -> list[str]:
    # One event per line; each \k lasts until the next word starts, counted in the same truncated centiseconds
    # as the event times so the syllables add up to exactly the event's length.
    parts = []
    for word, (start, end) in zip(group, _active_spans(group, line_end), strict=True):
        k_tag = rf"{{\k{max(0, _centis(end) - _centis(start))}}}"
        parts.append(k_tag + (line.word(word) if word.emphasis else word.text))
    event = _dialogue(group[0].start_s, line_end, line.line(parts))
    return [event] if event else []


_EVENT_BUILDERS: dict[str, Callable[[list[CaptionWord], float, _LineFormat], list[str]]] = {
    "highlight_word": _highlight_events,
    "karaoke": _karaoke_events,
    "pop_in": _pop_in_events,
    "typewriter": _typewriter_events,
    "bounce": _bounce_events,
}


def _header(width: int, height: int, layout: CaptionLayout, style: str, look: CaptionLook) -> str:
    # Karaoke fills from SecondaryColour to PrimaryColour as each \k elapses, so its primary is the highlight.
    primary, secondary = (look.highlight, look.text) if style == "karaoke" else (look.text, look.highlight)
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
        f"Style: Caption,{look.font},{layout.font_size},{primary},{secondary},{BLACK},{SHADOW},-1,0,0,0,100,100,0,0,1,"
        f"{layout.outline},{layout.shadow},2,{layout.margin_l},{layout.margin_r},{layout.margin_v},1\n"
        "\n"
        "[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
