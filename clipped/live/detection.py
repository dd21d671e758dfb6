"""Detection per segment: how loud it was against the stream's usual, how fast shots change, how busy chat is,
what was said; events from each; and, when a cluster of events scores high enough, a moment.

The detector is the same object whether it runs inside the recorder's process (the fast path) or in Dagster's
``live_segment_sensor``: its running state (baselines, recent events and words, the segments still waiting for
ASR, where the last clip ended) is a pydantic model saved in storage between segments (``detector.json``), and
every segment's analysis is stored (``analysis/{sequence}.json``) so a clip job reads captions and cuts there.

Energy, scene cuts and chat are measured on every segment as it arrives. ASR runs once ``asr_every_s`` of new
audio has gathered (Whisper pays for a full 30 s window per call, so transcribing each 2 s segment alone would
cost about fifteen times as much), with ``asr_context_s`` of the audio before it so a word cut by an edge is heard
whole; a word still running at the end waits for the next batch. A moment is only declared once its post-roll is
recorded, which is longer than a batch, so batching costs no latency. Word times are on the stream clock.
"""

from __future__ import annotations

import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import av
import numpy as np
import soundfile
from pydantic import BaseModel, Field

from clipped.faces.sampling import open_video, sample_frames
from clipped.faces.windows import FaceDetector
from clipped.live.chat import ChatReplay
from clipped.live.layout import DETECTOR_FILE, StreamRef, moment_id
from clipped.live.models import LiveEvent, Moment, RingIndex, SegmentAnalysis, SegmentRecord, StreamSettings
from clipped.live.ring_buffer import load_index, pin_window
from clipped.live.scoring import find_moment
from clipped.live.signals import Ewma, chat_event, energy_events, hop_levels_db, keyword_events, sentiment_event
from clipped.media.ffmpeg import MediaToolError
from clipped.progress import ProgressCallback
from clipped.storage import Storage
from clipped.types import FaceFrame, Transcript, Word
from clipped.understand.asr_audio import WHISPER_SAMPLE_RATE, load_audio_for_asr
from clipped.understand.scenes import detect_scenes

WORD_SETTLE_S = 0.3  # a word ending this close to the new audio's end may still be running: wait for more
KEYWORD_CONTEXT_WORDS = 4
AUDIO_CACHE_SEGMENTS = 12
CONTIGUOUS_S = 0.05


class SpeechRecognizer(Protocol):
    """What live detection needs of the ASR role (the ``asr`` resource satisfies it)."""

    def transcribe(
        self, audio_path: Path, *, language: str | None = None, on_progress: ProgressCallback | None = None
    ) -> Transcript: ...


class DetectorState(BaseModel):
    """Everything detection carries from one segment to the next."""

    last_sequence: int = -1
    asr_pending: list[int] = Field(default_factory=list)  # analysed segments whose words are still to come
    last_word_end_s: float = 0.0
    energy: Ewma = Field(default_factory=Ewma)
    chat: Ewma = Field(default_factory=Ewma)
    sentiment: Ewma = Field(default_factory=Ewma)
    events: list[LiveEvent] = Field(default_factory=list)
    words: list[Word] = Field(default_factory=list)  # recent words, for keyword phrases and window edges
    cuts_s: list[float] = Field(default_factory=list)  # recent scene cuts
    moments: int = 0
    not_before_s: float = 0.0  # where the last moment's clip ended: later moments start after it
    origin_at: float | None = None  # Unix time of stream time 0 (places chat given in Unix times)
    finished: bool = False  # the stream ended and its last moments were declared


def load_state(storage: Storage, stream: StreamRef) -> DetectorState:
    key = stream.key(DETECTOR_FILE)
    return storage.read_model(key, DetectorState) if storage.exists(key) else DetectorState()


class LiveDetector:
    """Analyses segments in order and declares moments (pinning their windows in the ring buffer)."""

    def __init__(
        self,
        storage: Storage,
        stream: StreamRef,
        settings: StreamSettings,
        *,
        asr: SpeechRecognizer | None,
        chat: ChatReplay | None = None,
        state: DetectorState | None = None,
        faces: FaceDetector | None = None,
    ) -> None:
        self.storage = storage
        self.stream = stream
        self.settings = settings
        self.asr = asr if settings.detection.asr else None
        self.faces = faces if settings.detection.faces else None
        self.chat = chat
        self.state = state if state is not None else load_state(storage, stream)
        self._audio: OrderedDict[int, np.ndarray] = OrderedDict()

    def save_state(self) -> None:
        self.storage.write_model(self.stream.key(DETECTOR_FILE), self.state)

    def analyse(self, segment: SegmentRecord, index: RingIndex) -> tuple[SegmentAnalysis, Moment | None]:
        """Analyse ``segment`` (in ``index``), store the analysis, and return it with the moment it completed, if
        any (already stored and pinned). The caller skips segments at or before ``state.last_sequence``."""
        started = time.monotonic()
        detection = self.settings.detection
        state = self.state
        if state.origin_at is None:
            state.origin_at = segment.recorded_at - segment.end_s
        with self.storage.local_path(segment.key) as path:
            samples = self._samples(segment.sequence, path)
            cuts = self._cuts(path, segment) if detection.scenes else []
            faces = self._faces(path, segment) if self.faces is not None else []
        levels = hop_levels_db(samples, WHISPER_SAMPLE_RATE, detection.energy_hop_s)
        z_scores, events = energy_events(
            levels, segment.start_s, detection.energy_hop_s, state.energy,
            z_threshold=detection.energy_z, halflife_s=detection.baseline_halflife_s,
        )  # fmt: skip
        messages = self.chat.count(segment.start_s, segment.end_s, state.origin_at) if self.chat else 0
        if self.chat is not None:
            crowd = chat_event(messages, segment.start_s, segment.duration_s, state.chat,
                               z_threshold=detection.chat_z, halflife_s=detection.baseline_halflife_s)  # fmt: skip
            if crowd is not None:
                events.append(crowd)
        analysis = SegmentAnalysis(
            sequence=segment.sequence, start_s=segment.start_s, end_s=segment.end_s, hop_s=detection.energy_hop_s,
            rms_db=levels, energy_z=z_scores, cuts_s=cuts, faces=faces, chat_messages=messages, events=events,
        )  # fmt: skip
        state.last_sequence = segment.sequence
        self._remember(segment.end_s, [], cuts, events)
        analyses = {segment.sequence: analysis}
        if self.asr is not None:
            state.asr_pending.append(segment.sequence)
            pending = [s for s in index.segments if s.sequence in set(state.asr_pending)]
            if sum(s.duration_s for s in pending) >= detection.asr_every_s or self._decision_due(pending):
                analyses.update(self._transcribe(pending, index, final=False, known=analyses))
        analysis = analyses[segment.sequence]
        analysis.cost_s = round(time.monotonic() - started, 3)
        for written in analyses.values():
            self.storage.write_model(self.stream.analysis_key(written.sequence), written)
        return analysis, self._moment(index)

    def finish(self, index: RingIndex) -> list[Moment]:
        """The stream is over: transcribe what waits, then declare the moments whose post-roll will never come."""
        if self.asr is not None and self.state.asr_pending:
            pending = [s for s in index.segments if s.sequence in set(self.state.asr_pending)]
            for written in self._transcribe(pending, index, final=True).values():
                self.storage.write_model(self.stream.analysis_key(written.sequence), written)
        moments = []
        while (moment := self._moment(index, final=True)) is not None:
            moments.append(moment)
        self.state.finished = True
        return moments

    def _decision_due(self, pending: list[SegmentRecord]) -> bool:
        """True when an event's post-roll ended inside the audio waiting for ASR: transcribe now, so the moment is
        judged with its words at once instead of after the rest of a batch."""
        if not pending:
            return False
        post_roll = self.settings.clips.post_roll_s
        first, edge = pending[0].start_s, pending[-1].end_s
        return any(first <= e.at_s + post_roll <= edge for e in self.state.events if e.at_s >= self.state.not_before_s)

    # -- signals ---------------------------------------------------------------------------------------------

    def _samples(self, sequence: int, path: Path) -> np.ndarray:
        cached = self._audio.get(sequence)
        if cached is None:
            try:
                cached = load_audio_for_asr(path)
            except ValueError:  # a video-only stream
                cached = np.zeros(0, dtype=np.float32)
            self._audio[sequence] = cached
            while len(self._audio) > AUDIO_CACHE_SEGMENTS:
                self._audio.popitem(last=False)
        return cached

    def _stored_samples(self, segment: SegmentRecord) -> np.ndarray | None:
        if segment.sequence in self._audio:
            return self._audio[segment.sequence]
        try:
            with self.storage.local_path(segment.key) as path:
                return self._samples(segment.sequence, path)
        except FileNotFoundError:  # evicted meanwhile
            return None

    def _cuts(self, path: Path, segment: SegmentRecord) -> list[float]:
        try:
            scenes = detect_scenes(path)
        except MediaToolError:
            return []
        return [round(segment.start_s + cut, 3) for cut in scenes.cuts_s]

    def _faces(self, path: Path, segment: SegmentRecord) -> list[FaceFrame]:
        """Faces in the segment at ``face_fps`` (a few frames of a 2 s segment: tens of ms each on a CPU), on the
        stream clock; the clip tracks them across its window."""
        assert self.faces is not None
        try:
            container, video = open_video(str(path))
        except (ValueError, av.error.FFmpegError):  # an audio-only stream: no faces to follow
            return []
        try:
            samples = sample_frames(container, video, 0.0, segment.duration_s, self.settings.detection.face_fps)
            return [
                FaceFrame(t_s=round(segment.start_s + t_s, 3), faces=self.faces.detect_faces(frame))
                for t_s, frame in samples
            ]
        except av.error.FFmpegError:  # a damaged segment: the clip holds the centre there
            return []
        finally:
            container.close()

    def _transcribe(
        self,
        pending: list[SegmentRecord],
        index: RingIndex,
        *,
        final: bool,
        known: dict[int, SegmentAnalysis] | None = None,
    ) -> dict[int, SegmentAnalysis]:
        """ASR over the pending segments (with contiguous context before them); their analyses (from ``known``,
        else storage) with the words and the keyword and sentiment events found, keyed by sequence."""
        assert self.asr is not None
        state, detection = self.state, self.settings.detection
        state.asr_pending = []
        if not pending:
            return {}
        window = self._with_context(pending, index)
        pieces, offset_s = [], window[0].start_s
        for segment in window:
            samples = self._stored_samples(segment)
            if samples is None:  # a hole: start again after it
                pieces, offset_s = [], segment.end_s
                continue
            pieces.append(samples)
        audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        words: list[Word] = []
        if len(audio) >= WHISPER_SAMPLE_RATE // 4:
            with tempfile.TemporaryDirectory(prefix="clipped-live-asr-") as work:
                wav = Path(work) / "window.wav"
                soundfile.write(str(wav), audio, WHISPER_SAMPLE_RATE, subtype="FLOAT")
                transcript = self.asr.transcribe(wav, language=detection.language)
            settle = pending[-1].end_s - (0.0 if final else WORD_SETTLE_S)
            for word in transcript.words:
                start, end = offset_s + word.start_s, offset_s + word.end_s
                if start < state.last_word_end_s - CONTIGUOUS_S or end > settle:
                    continue
                words.append(Word(word=word.word, start_s=round(start, 3), end_s=round(end, 3),
                                  probability=word.probability))  # fmt: skip
        if words:
            state.last_word_end_s = words[-1].end_s
        context = [w for w in state.words if w.end_s <= (words[0].start_s if words else pending[0].start_s)]
        events = keyword_events(words, detection.keywords, detection.keyword_weights,
                                context[-KEYWORD_CONTEXT_WORDS:])  # fmt: skip
        span_s = pending[-1].end_s - pending[0].start_s
        _, emotional = sentiment_event(words, state.sentiment, span_s, detection.baseline_halflife_s)
        if emotional is not None:
            events.append(emotional)
        self._remember(pending[-1].end_s, words, [], events)
        # Each word and event goes to the analysis of the segment it starts in: a word held back from the last
        # batch starts in what is now context, and belongs to that segment's captions.
        analyses: dict[int, SegmentAnalysis] = {}
        pending_ids = {segment.sequence for segment in pending}
        for position, segment in enumerate(window):
            first, last = position == 0, position == len(window) - 1

            def inside(at: float, segment: SegmentRecord = segment, first: bool = first, last: bool = last) -> bool:
                return (
                    segment.start_s <= at < segment.end_s
                    or (first and at < segment.start_s)
                    or (last and at >= segment.end_s)
                )

            own_words = [w for w in words if inside(w.start_s)]
            own_events = [e for e in events if inside(e.at_s)]
            if segment.sequence not in pending_ids and not own_words and not own_events:
                continue
            analysis = (known or {}).get(segment.sequence) or self._stored_analysis(segment)
            if segment.sequence in pending_ids:
                analysis.words = own_words
                kept = [e for e in analysis.events if e.kind not in ("keyword_trigger", "emotional_moment")]
            else:  # context: add to what its own batch found
                analysis.words = [*analysis.words, *own_words]
                kept = list(analysis.events)
            analysis.events = [*kept, *own_events]
            analyses[segment.sequence] = analysis
        return analyses

    def _stored_analysis(self, segment: SegmentRecord) -> SegmentAnalysis:
        key = self.stream.analysis_key(segment.sequence)
        if self.storage.exists(key):
            return self.storage.read_model(key, SegmentAnalysis)
        return SegmentAnalysis(sequence=segment.sequence, start_s=segment.start_s, end_s=segment.end_s)

    def _with_context(self, pending: list[SegmentRecord], index: RingIndex) -> list[SegmentRecord]:
        """``pending`` preceded by the back-to-back segments within ``asr_context_s`` before it."""
        window = list(pending)
        reach = pending[0].start_s - self.settings.detection.asr_context_s
        for earlier in reversed([s for s in index.segments if s.sequence < pending[0].sequence]):
            if abs(earlier.end_s - window[0].start_s) > CONTIGUOUS_S or earlier.end_s <= reach:
                break
            window.insert(0, earlier)
        return window

    # -- memory and moments ----------------------------------------------------------------------------------

    def _remember(self, edge_s: float, words: list[Word], cuts: list[float], events: list[LiveEvent]) -> None:
        state = self.state
        horizon = edge_s - (self.settings.clips.clip_s + self.settings.detection.cluster_gap_s + 30.0)
        state.words = [w for w in [*state.words, *words] if w.end_s >= horizon]
        state.cuts_s = [c for c in [*state.cuts_s, *cuts] if c >= horizon]
        state.events = [e for e in [*state.events, *events] if e.at_s >= horizon and e.at_s >= state.not_before_s]

    def _moment(self, index: RingIndex, *, final: bool = False) -> Moment | None:
        state = self.state
        # Words lag by up to a batch: a cluster is judged only once the words around its post-roll are in.
        heard_to = index.live_edge_s if final or self.asr is None else _heard_to(state, index)
        plan = find_moment(
            state.events, cuts_s=state.cuts_s, live_edge_s=heard_to,
            earliest_s=index.segments[0].start_s if index.segments else 0.0, not_before_s=state.not_before_s,
            detection=self.settings.detection, clips=self.settings.clips, gaps=index.gaps, words=state.words,
            final=final,
        )  # fmt: skip
        if plan is None:
            return None
        state.moments += 1
        state.not_before_s = plan.end_s
        state.events = [e for e in state.events if e.at_s > plan.end_s]
        number = moment_id(state.moments)
        moment = Moment(
            moment_id=number, at_s=plan.anchor.at_s, start_s=plan.start_s, end_s=plan.end_s, score=plan.score,
            scores=plan.scores, reason=plan.reason, events=plan.events, live_edge_s=index.live_edge_s,
            clip_id=self.stream.clip_id(number),
        )  # fmt: skip
        pin_window(self.storage, self.stream, moment.moment_id, moment.start_s, moment.end_s)
        self.storage.write_model(self.stream.moment_key(moment.moment_id), moment)
        return moment


def _heard_to(state: DetectorState, index: RingIndex) -> float:
    """How far the stream has been transcribed: the start of the first segment still waiting for ASR."""
    waiting = [s.start_s for s in index.segments if s.sequence in set(state.asr_pending)]
    return min(waiting) if waiting else min(index.live_edge_s, _analysed_to(state, index))


def _analysed_to(state: DetectorState, index: RingIndex) -> float:
    done = [s.end_s for s in index.segments if s.sequence <= state.last_sequence]
    return max(done) if done else 0.0


@dataclass
class DetectionPass:
    """What one pass over a stream's new segments did (see :func:`detect_new_segments`)."""

    analysed: list[int] = field(default_factory=list)
    moments: list[Moment] = field(default_factory=list)
    last_sequence: int = -1
    finished: bool = False


def detect_new_segments(
    storage: Storage,
    stream: StreamRef,
    settings: StreamSettings,
    *,
    asr: SpeechRecognizer | None,
    stream_over: bool,
    deadline: float,
    chat: ChatReplay | None = None,
    faces: FaceDetector | None = None,
) -> DetectionPass:
    """Analyse the stream's kept segments that the stored detector state has not seen, oldest first, until
    ``time.monotonic()`` passes ``deadline`` (the rest wait for the next pass); save the state. When
    ``stream_over`` and every segment is analysed, declare the moments that waited for a post-roll."""
    index = load_index(storage, stream)
    detector = LiveDetector(storage, stream, settings, asr=asr, chat=chat, faces=faces)
    result = DetectionPass(last_sequence=detector.state.last_sequence, finished=detector.state.finished)
    for segment in index.segments:
        if segment.sequence <= detector.state.last_sequence:
            continue
        if time.monotonic() > deadline:
            break
        _, moment = detector.analyse(segment, index)
        result.analysed.append(segment.sequence)
        if moment is not None:
            result.moments.append(moment)
    caught_up = not index.segments or detector.state.last_sequence >= index.segments[-1].sequence
    if stream_over and caught_up and not detector.state.finished:
        result.moments += detector.finish(index)
    detector.save_state()
    result.last_sequence = detector.state.last_sequence
    result.finished = detector.state.finished
    return result
