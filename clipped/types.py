"""Data shapes shared by the pipeline stages.

Every stage persists one of these as JSON through the storage resource; times are always seconds in the
source's timeline, never invented: they come from ASR words, scene cuts or audio hops.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from clipped.effects import ClipEffects
from clipped.media.capabilities import FfmpegIdentity

Aspect = Literal["9:16", "1:1", "16:9"]


class ClipSettings(BaseModel):
    """What the user asked for; stored with the source request so backfills reproduce it."""

    max_clips: int = Field(default=5, ge=1, le=50)
    min_duration_s: float = Field(default=15.0, gt=0)
    max_duration_s: float = Field(default=90.0, gt=0)
    aspect: Aspect = "9:16"
    language: str | None = None
    caption_style: str = "highlight_word"
    effects: ClipEffects = ClipEffects()  # captions' look, platform, hook overlay, profanity (clipped.effects)


class Word(BaseModel):
    word: str
    start_s: float
    end_s: float
    probability: float = 1.0


class Segment(BaseModel):
    start_s: float
    end_s: float
    text: str
    words: list[Word]


class Transcript(BaseModel):
    language: str
    duration_s: float
    model: str
    segments: list[Segment]

    @property
    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]


class Scenes(BaseModel):
    """Cut times (seconds) where a new shot begins; 0.0 is not listed."""

    cuts_s: list[float]
    duration_s: float


class Reaction(BaseModel):
    """An audience reaction heard in the audio (laughter, applause or cheering), with its likelihood 0..1."""

    kind: Literal["laughter", "applause", "cheering"]
    start_s: float
    end_s: float
    score: float


class AudioFeatures(BaseModel):
    hop_s: float
    rms_db: list[float]  # one value per hop, dBFS
    peaks_s: list[float]  # loudness peaks (local maxima well above the median)
    silences: list[tuple[float, float]]  # (start_s, end_s) stretches below the silence floor
    mean_db: float
    is_silent: bool  # the whole track is below the silence floor
    pitch_hz: list[float] = Field(default_factory=list)  # median voice pitch per hop, 0 where unvoiced
    reactions: list[Reaction] = Field(default_factory=list)


class Sentence(BaseModel):
    """A sentence made of consecutive ASR words; its times are the first and last word's."""

    text: str
    start_s: float
    end_s: float
    word_start: int  # index into Transcript.words
    word_end: int  # exclusive


class ClipWriting(BaseModel):
    """What a clip is posted with: an on-screen hook, hashtags and a caption per platform (within its limits).

    Written by the heuristic writer, or by Claude when the ranker is configured for it (``written_by`` says which).
    """

    hook: str = ""  # 3–6 words for an on-screen overlay
    hashtags: list[str] = Field(default_factory=list)  # "#word", topical
    # platform → caption text without hashtags (a post is title, caption, hashtags), sized so the whole post fits the
    # platform's limits; empty when nothing was written (the post is then the title and hashtags)
    post_captions: dict[str, str] = Field(default_factory=dict)
    written_by: str = ""  # "heuristic" or "claude:<model>"; empty in candidates from before writing existed


class Candidate(BaseModel):
    candidate_id: str
    start_s: float
    end_s: float
    score: float  # 0..1
    scores: dict[str, float]  # hook, flow, value, energy (each 0..1)
    reason: str
    title: str
    text: str
    words: list[Word]
    writing: ClipWriting = Field(default_factory=ClipWriting)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class FaceBox(BaseModel):
    """One detection in source pixel coordinates."""

    x: float
    y: float
    w: float
    h: float
    score: float
    track_id: int = -1


class FaceFrame(BaseModel):
    t_s: float
    faces: list[FaceBox]


class CandidateFaces(BaseModel):
    candidate_id: str
    frames: list[FaceFrame]


class FacesResult(BaseModel):
    width: int
    height: int
    sample_fps: float
    detector: str
    windows: list[CandidateFaces]


class RenderedClip(BaseModel):
    rank: int
    clip_id: str
    candidate_id: str
    video_key: str
    thumbnail_key: str
    captions_key: str
    start_s: float
    end_s: float
    width: int
    height: int
    score: float
    scores: dict[str, float]
    reason: str
    title: str
    words: list[Word]
    writing: ClipWriting = Field(default_factory=ClipWriting)
    loudness_lufs: float | None = None
    inspection: dict[str, object] = Field(default_factory=dict)
    ffmpeg: FfmpegIdentity | None = None  # the binary that rendered the files (None in manifests from before it)
    # The source stretches the clip keeps, in playback order, when clean-up cuts removed some (empty: the whole
    # window start_s–end_s). Exports (NLE timelines, captions) follow them.
    kept_spans_s: list[tuple[float, float]] = Field(default_factory=list)
