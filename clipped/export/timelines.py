"""NLE timelines of a clip over its source, through OpenTimelineIO and its adapter packages.

The timeline references the SOURCE media, not the rendered clip: each kept span of the source is one clip on a
video track and on an audio track, with its in and out points in the source's timeline, so an editor can open the
cut in Final Cut Pro / DaVinci Resolve (FCPXML), Premiere Pro (FCP7 XML) or any EDL reader and finish it there.
"""

from __future__ import annotations

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
    """``timeline`` written in one of :data:`NLE_FORMATS` (an EDL carries the video track's events only)."""
    if format_id not in NLE_FORMATS:
        raise ValueError(f"unknown NLE format {format_id!r}; allowed: {', '.join(NLE_FORMATS)}")
    return otio.adapters.write_to_string(timeline, adapter_name=NLE_FORMATS[format_id].adapter)
