"""A real render with clean-up cuts: the filler and the long pause are gone from picture and sound alike, the
report lists the kept spans, and rendering the same spec again gives the same bytes."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np
import pytest

from clipped.effects import CleanupCuts, ClipEffects
from clipped.media.ffmpeg import run_ffmpeg
from clipped.render.render_clip import RenderSpec, render_clip
from clipped.types import Word

RATE = 48_000
# Voiced where there is a word: two words, a 1.6 s pause, "um", two more words.
WORDS = [("Hello", 0.1, 0.7), ("world,", 0.8, 1.4), ("um,", 3.0, 3.3), ("nice", 3.5, 4.2), ("day.", 4.3, 5.0)]
SOURCE_S = 5.4


def speechlike_source(folder: Path) -> Path:
    t = np.arange(int(SOURCE_S * RATE)) / RATE
    voiced = np.zeros_like(t)
    for _, start, end in WORDS:
        voiced[(t >= start) & (t < end)] = 1.0
    samples = (0.3 * np.sin(2 * np.pi * 220 * t) * voiced * 32767).astype(np.int16)
    wav = folder / "voice.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    video = folder / "source.mp4"
    run_ffmpeg([
        "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=30:duration={SOURCE_S}", "-i", str(wav),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(video),
    ])  # fmt: skip
    return video


def voiced_fraction(path: Path) -> tuple[float, float, float]:
    """(video seconds, audio seconds, longest near-silent stretch in seconds) of a rendered file."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        video_s = float(video.duration * video.time_base)
        chunks = [frame.to_ndarray() for frame in container.decode(audio=0)]
    audio = np.concatenate([chunk.reshape(-1, chunk.shape[-1])[0] for chunk in chunks])
    window = RATE // 50  # 20 ms
    rms = np.sqrt(np.mean(audio[: len(audio) // window * window].reshape(-1, window) ** 2, axis=1))
    quiet, longest = 0, 0
    for level in rms:
        quiet = quiet + 1 if level < 0.01 else 0
        longest = max(longest, quiet)
    return video_s, len(audio) / RATE, longest * window / RATE


def test_cleanup_cuts_shorten_picture_and_sound_together_and_render_reproducibly(tmp_path: Path) -> None:
    spec = RenderSpec(
        source_path=speechlike_source(tmp_path),
        start_s=0.0,
        end_s=SOURCE_S,
        words=[Word(word=w, start_s=s, end_s=e) for w, s, e in WORDS],
        source_width=320,
        source_height=180,
        aspect="1:1",
        effects=ClipEffects(cleanup=CleanupCuts(remove_fillers=True, remove_pauses=True), hook_overlay=False),
        min_duration_s=2.0,
    )
    outputs = [(tmp_path / f"clip{i}.mp4", tmp_path / f"thumb{i}.jpg", tmp_path / f"cap{i}.ass") for i in (1, 2)]
    report = render_clip(spec, *outputs[0])
    kept = report.kept_spans_s
    kept_s = sum(end - start for start, end in kept)
    assert len(kept) == 2 and kept[0][0] == 0.0 and kept[-1][1] == SOURCE_S  # one join: the filler and its pause
    assert kept[0][1] < 1.6 and kept[1][0] > 3.3
    video_s, audio_s, longest_quiet_s = voiced_fraction(outputs[0][0])
    assert video_s == pytest.approx(kept_s, abs=1 / 30 + 1e-3)
    assert audio_s == pytest.approx(kept_s, abs=0.05)
    assert longest_quiet_s < 0.5  # the 1.6 s pause (with "um" inside it) is gone, only short gaps remain
    assert "um" not in outputs[0][2].read_text().split("[Events]")[1]
    render_clip(spec, *outputs[1])
    assert outputs[0][0].read_bytes() == outputs[1][0].read_bytes()
