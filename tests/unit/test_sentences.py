"""Sentence splitting of ASR words: punctuation, pauses, and run-on text without either."""

from __future__ import annotations

import itertools

from clipped.select.sentences import MAX_SENTENCE_WORDS, join_words, split_sentences
from clipped.types import Word


def timed_words(text: str, *, start: float = 0.0, word_s: float = 0.3, gap_s: float = 0.1) -> list[Word]:
    words, t = [], start
    for token in text.split():
        words.append(Word(word=token, start_s=round(t, 3), end_s=round(t + word_s, 3)))
        t += word_s + gap_s
    return words


def assert_covers(words: list[Word], sentences) -> None:
    assert sentences[0].word_start == 0
    assert sentences[-1].word_end == len(words)
    for before, after in itertools.pairwise(sentences):
        assert before.word_end == after.word_start
    for sentence in sentences:
        assert sentence.start_s == words[sentence.word_start].start_s
        assert sentence.end_s == words[sentence.word_end - 1].end_s


def test_splits_on_terminal_punctuation() -> None:
    words = timed_words("Hello there. How are you? I am fine! Wait… what happened")
    sentences = split_sentences(words)
    assert [s.text for s in sentences] == ["Hello there.", "How are you?", "I am fine!", "Wait…", "what happened"]
    assert_covers(words, sentences)


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    sentences = split_sentences(timed_words("Dr. Smith met J. Doe at 3 p.m. today. Then they left."))
    assert [s.text for s in sentences] == ["Dr. Smith met J. Doe at 3 p.m. today.", "Then they left."]


def test_closing_quotes_after_punctuation_still_end_the_sentence() -> None:
    sentences = split_sentences(timed_words('He said "stop." She stopped.'))
    assert len(sentences) == 2


def test_long_pause_splits_unpunctuated_speech() -> None:
    words = timed_words("so this is the first part") + timed_words("and this is the second", start=10.0)
    sentences = split_sentences(words)
    assert [s.text for s in sentences] == ["so this is the first part", "and this is the second"]
    assert_covers(words, sentences)


def test_short_pause_does_not_split() -> None:
    words = timed_words("one two three", gap_s=0.9)
    assert len(split_sentences(words)) == 1


def test_run_on_text_is_cut_to_the_maximum_length() -> None:
    words = timed_words(" ".join(f"word{i}" for i in range(200)))
    sentences = split_sentences(words)
    assert len(sentences) > 200 / MAX_SENTENCE_WORDS
    assert all(s.word_end - s.word_start <= MAX_SENTENCE_WORDS for s in sentences)
    assert all(s.end_s - s.start_s <= 15.0 for s in sentences)
    assert_covers(words, sentences)


def test_forced_cut_prefers_a_comma() -> None:
    text = " ".join(["alpha"] * 20) + ", " + " ".join(["beta"] * 19)
    sentences = split_sentences(timed_words(text))
    assert len(sentences) == 2
    assert sentences[0].text.endswith(",")


def test_forced_cut_prefers_the_longest_pause() -> None:
    words = timed_words(" ".join(["alpha"] * 14)) + timed_words(" ".join(["beta"] * 26), start=5.95)
    sentences = split_sentences(words)
    assert sentences[0].word_end == 14


def test_empty_input() -> None:
    assert split_sentences([]) == []


def test_whisper_style_words_keep_their_own_spacing() -> None:
    words = [
        Word(word=" He", start_s=0.0, end_s=0.2),
        Word(word=" was", start_s=0.3, end_s=0.5),
        Word(word=" cold", start_s=0.6, end_s=0.8),
        Word(word="-hearted.", start_s=0.8, end_s=1.1),
    ]
    assert join_words(words) == "He was cold-hearted."
    assert split_sentences(words)[0].text == "He was cold-hearted."
    assert join_words([Word(word="no", start_s=0, end_s=1), Word(word="spaces", start_s=1, end_s=2)]) == "no spaces"
