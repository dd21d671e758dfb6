"""Variations of a moment: clean alternative boundaries, rotating hook/style/layout, and a uniqueness measure
that tells a copy from a different clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clipped.media.ffmpeg import run_ffmpeg
from clipped.render.variations import (
    Signature,
    audio_bits,
    audio_distance,
    dhash,
    least_unique,
    plan_variations,
    signature,
    uniqueness,
)
from clipped.types import Word

TEXT = "First point here. Then a second one. And a third to close."


def sentence_words() -> list[Word]:
    words, t = [], 10.0
    for token in TEXT.split():
        words.append(Word(word=token, start_s=t, end_s=t + 0.8))
        t += 1.0
    return words


def test_variants_differ_in_boundaries_hook_style_and_layout_and_keep_to_clean_boundaries() -> None:
    words = sentence_words()
    plans = plan_variations(
        words, 10.0, words[-1].end_s, count=4, hooks=["Hook A", "Hook B"], caption_style="karaoke", min_duration_s=4.0
    )
    assert plans[0].start_s == 10.0 and plans[0].end_s == words[-1].end_s and plans[0].caption_style == "karaoke"
    assert len({(p.start_s, p.end_s) for p in plans}) == 4
    assert [p.hook for p in plans] == ["Hook A", "Hook B", "Hook A", "Hook B"]
    assert len({p.caption_style for p in plans}) == 4 and {p.layout for p in plans} == {"auto", "single"}
    starts = {w.start_s for i, w in enumerate(words) if i == 0 or words[i - 1].word.endswith(".")}
    ends = {w.end_s for w in words if w.word.endswith(".")}
    for plan in plans:
        assert plan.start_s in starts and plan.end_s in ends and plan.end_s - plan.start_s >= 4.0


def test_audio_fingerprint_matches_a_shifted_copy_and_not_another_sound() -> None:
    rng = np.random.default_rng(3)
    voice = np.repeat(rng.normal(size=40), 1600) * np.sin(np.arange(64_000) / 7)  # 8 s of varied sound at 8 kHz
    other = np.repeat(rng.normal(size=40), 1600) * np.sin(np.arange(64_000) / 5)
    copy = audio_distance(audio_bits(voice[8000:]), audio_bits(voice))  # starts 1 s later
    assert copy < 0.2 and audio_distance(audio_bits(voice), audio_bits(other)) > 0.3


def test_frame_hashes_tell_a_copy_from_a_different_picture() -> None:
    gradient = np.tile(np.arange(9), (8, 1))
    assert dhash(gradient) == 2**64 - 1 and dhash(gradient[:, ::-1]) == 0
    same = Signature((1, 2, 3), np.zeros((20, 16), dtype=bool))
    assert uniqueness(same, same) == {"frames": 0.0, "audio": 0.0, "overall": 0.0}


def test_signatures_of_real_clips_rate_a_re_encode_as_a_duplicate(tmp_path: Path) -> None:
    def clip(name: str, source: str, tone: int) -> Path:
        path = tmp_path / name
        run_ffmpeg([
            "-f", "lavfi", "-i", f"{source}=size=96x160:rate=30:duration=3",
            "-f", "lavfi", "-i", f"anoisesrc=d=3:seed={tone}:r=48000,lowpass=f={tone * 100}",
            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(path),
        ])  # fmt: skip
        return path

    a, b, c = clip("a.mp4", "testsrc2", 5), clip("b.mp4", "testsrc2", 5), clip("c.mp4", "rgbtestsrc", 20)
    report = least_unique([signature(a), signature(b), signature(c)])
    assert report[0]["overall"] == pytest.approx(0.0, abs=0.05)  # b is a copy of a
    assert uniqueness(signature(a), signature(c))["overall"] > 0.2
