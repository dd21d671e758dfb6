"""What a live stream stores: its request and settings, its segments and their troubles, its health, the events
and moments found in it and the clips cut from it. Times named ``*_s`` are seconds on the stream's own clock (0 =
the first frame recorded; gaps advance it, so a moment's time says when it happened); ``*_at`` are Unix times."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field

from clipped.types import Aspect, FaceFrame, RenderedClip, Word

StreamState = Literal["starting", "recording", "stalled", "reconnecting", "ended", "stopped", "failed"]
ACTIVE_STATES: frozenset[str] = frozenset({"starting", "recording", "stalled", "reconnecting"})

DEFAULT_KEYWORDS = (
    "clip that", "clip it", "oh my god", "no way", "let's go", "what just happened", "insane", "unbelievable",
    "incredible", "holy", "wow", "amazing", "huge", "goal", "winner", "clutch",
)  # fmt: skip


def now() -> float:
    return time.time()


class RecorderSettings(BaseModel):
    """How the recorder reads and cuts the stream, and how it rides out trouble."""

    segment_s: float = Field(default=2.0, gt=0, description="target segment length (cut at the next keyframe)")
    stall_after_s: float = Field(default=8.0, gt=0, description="no new segment for this long = stalled")
    reconnect_initial_s: float = Field(default=1.0, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)
    give_up_after_s: float = Field(default=300.0, gt=0, description="no media for this long = the stream is over")
    heartbeat_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=20.0, gt=0, description="a read blocking this long drops the connection")
    max_minutes: float | None = Field(default=None, gt=0, description="stop after this much stream time")


class RingLimits(BaseModel):
    """The ring buffer keeps at most this much stream time and this many bytes (whichever binds first)."""

    max_age_s: float = Field(default=600.0, gt=0)
    max_bytes: int = Field(default=2 * 1024**3, gt=0)


class DetectionSettings(BaseModel):
    """How moments are found. Scores follow seed 000 §10; see :mod:`clipped.live.scoring`."""

    keywords: list[str] = Field(default_factory=lambda: list(DEFAULT_KEYWORDS))
    keyword_weights: dict[str, float] = Field(default_factory=dict, description="per keyword; others weigh 1.0")
    language: str | None = "en"
    asr: bool = True
    asr_every_s: float = Field(
        default=6.0, ge=0, description="new audio gathered before ASR runs (Whisper pays for a 30 s window per call)"
    )
    asr_context_s: float = Field(default=2.0, ge=0, description="audio before the new audio that ASR hears with it")
    energy_hop_s: float = 0.5
    energy_z: float = Field(default=3.0, description="a hop this many deviations above the baseline is loud")
    baseline_halflife_s: float = Field(default=30.0, gt=0)
    scenes: bool = True
    # Faces per segment, so a clip's crop follows them as a VOD clip's does (bench/live_latency.py measures the
    # latency with them); without faces the crop holds the centre.
    faces: bool = True
    face_fps: float = Field(default=2.0, gt=0, description="frames per second searched for faces")
    chat_z: float = 3.0
    cluster_gap_s: float = Field(default=8.0, gt=0, description="events closer than this form one cluster")
    threshold: float = Field(default=0.3, ge=0, le=1, description="a cluster scoring this much becomes a moment")


class LiveClipSettings(BaseModel):
    """The clip cut around a moment: ``clip_s`` long, ending ``post_roll_s`` after the moment's anchor."""

    clip_s: float = Field(default=30.0, gt=1)
    post_roll_s: float = Field(default=8.0, ge=0)
    aspect: Aspect = "9:16"
    caption_style: str = "highlight_word"

    @property
    def pre_roll_s(self) -> float:
        return max(0.0, self.clip_s - self.post_roll_s)


class StreamSettings(BaseModel):
    recorder: RecorderSettings = Field(default_factory=RecorderSettings)
    ring: RingLimits = Field(default_factory=RingLimits)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    clips: LiveClipSettings = Field(default_factory=LiveClipSettings)


class StreamRecord(BaseModel):
    """A stream someone asked to record (``stream.json``); ``desired`` is what they want, health what is."""

    workspace_id: str
    stream_id: str
    url: str
    display_name: str
    settings: StreamSettings = Field(default_factory=StreamSettings)
    created_at: float = Field(default_factory=now)
    desired: Literal["running", "stopped"] = "running"
    runner: str = "local"  # who runs the recorder: local (a process here) or dagster (a long-running run)
    launches: int = 0  # how many times a recorder was started for it (restarts included)
    launched_at: float | None = None  # when the last recorder was started: it has until then + stale_after_s
    chat_key: str | None = None  # a chat replay (timestamped JSONL) in storage, if any


class SegmentRecord(BaseModel):
    """One segment in the ring buffer."""

    sequence: int
    key: str
    start_s: float
    duration_s: float
    size: int
    recorded_at: float
    session: int  # which connection produced it (a reconnect starts a new one)
    discontinuity: bool = False  # the source's timestamps jumped inside or just before it

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


class Gap(BaseModel):
    """Stream time that was never recorded: segments the reader skipped, or an outage between connections."""

    at_s: float
    duration_s: float
    segments: int | None = None  # source segments lost, when the playlist's sequence numbers say
    reason: Literal["sequence_gap", "reconnect"]
    noted_at: float = Field(default_factory=now)


class Discontinuity(BaseModel):
    """The source's timestamps jumped (an encoder restart, an ad splice); the stream clock carries on."""

    at_s: float
    noted_at: float = Field(default_factory=now)


class Stall(BaseModel):
    """No new segment for a while; ``duration_s`` is None while it lasts."""

    at_s: float
    started_at: float
    duration_s: float | None = None


class RingIndex(BaseModel):
    """``index.json``: the segments the ring buffer holds and what happened to the stream so far."""

    segments: list[SegmentRecord] = Field(default_factory=list)
    next_sequence: int = 0
    evicted: int = 0
    gaps: list[Gap] = Field(default_factory=list)
    discontinuities: list[Discontinuity] = Field(default_factory=list)
    stalls: list[Stall] = Field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(segment.size for segment in self.segments)

    @property
    def live_edge_s(self) -> float:
        return self.segments[-1].end_s if self.segments else 0.0


class StreamHealth(BaseModel):
    """``health.json``: the recorder's heartbeat, written at least every ``heartbeat_s``."""

    state: StreamState = "starting"
    updated_at: float = Field(default_factory=now)
    started_at: float = Field(default_factory=now)
    last_segment_at: float | None = None
    live_edge_s: float = 0.0
    segments: int = 0  # recorded in total (evicted ones included)
    kept_segments: int = 0
    kept_bytes: int = 0
    bitrate_kbps: float = 0.0
    dropped_segments: int = 0  # source segments lost to gaps (where the sequence numbers say)
    gap_s: float = 0.0
    gaps: int = 0
    stalls: int = 0
    discontinuities: int = 0
    reconnects: int = 0
    error: str | None = None
    host: str = ""
    pid: int = 0

    def summary(self) -> dict[str, float | int | str]:
        """The numbers a dashboard shows (Dagster metadata, the CLI's last line)."""
        return {
            "state": self.state,
            "live_edge_s": round(self.live_edge_s, 1),
            "segments": self.segments,
            "kept_segments": self.kept_segments,
            "kept_mb": round(self.kept_bytes / 1e6, 1),
            "bitrate_kbps": self.bitrate_kbps,
            "gaps": self.gaps,
            "gap_s": self.gap_s,
            "dropped_segments": self.dropped_segments,
            "stalls": self.stalls,
            "discontinuities": self.discontinuities,
            "reconnects": self.reconnects,
            "error": self.error or "",
        }


EventKind = Literal["loud_moment", "crowd_reaction", "keyword_trigger", "emotional_moment", "game_highlight"]


class LiveEvent(BaseModel):
    """Something a detector noticed at one instant; ``strength`` is 0..1 within its kind."""

    kind: EventKind
    at_s: float
    strength: float
    detail: str = ""
    keyword: str | None = None


class SegmentAnalysis(BaseModel):
    """What detection found in one segment (``analysis/{sequence}.json``)."""

    sequence: int
    start_s: float
    end_s: float
    words: list[Word] = Field(default_factory=list)
    hop_s: float = 0.5
    rms_db: list[float] = Field(default_factory=list)
    energy_z: list[float] = Field(default_factory=list)
    cuts_s: list[float] = Field(default_factory=list)
    faces: list[FaceFrame] = Field(default_factory=list)  # detections (no track ids yet), times on the stream clock
    chat_messages: int = 0
    events: list[LiveEvent] = Field(default_factory=list)
    analysed_at: float = Field(default_factory=now)
    cost_s: float = 0.0  # wall time spent on it


MomentStatus = Literal["pending", "rendering", "rendered", "failed"]


class Moment(BaseModel):
    """A cluster of events that crossed the threshold, and the clip window around it."""

    moment_id: str
    at_s: float  # the anchor: the strongest event
    start_s: float
    end_s: float
    score: float
    scores: dict[str, float]
    reason: str
    events: list[LiveEvent]
    detected_at: float = Field(default_factory=now)
    live_edge_s: float = 0.0  # how far the stream was recorded when it was found
    status: MomentStatus = "pending"
    clip_id: str | None = None
    error: str | None = None


class LiveClip(RenderedClip):
    """A clip cut from a stream: a rendered clip (times on the stream clock) and the moment it came from."""

    stream_id: str
    moment_id: str
    detected_at: float
    rendered_at: float
    assembly_s: float = 0.0
    render_s: float = 0.0


class LiveClipsManifest(BaseModel):
    """``clips.json``: every clip of the stream so far, in order."""

    partition: str
    clips: list[LiveClip] = Field(default_factory=list)
