"""Keywords of a caption line: which words carry the point, and the emoji some of them get.

The symbols are the ones the shipped DejaVu fonts draw (Miscellaneous Symbols and Dingbats, monochrome): libass
draws glyph outlines, so a colour-bitmap emoji font would come out blank, and these need no extra font at all.
"""

from __future__ import annotations

import unicodedata

KEYWORD_MIN_LETTERS = 7  # shorter words are mostly function words or filler in speech

_EMOJI_WORDS: dict[str, tuple[str, ...]] = {
    "\u2764": ("love", "loved", "loves", "heart", "hearts"),  # ❤
    "\u2605": ("star", "stars", "best", "amazing", "incredible", "awesome"),  # ★
    "\u26a0": ("warning", "danger", "dangerous", "careful", "mistake", "mistakes", "risk", "risky"),  # ⚠
    "\u26a1": ("power", "powerful", "energy", "fast", "faster", "quick", "quickly", "electric"),  # ⚡
    "\u2714": ("yes", "correct", "done"),  # ✔
    "\u2718": ("wrong", "false", "fail", "failed"),  # ✘
    "\u2708": ("travel", "flight", "fly", "flying", "plane", "airport"),  # ✈
    "\u266b": ("music", "song", "songs", "sing", "singing"),  # ♫
    "\u2600": ("sun", "sunny", "summer", "morning"),  # ☀
    "\u260e": ("phone", "phones"),  # ☎
    "\u2615": ("coffee", "tea"),  # ☕
    "\u263a": ("happy", "smile", "fun", "funny", "laugh"),  # ☺
    "\u2639": ("sad", "unhappy", "upset"),  # ☹
    "\u2709": ("mail", "email", "letter", "message"),  # ✉
    "\u270c": ("win", "won", "winner", "victory", "peace"),  # ✌
    "\u270d": ("write", "writing", "wrote", "written"),  # ✍
    "\u2620": ("dead", "death", "deadly", "poison"),  # ☠
    "\u231a": ("clock", "hour", "hours", "minute", "minutes", "deadline"),  # ⌚
    "\u267b": ("recycle", "recycling"),  # ♻
    "\u2691": ("goal", "goals", "finish", "target"),  # ⚑
}
KEYWORD_EMOJI: dict[str, str] = {word: emoji for emoji, words in _EMOJI_WORDS.items() for word in words}

_STOPWORD_TEXT = """a about after again all also am an and any are as at be because been before being but by
    can could did do
    does doing down during each few for from further had has have having he her here hers him his how i if in into
    is it its itself just me more most my no nor not now of off on once only or other our out over own same she
    should so some such than that the their them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours like um uh yeah okay
    really actually basically literally thing things something gonna wanna know think going"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def normalise_keyword(text: str) -> str:
    """Lower-cased letters and digits of a caption word (escapes, accents on the compare side kept)."""
    return "".join(ch for ch in unicodedata.normalize("NFC", text.casefold()) if ch.isalnum())
