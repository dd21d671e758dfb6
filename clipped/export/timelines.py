"""NLE timelines of a clip over its source, through OpenTimelineIO and its adapter packages.

The timeline references the SOURCE media, not the rendered clip: each kept span of the source is one clip on a
video track and on an audio track, with its in and out points in the source's timeline, so an editor can open the
cut in Final Cut Pro / DaVinci Resolve (FCPXML), Premiere Pro (FCP7 XML) or any EDL reader and finish it there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import opentimelineio as otio

from clipped.export.cut_list import SourceSpan

# The frame rates every adapter can write; the FCPXML adapter knows NTSC rates by these nominal values.
NLE_RATES = (23.98, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0)

NleFormatId = Literal["fcpxml", "premiere_xml", "edl"]


@dataclass(frozen=True)
class NleFormat:
    adapter: str  # OTIO adapter name
    suffix: str
    media_type: str
    label: str


NLE_FORMATS: dict[str, NleFormat] = {
    "fcpxml": NleFormat("fcpx_xml", ".fcpxml", "application/xml", "Final Cut Pro / DaVinci Resolve (FCPXML)"),
    "premiere_xml": NleFormat("fcp_xml", ".xml", "application/xml", "Premiere Pro (FCP7 XML)"),
    "edl": NleFormat("cmx_3600", ".edl", "text/plain", "CMX3600 EDL"),
}


@dataclass(frozen=True)
class SourceMedia:
    """The source video as an NLE should find it: a URL (an editor relinks by ``name`` when it is elsewhere)."""

    url: str
    name: str
    duration_s: float
    fps: float
    width: int | None = None
    height: int | None = None


def nle_rate(fps: float) -> float:
    """The NLE frame rate closest to ``fps`` (29.97 for 30000/1001, 25 for 25…); odd rates are conformed."""
    if fps <= 0:
        raise ValueError(f"frame rate {fps} is not positive")
    return min(NLE_RATES, key=lambda rate: abs(rate - fps))


def frame_range(span: SourceSpan, rate: float) -> tuple[int, int]:
    """``span`` as whole frames ``(first, end exclusive)`` at ``rate``; at least one frame long."""
    first = round(span.start_s * rate)
    return first, max(round(span.end_s * rate), first + 1)


def build_timeline(name: str, media: SourceMedia, spans: list[SourceSpan]) -> otio.schema.Timeline:
    """A timeline named ``name`` playing ``spans`` of ``media`` back to back on one video and one audio track."""
    if not spans:
        raise ValueError("a timeline needs at least one span of the source")
    rate = nle_rate(media.fps)
    available = otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(round(media.duration_s * rate), rate)
    )
    timeline = otio.schema.Timeline(name=name, global_start_time=otio.opentime.RationalTime(0, rate))
    if media.width and media.height:
        timeline.metadata["clipped"] = {"width": media.width, "height": media.height}
    for kind, track_name in ((otio.schema.TrackKind.Video, "V1"), (otio.schema.TrackKind.Audio, "A1")):
        track = otio.schema.Track(name=track_name, kind=kind)
        for span in spans:
            first, end = frame_range(span, rate)
            track.append(
                otio.schema.Clip(
                    name=media.name,
                    media_reference=otio.schema.ExternalReference(target_url=media.url, available_range=available),
                    source_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(first, rate), otio.opentime.RationalTime(end - first, rate)
                    ),
                )
            )
        timeline.tracks.append(track)
    return timeline


def timeline_text(timeline: otio.schema.Timeline, format_id: str) -> str:
    """``timeline`` written in one of :data:`NLE_FORMATS`."""
    if format_id not in NLE_FORMATS:
        raise ValueError(f"unknown NLE format {format_id!r}; allowed: {', '.join(NLE_FORMATS)}")
    text = otio.adapters.write_to_string(timeline, adapter_name=NLE_FORMATS[format_id].adapter)
    if format_id == "edl":
        return _edl_events_with_audio(timeline, text)
    if format_id == "fcpxml":
        return _fcpxml_format_with_size(timeline, text)
    return text


# The adapter's <format> carries the frame duration only; NLEs size the project from width and height.
_FCPXML_FORMAT = re.compile(r'<format id="(r\d+)" frameDuration="([^"]*)" name=""/>')


def _fcpxml_format_with_size(timeline: otio.schema.Timeline, text: str) -> str:
    size = timeline.metadata.get("clipped", {})
    if not size:
        return text
    return _FCPXML_FORMAT.sub(
        lambda m: f'<format id="{m[1]}" frameDuration="{m[2]}" width="{size["width"]}" height="{size["height"]}"/>',
        text,
    )


# An EDL event line: number, reel, channel ("V" from the adapter, which writes the video track only), cut type.
_EDL_VIDEO_EVENT = re.compile(r"(?m)^(\d{3}  \S+\s+)V     (C\s)")


def _edl_events_with_audio(timeline: otio.schema.Timeline, text: str) -> str:
    """Mark the EDL's events as channel ``B`` (video and audio 1) when the audio track makes the same cuts as the
    video, so an NLE importing the EDL brings the sound along; the adapter alone writes video events only.
    Also states the timecode mode (drop frame at 29.97 and 59.94, as the adapter writes those rates)."""
    video, audio = timeline.video_tracks(), timeline.audio_tracks()
    ranges = [[clip.source_range for clip in track.find_clips()] for track in (*video[:1], *audio[:1])]
    if len(ranges) == 2 and ranges[0] == ranges[1]:
        text = _EDL_VIDEO_EVENT.sub(r"\1B     \2", text)
    rate = video[0].duration().rate if video else 0
    mode = "DROP FRAME" if round(rate, 2) in (29.97, 59.94) else "NON-DROP FRAME"
    title, _, events = text.partition("\n")
    return f"{title}\nFCM: {mode}\n{events}"
