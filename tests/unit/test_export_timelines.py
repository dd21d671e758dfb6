"""NLE timelines: each format written through its OTIO adapter and read back gives the clip's cut list."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from clipped.export.cut_list import SourceSpan
from clipped.export.timelines import NLE_FORMATS, SourceMedia, build_timeline, frame_range, nle_rate, timeline_text
from clipped.export.zip_stream import ZipMember, stream_zip

SPANS = [SourceSpan(12.34, 20.0), SourceSpan(21.5, 58.9), SourceSpan(60.04, 61.0)]
EXACT_RATES = {29.97: Fraction(30000, 1001), 23.98: Fraction(24000, 1001), 59.94: Fraction(60000, 1001)}


def _read(text: str, format_id: str, rate: float) -> otio.schema.Timeline:
    options = {"rate": float(EXACT_RATES.get(rate, rate))} if format_id == "edl" else {}  # an EDL has no rate
    read = otio.adapters.read_from_string(text, adapter_name=NLE_FORMATS[format_id].adapter, **options)
    return read[0] if isinstance(read, otio.schema.SerializableCollection) else read


@pytest.mark.parametrize("fps", [30.0, 25.0, 29.97, 24000 / 1001])
@pytest.mark.parametrize("format_id", sorted(NLE_FORMATS))
def test_timeline_reads_back_with_the_cut_list(format_id: str, fps: float) -> None:
    media = SourceMedia(
        url="file:///media/talk%20one.mp4", name="talk one.mp4", duration_s=78.7, fps=fps, width=1280, height=720
    )
    rate = nle_rate(fps)
    expected = [frame_range(span, rate) for span in SPANS]
    text = timeline_text(build_timeline("Clip 1: the merchant", media, SPANS), format_id)
    if format_id == "fcpxml":
        size = ET.fromstring(text).find("resources/format")
        assert (size.get("width"), size.get("height")) == ("1280", "720")
    if format_id == "fcpxml" and rate in EXACT_RATES:
        # The FCPXML adapter reads NTSC rates back as whole numbers (int(30000/1001)); check what it wrote instead.
        return _check_fcpxml_times(text, rate, expected)
    timeline = _read(text, format_id, rate)
    tracks = timeline.video_tracks() + timeline.audio_tracks()
    assert len(tracks) == 2  # the sound comes along (in an EDL as channel B events)
    for track in tracks:
        clips = list(track.find_clips())
        got = [(c.source_range.start_time, c.source_range.duration) for c in clips]
        assert [(round(start.to_frames()), round(length.to_frames())) for start, length in got] == [
            (first, end - first) for first, end in expected
        ]
        assert {round(start.rate, 2) for start, _ in got} == {rate}
        assert {c.media_reference.target_url for c in clips} == {media.url}
        # Back to back on the record side: the clip lasts as long as its kept spans.
        assert track.duration().to_frames() == sum(end - first for first, end in expected)


def _check_fcpxml_times(text: str, rate: float, expected: list[tuple[int, int]]) -> None:
    root = ET.fromstring(text)
    assert root.find("resources/format").get("frameDuration") == f"1001/{EXACT_RATES[rate].numerator}s"
    spine = root.findall(".//spine/clip")
    seconds = [(Fraction(c.get("start").rstrip("s")), Fraction(c.get("duration").rstrip("s"))) for c in spine]
    frame = 1 / EXACT_RATES[rate]
    assert [(round(start / frame), round(length / frame)) for start, length in seconds] == [
        (first, end - first) for first, end in expected
    ]


def test_rates_snap_to_nle_rates() -> None:
    assert [nle_rate(f) for f in (30000 / 1001, 30.0, 25.0, 24.0, 23.976, 59.94, 60.0)] == [
        29.97, 30.0, 25.0, 24.0, 23.98, 59.94, 60.0,
    ]  # fmt: skip
    assert frame_range(SourceSpan(1.0, 1.001), 30.0) == (30, 31)  # never empty


def test_zip_stream_is_a_valid_archive_written_in_chunks(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(bytes(range(256)) * 20_000)  # 5 MB
    opened: list[str] = []

    @contextmanager
    def open_video():
        opened.append("video")
        yield video

    members = [ZipMember("job/01 clip.mp4", open_file=open_video), ZipMember("job/metadata.json", text="{}")]
    chunks = stream_zip(members, chunk_bytes=1 << 20)
    first = next(chunks)
    assert opened == ["video"] and len(first) < 2 << 20  # the file is read as the stream goes, not up front
    archive = tmp_path / "out.zip"
    archive.write_bytes(first + b"".join(chunks))
    with zipfile.ZipFile(archive) as read:
        assert read.testzip() is None
        assert read.namelist() == ["job/01 clip.mp4", "job/metadata.json"]
        assert read.read("job/01 clip.mp4") == video.read_bytes()
        assert read.getinfo("job/01 clip.mp4").compress_type == zipfile.ZIP_STORED
