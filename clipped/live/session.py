"""One stream end to end in one process: record, detect, clip, as the segments arrive (the fast path).

Three threads share the work: the recorder (the caller's thread) publishes segments; a detection thread analyses
each new segment and declares moments; a clip thread renders each moment. Detection never waits for a render,
and on two cores a 30 s clip is in storage well inside the 45 s target (``bench/live_latency.py``). The same
detector, clip cutter and storage layout serve the Dagster path (``live_segment_sensor`` and ``live_clip_job``),
so either can pick up a stream the other left.

A :class:`LiveListener` hears everything as it happens: the CLI prints it, and reports materializations to the
Dagster instance through it.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from clipped.faces.windows import FaceDetector
from clipped.live.chat import ChatReplay
from clipped.live.clips import ClipWindowError, clip_moment
from clipped.live.detection import LiveDetector, SpeechRecognizer
from clipped.live.layout import StreamRef
from clipped.live.models import LiveClip, Moment, SegmentAnalysis, SegmentRecord, StreamHealth, StreamRecord
from clipped.live.recorder import Recorder
from clipped.live.source import StreamOpener
from clipped.media.ffmpeg import MediaToolError
from clipped.render.clip_set import ClipEncoder
from clipped.storage import Storage

log = logging.getLogger(__name__)
_DONE = object()


class LiveListener(Protocol):
    """Receives what a live session produces, from its threads (keep the handlers quick)."""

    def on_segment(self, segment: SegmentRecord, analysis: SegmentAnalysis) -> None: ...

    def on_moment(self, moment: Moment) -> None: ...

    def on_clip(self, clip: LiveClip) -> None: ...

    def on_clip_failed(self, moment: Moment) -> None: ...

    def on_health(self, health: StreamHealth) -> None: ...


class QuietListener:
    """A listener that ignores everything (subclass it and override what you need)."""

    def on_segment(self, segment: SegmentRecord, analysis: SegmentAnalysis) -> None:
        pass

    def on_moment(self, moment: Moment) -> None:
        pass

    def on_clip(self, clip: LiveClip) -> None:
        pass

    def on_clip_failed(self, moment: Moment) -> None:
        pass

    def on_health(self, health: StreamHealth) -> None:
        pass


@dataclass
class SessionResult:
    health: StreamHealth
    moments: list[Moment] = field(default_factory=list)
    clips: list[LiveClip] = field(default_factory=list)


class LiveSession:
    """Records ``record``'s stream and turns its moments into clips until the stream ends or is stopped."""

    def __init__(
        self,
        storage: Storage,
        record: StreamRecord,
        *,
        opener: StreamOpener,
        asr: SpeechRecognizer | None,
        encoder: ClipEncoder,
        work_dir: Path,
        listener: LiveListener | None = None,
        chat: ChatReplay | None = None,
        inspect_clips: bool = True,
        faces: FaceDetector | None = None,
    ) -> None:
        self.storage = storage
        self.record = record
        self.stream = StreamRef(record.workspace_id, record.stream_id)
        self.encoder = encoder
        self.listener = listener or QuietListener()
        self.inspect_clips = inspect_clips
        self.recorder = Recorder(
            storage, self.stream, record.url, record.settings, opener=opener, work_dir=work_dir / "recorder",
            on_segment=self._segment_recorded, on_health=self.listener.on_health,
        )  # fmt: skip
        self.detector = LiveDetector(storage, self.stream, record.settings, asr=asr, chat=chat, faces=faces)
        self._segments: queue.Queue = queue.Queue()
        self._moments: queue.Queue = queue.Queue()
        self.result = SessionResult(health=self.recorder.health)

    def stop(self, reason: str = "stopped on request") -> None:
        self.recorder.stop(reason)

    def run(self) -> SessionResult:
        """Record until the stream ends or :meth:`stop`; then finish detecting and clipping what was recorded."""
        detecting = threading.Thread(target=self._detect_loop, daemon=True, name="live-detect")
        clipping = threading.Thread(target=self._clip_loop, daemon=True, name="live-clip")
        detecting.start()
        clipping.start()
        try:
            self.result.health = self.recorder.run()
        finally:
            self._segments.put(_DONE)
            detecting.join()
            self._moments.put(_DONE)
            clipping.join()
        return self.result

    def _segment_recorded(self, segment: SegmentRecord) -> None:
        self._segments.put(segment)

    def _detect_loop(self) -> None:
        while (segment := self._segments.get()) is not _DONE:
            if segment.sequence <= self.detector.state.last_sequence:
                continue
            try:
                with self.recorder.ring.lock:
                    index = self.recorder.ring.index.model_copy(deep=True)
                analysis, moment = self.detector.analyse(segment, index)
                self.detector.save_state()
            except FileNotFoundError:  # evicted before we got to it: the detector is far behind
                log.warning("%s: segment %d was evicted before analysis", self.stream.partition_key, segment.sequence)
                continue
            except Exception:  # one bad segment must not end detection
                log.exception("%s: analysis of segment %d failed", self.stream.partition_key, segment.sequence)
                continue
            self.listener.on_segment(segment, analysis)
            if moment is not None:
                self._declare(moment)
        with self.recorder.ring.lock:
            index = self.recorder.ring.index.model_copy(deep=True)
        for moment in self.detector.finish(index):
            self._declare(moment)
        self.detector.save_state()

    def _declare(self, moment: Moment) -> None:
        self.result.moments.append(moment)
        self.listener.on_moment(moment)
        self._moments.put(moment)

    def _clip_loop(self) -> None:
        settings = self.record.settings.clips
        while (moment := self._moments.get()) is not _DONE:
            try:
                with self.recorder.ring.lock:
                    index = self.recorder.ring.index.model_copy(deep=True)
                clip = clip_moment(
                    self.storage, self.stream, moment.moment_id, encoder=self.encoder, settings=settings,
                    index=index, inspect=self.inspect_clips, on_rendered=self._clip_rendered,
                )  # fmt: skip
            except (ClipWindowError, MediaToolError, OSError, ValueError):
                log.exception("%s: clip of %s failed", self.stream.partition_key, moment.moment_id)
                self.listener.on_clip_failed(self.storage.read_model(self.stream.moment_key(moment.moment_id), Moment))
                continue
            self.result.clips.append(clip)

    def _clip_rendered(self, clip: LiveClip) -> None:
        self.listener.on_clip(clip)
