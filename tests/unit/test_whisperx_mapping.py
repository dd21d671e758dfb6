"""WhisperX's aligned output mapped to our transcript schema, and the backend's error when WhisperX is missing."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from clipped.types import Segment, Transcript
from clipped.understand.transcription import segment_on_timeline
from clipped.understand.whisperx_segments import segments_from_whisperx
from clipped_resources.asr_whisperx import AsrBackendUnavailableError, WhisperXAsr
from clipped_resources.model_store import ModelNotAvailableError

SPEECH = Path(__file__).resolve().parents[1] / "data" / "librivox_austen_5utt.wav"

# Shaped like whisperx.align(...)["segments"] for "In 1811, the Dashwoods had lived at Norland Park for 10 years."
# split by its sentence splitter: the numerals have no alignable characters, so no start/end/score.
ALIGNED = [
    {
        "start": 0.512,
        "end": 3.901,
        "text": " In 1811, the Dashwoods had lived at Norland Park",
        "avg_logprob": -0.21,
        "words": [
            {"word": "In", "start": 0.512, "end": 0.633, "score": 0.871},
            {"word": "1811,"},
            {"word": "the", "start": 1.402, "end": 1.483, "score": 0.912},
            {"word": "Dashwoods", "start": 1.523, "end": 2.104, "score": 0.764},
            {"word": "had", "start": 2.144, "end": 2.265, "score": 0.993},
            {"word": "lived", "start": 2.305, "end": 2.587, "score": 0.842},
            {"word": "at", "start": 2.627, "end": 2.708, "score": 0.775},
            {"word": "Norland", "start": 2.748, "end": 3.229, "score": 0.681},
            {"word": "Park", "start": 3.269, "end": 3.901, "score": 0.905},
        ],
    },
    {
        "start": 4.02,
        "end": 5.9,
        "text": "for 10 years 2",
        "words": [
            {"word": "for", "start": 4.02, "end": 4.2, "score": 0.95},
            {"word": "10"},
            {"word": "years", "start": 4.9, "end": 5.3, "score": 0.88},
            {"word": "2", "start": float("nan"), "end": float("nan"), "score": float("nan")},
        ],
    },
]


def on_timeline(
    raw_segments: list[dict], *, offset_s: float, previous_end: float, duration_s: float
) -> tuple[list[Segment], float]:
    """WhisperX's segments placed on the source's timeline as the chunk loop places them."""
    segments: list[Segment] = []
    for decoded in segments_from_whisperx(raw_segments):
        segment, previous_end = segment_on_timeline(
            decoded, offset_s=offset_s, previous_end=previous_end, duration_s=duration_s
        )
        if segment is not None:
            segments.append(segment)
    return segments, previous_end


def test_aligned_words_keep_their_times_and_scores() -> None:
    segments, last_end = on_timeline(ALIGNED, offset_s=0.0, previous_end=0.0, duration_s=60.0)
    first = segments[0]
    assert first.text == "In 1811, the Dashwoods had lived at Norland Park"
    assert [w.word for w in first.words][:4] == ["In", "1811,", "the", "Dashwoods"]
    dashwoods = first.words[3]
    assert (dashwoods.start_s, dashwoods.end_s, dashwoods.probability) == (1.523, 2.104, 0.764)
    assert (first.start_s, first.end_s) == (0.512, 3.901)
    assert last_end == pytest.approx(5.9)


def test_unaligned_numerals_sit_between_their_aligned_neighbours() -> None:
    segments, _ = on_timeline(ALIGNED, offset_s=0.0, previous_end=0.0, duration_s=60.0)
    year = segments[0].words[1]
    assert year.word == "1811,"
    assert (year.start_s, year.end_s) == (0.633, 1.402)  # from the end of "In" to the start of "the"
    assert year.probability == 0.0
    ten = segments[1].words[1]
    assert (ten.start_s, ten.end_s, ten.probability) == (4.2, 4.9, 0.0)
    trailing = segments[1].words[-1]  # NaN times at a segment's end: up to the segment's own end
    assert trailing.word == "2" and (trailing.start_s, trailing.end_s) == (5.3, 5.9)


def test_a_run_of_unaligned_words_shares_the_gap_by_length() -> None:
    raw = [
        {
            "start": 10.0,
            "end": 14.0,
            "text": "call 555 0100 now",
            "words": [
                {"word": "call", "start": 10.0, "end": 10.5, "score": 0.9},
                {"word": "555"},
                {"word": "0100"},
                {"word": "now", "start": 12.25, "end": 12.6, "score": 0.8},
            ],
        }
    ]
    (segment,), _ = on_timeline(raw, offset_s=0.0, previous_end=0.0, duration_s=60.0)
    _, first, second, _ = segment.words
    assert (first.start_s, first.end_s) == pytest.approx((10.5, 11.25))  # 3 of 7 characters of 1.75 s
    assert (second.start_s, second.end_s) == pytest.approx((11.25, 12.25))


def test_a_segment_the_aligner_gave_up_on_is_spread_over_its_vad_bounds() -> None:
    raw = [{"start": 20.0, "end": 21.0, "text": " 42 17", "words": []}]
    (segment,), _ = on_timeline(raw, offset_s=0.0, previous_end=0.0, duration_s=60.0)
    assert [(w.word, w.start_s, w.end_s) for w in segment.words] == [("42", 20.0, 20.5), ("17", 20.5, 21.0)]


def test_words_with_no_time_anywhere_are_dropped_not_invented() -> None:
    raw = [{"text": "1990", "words": [{"word": "1990"}]}, {"start": None, "end": math.nan, "text": "", "words": []}]
    segments, last_end = on_timeline(raw, offset_s=0.0, previous_end=3.0, duration_s=60.0)
    assert segments == [] and last_end == 3.0


def test_chunk_offset_is_added_and_times_clamped_to_the_timeline() -> None:
    raw = [
        {
            "start": 0.0,
            "end": 2.0,
            "text": "back again end",
            "words": [
                {"word": "back", "start": 0.1, "end": 0.4, "score": 0.9},  # before the previous chunk's last word
                {"word": "again", "start": 0.5, "end": 0.9, "score": 0.9},
                {"word": " ", "start": 0.9, "end": 1.0, "score": 0.9},
                {"word": "end", "start": 1.5, "end": 2.5, "score": 0.9},  # past the audio's end
            ],
        }
    ]
    (segment,), last_end = on_timeline(raw, offset_s=600.0, previous_end=600.3, duration_s=601.8)
    assert [(w.word, w.start_s, w.end_s) for w in segment.words] == [
        ("back", 600.3, 600.4),
        ("again", 600.5, 600.9),
        ("end", 601.5, 601.8),
    ]
    assert last_end == pytest.approx(601.8)


def test_mapped_segments_make_a_valid_transcript() -> None:
    segments, _ = on_timeline(ALIGNED, offset_s=0.0, previous_end=0.0, duration_s=6.0)
    transcript = Transcript(language="en", duration_s=6.0, model="whisperx:large-v2", segments=segments)
    again = Transcript.model_validate_json(transcript.model_dump_json())
    starts = [w.start_s for w in again.words]
    assert starts == sorted(starts) and len(again.words) == 13
    assert all(w.start_s <= w.end_s <= 6.0 for w in again.words)


def test_whisperx_backend_without_the_package_is_a_clear_error() -> None:
    pytest.importorskip("ctranslate2")
    try:
        import whisperx  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("whisperx is installed here")
    with pytest.raises(AsrBackendUnavailableError, match=r"needs the package 'whisperx'.*gpu.*CLIPPED_ASR_BACKEND"):
        WhisperXAsr(device="cpu").transcribe(SPEECH)
    assert issubclass(AsrBackendUnavailableError, ModelNotAvailableError)
