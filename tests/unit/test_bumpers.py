"""Brand intro/outro bumpers: joined before and after a clip at its size, with sound throughout."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from clipped.media.ffmpeg import run_ffmpeg
from clipped.render.bumpers import BumperError, Bumpers, add_bumpers, check_bumper, media_facts


def make_video(path: Path, seconds: float, size: str, *, tone_hz: int | None) -> Path:
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}"]
    if tone_hz is not None:
        args += ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=44100:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)]
    run_ffmpeg(args)
    return path


def test_intro_and_outro_wrap_the_clip_at_its_size_with_sound_throughout(tmp_path: Path) -> None:
    clip = make_video(tmp_path / "clip.mp4", 2.0, "180x320", tone_hz=440)
    intro = make_video(tmp_path / "intro.mp4", 1.0, "320x180", tone_hz=880)  # landscape: letterboxed
    outro = make_video(tmp_path / "outro.mp4", 0.8, "180x180", tone_hz=None)  # silent: gets a silent track
    out = tmp_path / "final.mp4"
    # threads=1: as a clip rendered beside others gets its bumpers (decoders, filter graph and x264 capped).
    intro_s = add_bumpers(clip, Bumpers(intro, outro), out, 180, 320, preset="ultrafast", threads=1)
    assert intro_s == pytest.approx(1.0, abs=0.05)
    facts = media_facts(out)
    assert facts.has_audio and facts.duration_s == pytest.approx(2.0 + 1.0 + 0.8, abs=0.15)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (180, 320)
        rate = 8000
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        samples = np.concatenate(
            [o.to_ndarray().reshape(-1) for f in container.decode(audio=0) for o in resampler.resample(f)]
        )
    # Sound in the intro and the clip (tones), silence in the silent outro: each part is where it belongs.
    rms = [float(np.sqrt(np.mean(samples[int(a * rate) : int(b * rate)] ** 2))) for a, b in ((0.2, 0.8), (1.4, 2.6))]
    assert min(rms) > 0.01
    assert float(np.abs(samples[int(3.2 * rate) : int(3.6 * rate)]).max()) < 1e-3


def test_a_bumper_that_is_not_a_short_video_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "intro.mp4"
    text.write_text("not a video")
    with pytest.raises(BumperError, match="not a readable video"):
        check_bumper(text)
    long = make_video(tmp_path / "long.mp4", 11.0, "64x64", tone_hz=None)
    with pytest.raises(BumperError, match="between 0 and 10 s"):
        check_bumper(long)
