"""One real render with the finishing options on, checked by inspecting the delivered file: the profane word is
silent in the audio at its span and masked in the captions, the brand logo is in its corner, and the glyphs the
captions use (accents, Cyrillic, Greek, the keyword emoji) are drawn by libass with both ffmpeg binaries."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clipped.brand.kit import BrandKit, logo_png
from clipped.effects import ClipEffects
from clipped.media.ffmpeg import ffmpeg_exe
from clipped.render.captions_ass import build_ass
from clipped.render.filtergraph import FONTS_DIR, ass_filter
from clipped.render.render_clip import RenderSpec, render_clip
from clipped.render.safe_areas import safe_area
from clipped.types import Word
from tests.conftest import make_video
from tests.support.ffmpeg_binaries import ffmpeg_binary_fixture  # noqa: F401  (provides ffmpeg_binary)

WORDS = [
    Word(word="Nothing", start_s=0.3, end_s=0.7),
    Word(word="here", start_s=0.8, end_s=1.1),
    Word(word="is", start_s=1.2, end_s=1.4),
    Word(word="fucking", start_s=3.2, end_s=3.7),
    Word(word="easy.", start_s=3.8, end_s=4.2),
]


def decoded_audio(video: Path) -> np.ndarray:
    command = [ffmpeg_exe(), "-v", "error", "-i", str(video), "-ac", "1", "-ar", "8000", "-f", "f32le", "-"]
    return np.frombuffer(subprocess.run(command, capture_output=True, check=True).stdout, dtype=np.float32)


def frame_at(video: Path, second: float) -> np.ndarray:
    command = [ffmpeg_exe(), "-v", "error", "-ss", f"{second}", "-i", str(video), "-frames:v", "1"]
    command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    return np.frombuffer(subprocess.run(command, capture_output=True, check=True).stdout, dtype=np.uint8)


def test_a_muted_word_a_masked_caption_and_a_logo_in_one_render(tmp_path: Path) -> None:
    source = make_video(tmp_path / "talk.mp4", seconds=5, size="640x360", audio="sine=frequency=440")
    logo = tmp_path / "logo.png"
    out = tmp_path / "out"
    out.mkdir()
    pure_red = Image.new("RGB", (80, 40), (255, 0, 0))
    pure_red.save(tmp_path / "upload.png")
    logo.write_bytes(logo_png((tmp_path / "upload.png").read_bytes()))
    brand = BrandKit(has_logo=True, logo_position="top_left", logo_width_frac=0.2, logo_opacity=1.0)
    spec = RenderSpec(
        source_path=source, start_s=0.0, end_s=4.5, words=WORDS, source_width=640, source_height=360,
        aspect="9:16", effects=ClipEffects(profanity="mute", platform="tiktok"), brand=brand, logo_path=logo,
    )  # fmt: skip
    report = render_clip(spec, out / "clip.mp4", out / "thumb.jpg", out / "captions.ass", preset="ultrafast")
    assert report.censored_words == 1 and not report.profanity_in_opening  # heard after the first 3 s
    assert report.masked_words == ["fucking"]

    captions = (out / "captions.ass").read_text()
    assert "f******" in captions and "fucking" not in captions

    audio = decoded_audio(out / "clip.mp4")
    rms = lambda a, b: float(np.sqrt(np.mean(audio[int(a * 8000) : int(b * 8000)] ** 2)))  # noqa: E731
    assert rms(3.25, 3.65) < 1e-3 < 0.05 < rms(2.0, 3.0)  # silent inside the word, the tone around it
    assert rms(3.9, 4.2) > 0.05  # and back right after

    frame = frame_at(out / "clip.mp4", 1.0).reshape(1920, 1080, 3).astype(int)
    area = safe_area("tiktok", 1080, 1920)
    x0, y0 = round(area.left * 1080), round(area.top * 1920)
    patch = frame[y0 + 20 : y0 + 60, x0 + 20 : x0 + 180]  # inside the 216 px wide logo
    assert patch[..., 0].mean() > 200 and patch[..., 1].mean() < 60 and patch[..., 2].mean() < 60


def test_libass_draws_accents_cyrillic_greek_and_the_keyword_emoji(tmp_path: Path, ffmpeg_binary: str) -> None:
    words = [
        Word(word=t, start_s=i * 0.3, end_s=i * 0.3 + 0.25) for i, t in enumerate(["Ça", "love", "Привет", "Γειά"])
    ]
    script = tmp_path / "captions.ass"
    script.write_text(build_ass(words, 0.0, 2.0, 360, 640, "karaoke"))
    assert "\u2764" in script.read_text()
    command = [
        ffmpeg_binary, "-hide_banner", "-nostdin", "-loglevel", "warning",
        "-f", "lavfi", "-i", "color=c=gray:s=360x640:r=10:d=1", "-vf", f"{ass_filter(script, FONTS_DIR)},format=gray",
        "-frames:v", "1", "-f", "rawvideo", "-",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, check=True, timeout=60)
    # libass names every character no shipped font has; a missing glyph would draw nothing, not fail.
    assert b"failed to find any fallback" not in result.stderr, result.stderr.decode(errors="replace")
    assert (np.frombuffer(result.stdout, dtype=np.uint8) > 230).sum() > 200


@pytest.fixture(autouse=True)
def _fonts_dir_has_only_fonts() -> None:
    # libass opens every file in fontsdir as a font; a licence text there logs an error on each render.
    assert all(path.suffix == ".ttf" for path in FONTS_DIR.iterdir() if path.is_file())
