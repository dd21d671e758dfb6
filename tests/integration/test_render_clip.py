"""Render real clips from the bundled sample and check the delivered files, not the renderer's intentions.

The clips are rendered and checked once with the system ffmpeg and once with imageio-ffmpeg's (``ffmpeg_binary``).
"""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np
import pytest

from clipped.media.ffmpeg import MediaToolError, run_ffmpeg
from clipped.render.captions_ass import build_ass
from clipped.render.inspect_clip import ClipInspection, caption_check, inspect_clip
from clipped.render.render_clip import RenderReport, RenderSpec, render_clip
from clipped.types import FaceBox, FaceFrame, Word
from tests.support.ffmpeg_binaries import ffmpeg_binary_fixture  # noqa: F401  (provides ffmpeg_binary)

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "clipped_sample.mp4"
SCENE_CUTS_S = [24.96, 47.56]
BACKGROUNDS_RGB = [(0x1D, 0x2B, 0x3A), (0x3A, 0x2B, 0x1D), (0x1D, 0x3A, 0x2B)]  # one per shot


def photo_left(t_s: float) -> float:
    """Left edge of the sample's 420 px astronaut photo (scripts/make_sample.py), in source pixels."""
    if t_s < SCENE_CUTS_S[0]:
        return 180 + 18 * t_s
    if t_s < SCENE_CUTS_S[1]:
        return 760 - 15 * (t_s - SCENE_CUTS_S[0])
    return 420 + 60 * math.sin((t_s - SCENE_CUTS_S[1]) / 3)


def sample_faces() -> list[FaceFrame]:
    """What a 5 fps face tracker would report: the astronaut's face inside the drifting photo."""
    frames = []
    for step in range(0, 5 * 78):
        t = step / 5
        shot = sum(t >= cut for cut in SCENE_CUTS_S)
        box = FaceBox(x=photo_left(t) + 150, y=175, w=100, h=130, score=0.93, track_id=shot)
        frames.append(FaceFrame(t_s=t, faces=[box]))
    return frames


def sample_words(start_s: float, end_s: float) -> list[Word]:
    """Evenly paced words; the first straddles the clip start to exercise clamping."""
    text = "Space is big and the view from orbit is stunning. We trained for years to get here. " * 4
    words, t = [], start_s - 0.2
    for token in text.split():
        if t >= end_s:
            break
        words.append(Word(word=token, start_s=t, end_s=t + 0.35))
        t += 0.45 + (0.4 if token.endswith(".") else 0.0)
    return words


def spec_for(start_s: float, end_s: float, aspect: str, caption_style: str = "highlight_word") -> RenderSpec:
    return RenderSpec(
        source_path=SAMPLE,
        start_s=start_s,
        end_s=end_s,
        words=sample_words(start_s, end_s),
        face_frames=sample_faces(),
        scene_cuts_s=SCENE_CUTS_S,
        source_width=1280,
        source_height=720,
        aspect=aspect,
        caption_style=caption_style,
    )


class Rendered:
    def __init__(self, spec: RenderSpec, folder: Path):
        self.spec = spec
        self.video = folder / "clip.mp4"
        self.thumbnail = folder / "thumb.jpg"
        self.ass = folder / "captions.ass"
        self.progress: list[float] = []
        self.report: RenderReport = render_clip(
            spec, self.video, self.thumbnail, self.ass, threads=2, on_progress=self.progress.append
        )
        self.inspection: ClipInspection = inspect_clip(self.video)


@pytest.fixture(scope="module")
def vertical(tmp_path_factory: pytest.TempPathFactory, ffmpeg_binary: str) -> Rendered:
    return Rendered(spec_for(2.0, 22.0, "9:16"), tmp_path_factory.mktemp("vertical"))


@pytest.fixture(scope="module")
def square(tmp_path_factory: pytest.TempPathFactory, ffmpeg_binary: str) -> Rendered:
    # Crosses the second scene cut, in karaoke style; the folder name tests filtergraph path escaping.
    return Rendered(spec_for(44.0, 52.0, "1:1", "karaoke"), tmp_path_factory.mktemp("sq uare, [1]; 'x':y"))


def test_vertical_clip_has_the_delivery_format(vertical: Rendered):
    info = vertical.inspection
    assert (info.width, info.height) == (1080, 1920)
    assert (vertical.report.width, vertical.report.height) == (1080, 1920)
    assert info.duration_s == pytest.approx(20.0, abs=0.2)
    assert vertical.report.duration_s == pytest.approx(20.0, abs=0.2)
    assert info.fps == pytest.approx(30.0, abs=0.01)
    assert info.has_audio
    with av.open(str(vertical.video)) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        assert audio.codec_context.sample_rate == 48_000
        assert audio.codec_context.channels == 2
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"


def test_render_reports_the_ffmpeg_that_wrote_it(vertical: Rendered, ffmpeg_binary: str):
    assert vertical.report.ffmpeg is not None
    assert vertical.report.ffmpeg.path == ffmpeg_binary
    assert vertical.report.ffmpeg.version not in ("", "unknown")


def test_vertical_clip_is_loudness_normalised(vertical: Rendered):
    assert vertical.inspection.integrated_lufs == pytest.approx(-14.0, abs=1.0)
    assert vertical.report.loudness_lufs == pytest.approx(-14.0, abs=1.0)


def test_vertical_clip_has_captions_burned_in_the_caption_band(vertical: Rendered):
    assert vertical.ass.read_text() == build_ass(
        vertical.spec.words, vertical.spec.start_s, vertical.spec.end_s, 1080, 1920
    )
    check = caption_check(vertical.video, vertical.ass)
    assert check.samples >= 4
    assert check.all_matched
    assert check.band_top_frac is not None and check.band_bottom_frac is not None
    assert 0.55 < check.band_top_frac < check.band_bottom_frac < 0.75  # above the platforms' bottom UI


def test_vertical_clip_has_no_black_or_frozen_video(vertical: Rendered):
    assert vertical.inspection.black_stretches == []
    assert vertical.inspection.frozen_stretches == []


def test_crop_follows_the_drifting_face(vertical: Rendered):
    # The 420 px photo is barely wider than the 404 px window, so the dead zone's lag lets up to ~10% of
    # background in; a fixed centre crop would show 32% background by clip 19.5 s (source 21.5 s).
    for clip_t in (1.0, 10.0, 15.0, 19.5):
        assert photo_coverage(vertical.video, clip_t, BACKGROUNDS_RGB[0]) > 0.85


def test_thumbnail_is_a_jpeg_frame(vertical: Rendered):
    data = vertical.thumbnail.read_bytes()
    assert data[:3] == b"\xff\xd8\xff"
    with av.open(str(vertical.thumbnail)) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (1080, 1920)


def test_progress_is_reported_up_to_done(vertical: Rendered):
    assert len(vertical.progress) >= 3
    assert vertical.progress == sorted(vertical.progress)
    assert vertical.progress[-1] == 1.0
    assert vertical.report.encode_s > 0


def test_square_clip_across_a_scene_cut(square: Rendered):
    info = square.inspection
    assert (info.width, info.height) == (1080, 1080)
    assert info.duration_s == pytest.approx(8.0, abs=0.2)
    assert info.fps == pytest.approx(30.0, abs=0.01)
    assert info.integrated_lufs == pytest.approx(-14.0, abs=1.0)
    assert info.black_stretches == [] and info.frozen_stretches == []
    assert r"\k" in square.ass.read_text()
    assert caption_check(square.video, square.ass, samples=4, threads=1).all_matched  # as beside other clips
    assert square.thumbnail.read_bytes()[:3] == b"\xff\xd8\xff"


def test_crop_moves_on_the_planned_frame_and_silent_sources_render(tmp_path: Path, ffmpeg_binary: str):
    # A white line at x=500 on black, no audio track. The face is at 300 (window 98..502, line visible at the
    # right edge) until a scene cut at 1.0 s, then at 1000 (window 798..1202, line gone): the snap must land
    # exactly on output frame 30, neither a frame early nor late.
    source = tmp_path / "line.mp4"
    run_ffmpeg([
        "-f", "lavfi", "-i", "color=c=black:s=1280x720:r=25:d=3,drawbox=x=500:y=0:w=4:h=720:c=white:t=fill",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(source),
    ])  # fmt: skip
    faces = [
        FaceFrame(t_s=t / 10, faces=[FaceBox(x=(250 if t < 10 else 950), y=300, w=100, h=100, score=1.0)])
        for t in range(30)
    ]
    spec = RenderSpec(
        source_path=source, start_s=0.0, end_s=2.0, face_frames=faces, scene_cuts_s=[1.0],
        source_width=1280, source_height=720, aspect="9:16",
    )  # fmt: skip
    video = tmp_path / "out.mp4"
    report = render_clip(spec, video, tmp_path / "t.jpg", tmp_path / "c.ass", threads=2)
    assert report.loudness_lufs is None
    assert not inspect_clip(video).has_audio
    with av.open(str(video)) as container:
        rows = {i: f.to_ndarray(format="gray")[960] for i, f in enumerate(container.decode(video=0)) if 28 <= i <= 31}
    assert [bool((rows[i] > 128).any()) for i in range(28, 32)] == [True, True, False, False]


def test_missing_source_raises_a_media_error(tmp_path: Path):
    spec = spec_for(2.0, 4.0, "9:16").model_copy(update={"source_path": tmp_path / "missing.mp4"})
    with pytest.raises(MediaToolError):
        render_clip(spec, tmp_path / "v.mp4", tmp_path / "t.jpg", tmp_path / "c.ass")


def test_ffmpeg_failure_is_one_line(tmp_path: Path):
    with pytest.raises(MediaToolError) as failure:
        render_clip(spec_for(2.0, 3.0, "9:16"), tmp_path / "v.mp4", tmp_path / "t.jpg", tmp_path / "c.ass", preset="x")
    assert "\n" not in str(failure.value)


def photo_coverage(video: Path, at_s: float, background_rgb: tuple[int, int, int]) -> float:
    """Share of columns in the picture area (above the captions) that show the photo, not the flat background."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        container.seek(int(at_s / stream.time_base), stream=stream)
        frame = next(f for f in container.decode(stream) if f.time is not None and f.time >= at_s - 0.02)
        rgb = frame.to_ndarray(format="rgb24").astype(np.int16)
    height = rgb.shape[0]
    band = rgb[int(0.15 * height) : int(0.5 * height)]
    distance = np.abs(band - np.array(background_rgb, dtype=np.int16)).sum(axis=2)
    column_is_photo = (distance > 40).mean(axis=0) > 0.5
    return float(column_is_photo.mean())
