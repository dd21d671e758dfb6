"""An editor's trim snaps to words; corrected caption text keeps the speech's timing."""

from __future__ import annotations

import pytest

from clipped.editing import ClipEditError, retext_words, snap_window
from clipped.types import Word


def words(*spec: tuple[str, float, float]) -> list[Word]:
    return [Word(word=text, start_s=start, end_s=end) for text, start, end in spec]


SAID = words(("The", 1.0, 1.2), ("merch", 1.3, 1.6), ("can", 1.6, 1.8), ("be", 1.8, 1.9), ("sold", 2.0, 2.4))


def test_a_trim_lands_on_word_boundaries() -> None:
    start, end, inside = snap_window(SAID, 1.25, 2.1)  # mid-gap start, mid-word end
    assert (start, end) == (1.3, 2.4)
    assert [w.word for w in inside] == ["merch", "can", "be", "sold"]
    with pytest.raises(ClipEditError, match="no spoken word"):
        snap_window(SAID, 3.0, 4.0)
    with pytest.raises(ClipEditError, match="must come after"):
        snap_window(SAID, 2.0, 1.0)


def test_a_misheard_phrase_takes_the_time_of_what_it_replaces() -> None:
    fixed = retext_words(SAID, "The merchant sold")
    assert [(w.word, w.start_s, w.end_s) for w in fixed] == [
        ("The", 1.0, 1.2),
        ("merchant", 1.3, 1.9),  # over "merch can be"
        ("sold", 2.0, 2.4),
    ]


def test_unchanged_words_keep_their_times_and_edits_stay_in_the_span() -> None:
    assert retext_words(SAID, "The merch can be sold") == SAID
    split = retext_words(words(("gonna", 0.0, 0.4)), "going to")
    assert [(w.word, w.start_s, w.end_s) for w in split] == [("going to", 0.0, 0.4)]
    dropped = retext_words(SAID, "The merch sold")
    assert [w.word for w in dropped] == ["The", "merch", "sold"]
    added = retext_words(SAID, "Well The merch can be sold today")
    assert added[0].word == "Well The" and added[-1].word == "sold today" and added[-1].end_s == 2.4
    cased = retext_words(SAID, "the Merch can be sold!")
    assert [w.word for w in cased][:2] == ["the", "Merch"] and cased[-1].word == "sold!"
    with pytest.raises(ClipEditError, match="empty"):
        retext_words(SAID, "   ")
