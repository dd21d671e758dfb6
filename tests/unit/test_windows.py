"""Window enumeration, suppression and the candidate selector's guarantees (bounds, word snapping, ids)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from clipped.select import NoCandidatesError, select_candidates
from clipped.select.suppression import suppress_overlaps
from clipped.select.windows import spans_within
from clipped.types import AudioFeatures, ClipSettings, Scenes, Segment, Transcript, Word

LINES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "Why do you never see this mistake?",
    "Here's the key lesson from 1969.",
    "and then we went home.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "Four hours of steady work faced us.",
]


def make_transcript(sentence_count: int, *, seed: int = 0, start: float = 0.5) -> Transcript:
    rnd = random.Random(seed)
    words, t = [], start
    for _ in range(sentence_count):
        for token in rnd.choice(LINES).split():
            length = 0.25 + 0.1 * rnd.random()
            words.append(Word(word=token, start_s=round(t, 3), end_s=round(t + length, 3)))
            t += length + 0.08
        t += 0.3 + 0.5 * rnd.random()
    segment = Segment(start_s=words[0].start_s, end_s=words[-1].end_s, text="", words=words)
    return Transcript(language="en", duration_s=round(t + 0.5, 3), model="test", segments=[segment])


def flat_audio(duration_s: float, *, hop_s: float = 0.5) -> AudioFeatures:
    hops = int(duration_s / hop_s)
    levels = [-20.0 + 3.0 * np.sin(i / 7.0) for i in range(hops)]
    return AudioFeatures(hop_s=hop_s, rms_db=levels, peaks_s=[], silences=[], mean_db=-20.0, is_silent=False)


def empty_transcript(duration_s: float) -> Transcript:
    return Transcript(language="en", duration_s=duration_s, model="test", segments=[])


def overlap_share(a, b) -> float:
    overlap = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
    return max(0.0, overlap) / min(a.duration_s, b.duration_s)


def test_spans_within_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    lengths = rng.uniform(0.5, 9.0, 120)
    gaps = rng.uniform(0.0, 2.0, 120)
    starts = np.cumsum(gaps + np.concatenate(([0.0], lengths[:-1])))
    ends = starts + lengths
    first, last = spans_within(starts, ends, 15.0, 40.0)
    expected = [
        (i, j) for i, j in itertools.combinations_with_replacement(range(120), 2) if 15.0 <= ends[j] - starts[i] <= 40.0
    ]
    assert list(zip(first.tolist(), last.tolist(), strict=True)) == expected


def test_spans_within_single_unit_and_empty() -> None:
    first, last = spans_within(np.array([0.0]), np.array([20.0]), 15.0, 30.0)
    assert (first.tolist(), last.tolist()) == ([0], [0])
    first, _ = spans_within(np.array([]), np.array([]), 15.0, 30.0)
    assert len(first) == 0


def test_suppression_keeps_best_and_limits_overlap() -> None:
    start = np.array([0.0, 5.0, 12.0, 30.0, 31.0])
    end = np.array([20.0, 25.0, 32.0, 50.0, 60.0])
    score = np.array([0.9, 0.95, 0.5, 0.7, 0.8])
    kept = suppress_overlaps(start, end, score, keep=10)
    assert kept == [1, 4]  # 0 overlaps 1 by 75 %, 3 overlaps 4 by 95 %, 2 overlaps 1 by 65 %
    assert suppress_overlaps(start, end, score, keep=1) == [1]


def test_candidates_are_within_bounds_and_snapped_to_words() -> None:
    transcript = make_transcript(80)
    settings = ClipSettings(min_duration_s=15, max_duration_s=45, max_clips=5)
    candidates = select_candidates(
        transcript, flat_audio(transcript.duration_s), Scenes(cuts_s=[], duration_s=transcript.duration_s), settings
    )
    assert 0 < len(candidates) <= 15
    words = transcript.words
    starts = {w.start_s: i for i, w in enumerate(words)}
    for candidate in candidates:
        assert settings.min_duration_s <= candidate.end_s - candidate.start_s <= settings.max_duration_s
        assert candidate.start_s == candidate.words[0].start_s
        assert candidate.end_s == candidate.words[-1].end_s
        first = starts[candidate.start_s]
        assert candidate.words == words[first : first + len(candidate.words)]
        assert candidate.text == " ".join(w.word for w in candidate.words)
        assert candidate.words[-1].word.endswith((".", "?", "!"))
        assert 0.0 <= candidate.score <= 1.0
        assert set(candidate.scores) == {"hook", "flow", "value", "energy"}
        assert candidate.title and len(candidate.title) <= 60
        assert candidate.reason
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)


def test_kept_candidates_overlap_at_most_half() -> None:
    transcript = make_transcript(200, seed=5)
    candidates = select_candidates(
        transcript,
        flat_audio(transcript.duration_s),
        Scenes(cuts_s=[], duration_s=transcript.duration_s),
        ClipSettings(max_clips=10),
    )
    assert len(candidates) > 3
    for a, b in itertools.combinations(candidates, 2):
        assert overlap_share(a, b) <= 0.5


def test_ids_are_deterministic_and_unique() -> None:
    transcript = make_transcript(60, seed=2)
    args = (transcript, flat_audio(transcript.duration_s), Scenes(cuts_s=[], duration_s=transcript.duration_s))
    first = select_candidates(*args, ClipSettings())
    second = select_candidates(*args, ClipSettings())
    assert [c.model_dump() for c in first] == [c.model_dump() for c in second]
    for candidate in first:
        assert candidate.candidate_id == f"c{round(candidate.start_s * 1000)}-{round(candidate.end_s * 1000)}"
    assert len({c.candidate_id for c in first}) == len(first)


def test_keep_limits_the_count() -> None:
    transcript = make_transcript(120, seed=1)
    args = (transcript, flat_audio(transcript.duration_s), Scenes(cuts_s=[], duration_s=transcript.duration_s))
    assert len(select_candidates(*args, ClipSettings(), keep=2)) == 2


def test_short_source_yields_the_whole_speech_window() -> None:
    transcript = make_transcript(6, seed=4)  # ~17-20 s of speech
    speech_s = transcript.words[-1].end_s - transcript.words[0].start_s
    assert 15.0 < speech_s < 90.0
    candidates = select_candidates(
        transcript,
        flat_audio(transcript.duration_s),
        Scenes(cuts_s=[], duration_s=transcript.duration_s),
        ClipSettings(min_duration_s=15, max_duration_s=90),
    )
    assert len(candidates) >= 1
    assert max(c.duration_s for c in candidates) >= 15.0


def test_no_speech_windows_come_from_audio_and_scenes() -> None:
    duration = 300.0
    audio = flat_audio(duration)
    audio = audio.model_copy(update={"peaks_s": [42.25, 130.75], "silences": [(100.0, 103.0)]})
    scenes = Scenes(cuts_s=[30.0, 61.5, 95.0, 150.0, 152.0, 240.0], duration_s=duration)
    settings = ClipSettings(min_duration_s=20, max_duration_s=60, max_clips=4)
    candidates = select_candidates(empty_transcript(duration), audio, scenes, settings)
    assert 0 < len(candidates) <= 12
    for candidate in candidates:
        assert 20.0 <= candidate.end_s - candidate.start_s <= 60.0
        assert candidate.start_s >= 0.0 and candidate.end_s <= duration
        assert candidate.reason.startswith("no speech: chosen from audio energy and scene changes")
        assert candidate.words == [] and candidate.text == ""
        assert all(0.0 <= v <= 1.0 for v in candidate.scores.values())
    for a, b in itertools.combinations(candidates, 2):
        assert overlap_share(a, b) <= 0.5


def test_no_speech_short_source_yields_the_whole_video() -> None:
    candidates = select_candidates(
        empty_transcript(40.0),
        flat_audio(40.0),
        Scenes(cuts_s=[], duration_s=40.0),
        ClipSettings(min_duration_s=15, max_duration_s=90),
    )
    assert (candidates[0].start_s, candidates[0].end_s) == (0.0, 40.0)


def test_too_few_words_fall_back_to_audio_and_keep_the_words_inside() -> None:
    words = [Word(word="Hello", start_s=10.0, end_s=10.4), Word(word="there.", start_s=10.5, end_s=10.9)]
    transcript = Transcript(
        language="en", duration_s=30.0, model="t", segments=[Segment(start_s=10, end_s=10.9, text="", words=words)]
    )
    candidates = select_candidates(
        transcript, flat_audio(30.0), Scenes(cuts_s=[], duration_s=30.0), ClipSettings(min_duration_s=15)
    )
    assert candidates[0].reason.startswith("no speech")
    assert candidates[0].text == "Hello there."


def test_too_short_video_raises_a_clear_error() -> None:
    with pytest.raises(NoCandidatesError, match=r"video is 9\.8 s long, shorter than the 15 s minimum clip duration"):
        select_candidates(
            empty_transcript(9.8), flat_audio(9.8), Scenes(cuts_s=[], duration_s=9.8), ClipSettings(min_duration_s=15)
        )


def test_too_short_speech_video_raises() -> None:
    transcript = make_transcript(2)
    duration = transcript.duration_s
    assert duration < 15
    with pytest.raises(NoCandidatesError):
        select_candidates(transcript, flat_audio(duration), Scenes(cuts_s=[], duration_s=duration), ClipSettings())


def test_contradictory_bounds_raise() -> None:
    with pytest.raises(NoCandidatesError, match="exceeds"):
        select_candidates(
            empty_transcript(100.0),
            flat_audio(100.0),
            Scenes(cuts_s=[], duration_s=100.0),
            ClipSettings(min_duration_s=60, max_duration_s=30),
        )


def test_one_hour_transcript_completes() -> None:
    transcript = make_transcript(1100, seed=9)
    assert transcript.duration_s > 3300
    cuts = [float(t) for t in np.arange(17.0, transcript.duration_s, 41.0)]
    candidates = select_candidates(
        transcript,
        flat_audio(transcript.duration_s),
        Scenes(cuts_s=cuts, duration_s=transcript.duration_s),
        ClipSettings(),
    )
    assert len(candidates) == 15


def test_no_speech_with_equal_bounds_off_the_hop_grid() -> None:
    settings = ClipSettings(min_duration_s=15.3, max_duration_s=15.3)
    candidates = select_candidates(
        empty_transcript(100.0), flat_audio(100.0), Scenes(cuts_s=[], duration_s=100.0), settings
    )
    assert [(c.start_s, c.end_s) for c in candidates] == [(0.0, 15.3)]
