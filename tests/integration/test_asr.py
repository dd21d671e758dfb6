"""Whisper through the ASR resource on real human speech, with the models that ship as packages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clipped.media.ffmpeg import run_ffmpeg
from clipped.types import Transcript
from clipped.understand.asr_audio import WHISPER_SAMPLE_RATE, load_audio_for_asr
from clipped_resources.asr import FasterWhisperAsr
from clipped_resources.model_store import ModelNotAvailableError, assemble_whisper_base
from tests.support.speech_reference import word_error_rate

DATA = Path(__file__).resolve().parents[1] / "data"
SPEECH = DATA / "librivox_austen_5utt.wav"
REFERENCE = DATA / "librivox_austen_5utt.txt"
SPEECH_DURATION_S = 24.73


def test_word_error_rate_counts_edits() -> None:
    assert word_error_rate("the cat sat", "The cat, sat.") == 0.0
    assert word_error_rate("the cat sat", "the bat sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "the cat") == pytest.approx(1 / 3)
    assert word_error_rate("mister ill disposed", "Mr. ill-disposed") == 0.0


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def tiny_run() -> tuple[Transcript, list[float]]:
    progress: list[float] = []
    asr = FasterWhisperAsr(model="tiny.en", cpu_threads=2)
    return asr.transcribe(SPEECH, on_progress=progress.append), progress


@pytest.fixture(scope="module")
def base_transcript(model_cache: Path) -> Transcript:
    return FasterWhisperAsr(model="base", cpu_threads=2, model_cache_dir=str(model_cache)).transcribe(SPEECH)


def assert_well_formed(transcript: Transcript) -> None:
    words = transcript.words
    assert len(words) > 50
    assert transcript.language == "en"
    assert transcript.duration_s == pytest.approx(SPEECH_DURATION_S, abs=0.05)
    previous_end = 0.0
    for word in words:
        assert word.word and word.word == word.word.strip()
        assert previous_end <= word.start_s <= word.end_s <= transcript.duration_s
        previous_end = word.end_s
    for segment in transcript.segments:
        assert segment.words and segment.text
        assert segment.start_s == segment.words[0].start_s and segment.end_s == segment.words[-1].end_s


def test_tiny_en_transcribes_real_speech(tiny_run: tuple[Transcript, list[float]]) -> None:
    transcript, _progress = tiny_run
    assert_well_formed(transcript)
    assert transcript.model == "tiny.en"
    assert word_error_rate(REFERENCE.read_text(), " ".join(w.word for w in transcript.words)) < 0.10


def test_progress_rises_to_one(tiny_run: tuple[Transcript, list[float]]) -> None:
    _transcript, progress = tiny_run
    assert progress[0] == 0.0 and progress[-1] == 1.0
    assert progress == sorted(progress)
    assert len(progress) > 3


def test_base_transcribes_real_speech_and_detects_english(base_transcript: Transcript) -> None:
    assert_well_formed(base_transcript)
    assert base_transcript.model == "base"
    assert word_error_rate(REFERENCE.read_text(), " ".join(w.word for w in base_transcript.words)) < 0.08


def test_base_is_assembled_once_and_a_truncated_model_is_rebuilt(model_cache: Path) -> None:
    folder = assemble_whisper_base(model_cache)
    model_bin = folder / "model.bin"
    full_size = model_bin.stat().st_size
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    assemble_whisper_base(model_cache)
    assert model_bin.stat().st_size == full_size

    with model_bin.open("r+b") as handle:  # as if a copy had been cut off half way
        handle.truncate(full_size // 2)
    assert assemble_whisper_base(model_cache) == folder
    assert model_bin.stat().st_size == full_size
    assert not list(folder.glob(".*.tmp"))


def test_english_only_model_refuses_other_languages() -> None:
    with pytest.raises(ValueError, match=r"'tiny\.en'.*'de'"):
        FasterWhisperAsr(model="tiny.en", cpu_threads=2).transcribe(SPEECH, language="de")


@pytest.mark.parametrize("name", ["no-such-whisper-model", "large-v3"])
def test_model_not_available_offline_is_a_clear_error(name: str, tmp_path: Path) -> None:
    asr = FasterWhisperAsr(model=name, cpu_threads=2, model_cache_dir=str(tmp_path))
    with pytest.raises(ModelNotAvailableError, match=rf"'{re.escape(name)}'.*'tiny\.en', 'base'"):
        asr.transcribe(SPEECH)


@pytest.fixture(scope="module")
def video_with_audio_hole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two shots joined like an editor's export: each shot's audio is shorter than its video.

    Shot 1 is 9 s of video with the first 7.25 s of the reading; shot 2 is 6 s of video with the reading from
    7.25 s on. Joining them by stream copy leaves the audio track a hole from 7.25 s to 9 s.
    """
    folder = tmp_path_factory.mktemp("hole")
    shots = []
    for index, (video_s, audio_from_s, audio_s) in enumerate([(9.0, 0.0, 7.25), (6.0, 7.25, 5.0)]):
        shot = folder / f"shot{index}.mp4"
        run_ffmpeg([
            "-f", "lavfi", "-i", f"color=c=0x203040:s=160x120:r=25:d={video_s}",
            "-ss", f"{audio_from_s}", "-t", f"{audio_s}", "-i", str(SPEECH),
            "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-ar", "16000", "-ac", "1", str(shot),
        ])  # fmt: skip
        shots.append(shot)
    listing = folder / "shots.txt"
    listing.write_text("".join(f"file '{shot.name}'\n" for shot in shots))
    joined = folder / "joined.mp4"
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(joined)])
    return joined


def test_audio_holes_are_kept_as_silence(video_with_audio_hole: Path) -> None:
    audio = load_audio_for_asr(video_with_audio_hole)
    assert len(audio) / WHISPER_SAMPLE_RATE == pytest.approx(14.0, abs=0.15)
    hole = audio[round(7.4 * WHISPER_SAMPLE_RATE) : round(8.9 * WHISPER_SAMPLE_RATE)]
    assert float(abs(hole).max()) == 0.0
    after = audio[round(9.0 * WHISPER_SAMPLE_RATE) : round(11.0 * WHISPER_SAMPLE_RATE)]
    assert float(abs(after).max()) > 0.05


def test_word_times_follow_the_video_timeline_across_audio_holes(video_with_audio_hole: Path) -> None:
    transcript = FasterWhisperAsr(model="tiny.en", cpu_threads=2).transcribe(video_with_audio_hole)
    starts = [word.start_s for word in transcript.words]
    assert not [t for t in starts if 7.3 < t < 8.95]
    resumed = min(t for t in starts if t >= 8.95)
    assert resumed < 9.8  # "He was not an ill-disposed young man" begins right after the hole


BUNDLED_SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "clipped_sample.mp4"


def test_chunked_transcription_keeps_the_timeline() -> None:
    """Small chunks (as an hour-long source gets) give the same words at the same times as one pass."""
    whole = FasterWhisperAsr(model="tiny.en", cpu_threads=2, chunk_s=0).transcribe(BUNDLED_SAMPLE)
    chunked = FasterWhisperAsr(model="tiny.en", cpu_threads=2, chunk_s=20).transcribe(BUNDLED_SAMPLE)
    assert chunked.duration_s == pytest.approx(whole.duration_s)
    starts = [word.start_s for word in chunked.words]
    assert starts == sorted(starts)
    assert abs(len(chunked.words) - len(whole.words)) <= 0.1 * len(whole.words)
    assert word_error_rate(" ".join(w.word for w in whole.words), " ".join(w.word for w in chunked.words)) < 0.15
    for word in ("chicken", "steady"):
        whole_t = next(w.start_s for w in whole.words if word in w.word.lower())
        chunked_t = next(w.start_s for w in chunked.words if word in w.word.lower())
        assert chunked_t == pytest.approx(whole_t, abs=0.5)
