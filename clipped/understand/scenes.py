"""Shot boundaries (hard cuts) of a video: a cheap keyframe pass over the whole file, full rate only where needed.

Decoding is nearly all the cost of cut detection, and an hour of 720p is 90,000 frames. So:

1. **Coarse pass.** Only keyframe packets go to the decoder (each is self-contained, nothing else is decoded);
   every other packet is only demuxed, for its size. The stretch up to a keyframe is *suspect* when that
   keyframe comes off the stream's usual cadence (encoders such as x264 put a keyframe on a new shot), when a
   packet inside it is far larger than the inter frames before it (the first frame of a new shot is coded
   mostly intra, whatever its type), or when the two keyframes differ by more than ``KEYFRAME_CHANGE_SHARE``
   of the cut threshold (camera motion alone can move keyframes 2 s apart by 2-3 times the threshold, so this only
   catches what the other two signs cannot: a cut landing on a regular keyframe). Stretches longer than
   ``MAX_TRUSTED_STRETCH_S`` (sparse keyframes: signs too far apart to trust) and the stretch after the last
   keyframe (nothing closes it) are always suspect, so a file with 10 s GOPs costs what the full pass does.
2. **Refinement.** Only suspect stretches are decoded at full rate (runs of them in one go) and fed to
   PySceneDetect's content detector, every frame analysed, so a cut is dated to its exact first frame.
   All-intra video (every frame a keyframe) has no cheap pass and is scanned at full rate.

A stretch with neither sign is one shot for the detector: a cut needs a large frame-to-frame change, which
leaves a changed keyframe or an intra-coded frame behind. What this costs in recall against the full-rate pass
(:func:`detect_scenes_full_rate`, kept as the reference) is measured by ``bench/scene_recall.py``.

Times are presentation times measured from the container start, the origin ffmpeg's ``-ss`` counts from (an
MPEG-TS file often starts at 1.4 s, not 0). Frames are shrunk by swscale straight to ~256 px for analysis.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
from scenedetect import ContentDetector
from scenedetect.common import FrameTimecode

from clipped.cores import available_cores
from clipped.media.ffmpeg import MediaToolError
from clipped.progress import ProgressCallback
from clipped.types import Scenes

ANALYSIS_WIDTH = 256
MIN_SCENE_S = 0.6
"""Cuts closer than this are merged (flashes, fades that trip the detector twice)."""

KEYFRAME_CHANGE_SHARE = 3.0
"""Keyframes this share of the cut threshold apart mark the stretch between them for a full-rate look."""
SPIKE_RATIO = 3.0
"""A packet this many times the 90th percentile of the inter frames before it marks its stretch."""
SPIKE_WINDOW = 48  # inter-frame packets the percentile is taken over (about 2 s)
OFF_CADENCE_FRAMES = 1.5  # a keyframe interval this many frames shorter than the usual one is off cadence
MAX_TRUSTED_STRETCH_S = 2.5  # VOD encoders put a keyframe every 2 s; sparser ones are scanned in full
DENSE_KEYFRAMES_FRAMES = 2  # keyframes at most this many frames apart (typically): all-intra video
DECODE_THREADS = 2  # the scenes step runs alone on the machine's two cores (see clipped_app)
MIN_SPLIT_S = 120.0  # videos at least this long have their keyframes read as two halves side by side
MAX_SCAN_WORKERS = 4  # single-thread decoders scanning suspect stretches side by side, one per core
PROGRESS_EVERY_FRAMES = 250


@dataclass
class _Keyframe:
    t_s: float
    pts: int
    image: np.ndarray | None  # analysis-size HSV, None where the keyframe could not be decoded
    spike_before: bool = False  # an oversized packet lies between the previous keyframe and this one
    frame_s: float = 0.04  # one frame's duration


def detect_scenes(video_path: Path, *, on_progress: ProgressCallback | None = None, threshold: float = 27.0) -> Scenes:
    """Cut times (seconds, the first frame of each new shot, 0.0 excluded) and the duration of the video.

    ``threshold`` is ContentDetector's: the mean HSV change between consecutive frames that counts as a cut
    (lower finds more cuts). ``on_progress`` gets the fraction done. A file without a video stream has no cuts.
    Raises :class:`MediaToolError` when the file cannot be opened or decoded.
    """
    try:
        with av.open(str(video_path)) as container:
            duration = _container_duration(container)
            if not container.streams.video:
                return Scenes(cuts_s=[], duration_s=duration)
        keyframes, last_end = _keyframe_pass(video_path, on_progress)
        if not keyframes:
            raise MediaToolError("video stream has no decodable frames")
        if _all_intra(keyframes):
            return detect_scenes_full_rate(video_path, on_progress=on_progress, threshold=threshold)
        suspect = _suspect_ranges(keyframes, threshold * KEYFRAME_CHANGE_SHARE)
        scenes = _scenes(duration, _scan_ranges(video_path, suspect, threshold, on_progress), last_end)
    except av.error.FFmpegError as exc:
        raise MediaToolError(f"cannot read video {video_path.name}: {exc}") from exc
    if on_progress is not None:
        on_progress(1.0)
    return scenes


def _scan_ranges(
    video_path: Path,
    suspect: list[tuple[_Keyframe, _Keyframe]],
    threshold: float,
    on_progress: ProgressCallback | None,
) -> list[float]:
    """Cuts in the suspect ranges, scanned at full rate by one decoder per core (at most ``MAX_SCAN_WORKERS``)
    side by side, each over its own share of the ranges in its own container: short stretches keep a
    single-thread decoder busy, where a frame-threaded one spends much of each stretch filling its pipeline."""
    total = sum(end.t_s - start.t_s for start, end in suspect) or 1.0
    done = [0.0]
    lock = threading.Lock()

    def scan_share(share: list[tuple[_Keyframe, _Keyframe]]) -> list[float]:
        cuts: list[float] = []
        # A fresh container per share: the keyframe pass decoded without frame threads, seeks are per decoder.
        with av.open(str(video_path)) as container:
            scanner = _RangeScanner(container, threshold, decode_threads=1)
            for start, end in share:
                found, _end, _decoded = scanner.scan(start.pts, None if end.pts < 0 else end.t_s, None)
                cuts += found
                with lock:
                    done[0] += end.t_s - start.t_s
                    if on_progress is not None:
                        on_progress(0.5 + 0.5 * min(1.0, done[0] / total))
        return cuts

    shares = _balanced_shares(suspect, min(available_cores(), MAX_SCAN_WORKERS))
    with ThreadPoolExecutor(max_workers=len(shares) or 1, thread_name_prefix="scene-scan") as pool:
        return [cut for found in pool.map(scan_share, shares) for cut in found]


def _balanced_shares(
    ranges: list[tuple[_Keyframe, _Keyframe]], workers: int
) -> list[list[tuple[_Keyframe, _Keyframe]]]:
    """``ranges`` dealt into at most ``workers`` shares of about equal duration, longest first."""
    shares: list[list[tuple[_Keyframe, _Keyframe]]] = [[] for _ in range(max(1, workers))]
    loads = [0.0] * len(shares)
    for pair in sorted(ranges, key=lambda pair: pair[1].t_s - pair[0].t_s, reverse=True):
        lightest = loads.index(min(loads))
        shares[lightest].append(pair)
        loads[lightest] += pair[1].t_s - pair[0].t_s
    return [sorted(share, key=lambda pair: pair[0].t_s) for share in shares if share]


def detect_scenes_full_rate(
    video_path: Path, *, on_progress: ProgressCallback | None = None, threshold: float = 27.0
) -> Scenes:
    """The reference: every frame decoded, every frame analysed. Same contract as :func:`detect_scenes`."""
    try:
        with av.open(str(video_path)) as container:
            if not container.streams.video:
                return Scenes(cuts_s=[], duration_s=_container_duration(container))
            cuts, last_end, decoded = _RangeScanner(container, threshold).scan(None, None, on_progress)
            if decoded == 0:
                raise MediaToolError("video stream has no decodable frames")
            return _scenes(_container_duration(container), cuts, last_end)
    except av.error.FFmpegError as exc:
        raise MediaToolError(f"cannot read video {video_path.name}: {exc}") from exc


def _keyframe_pass(video_path: Path, on_progress: ProgressCallback | None) -> tuple[list[_Keyframe], float]:
    """Every keyframe, decoded and shrunk, with the packet-size spikes between them; and the video's end time.

    A long video is read as two halves side by side, each by its own demuxer and decoder: the second starts at
    the keyframe at or before the middle, and the first stops where the second started, so every keyframe is
    read once and the halves join exactly.
    """
    with av.open(str(video_path)) as container:
        duration = _container_duration(container)
        progress = _PassProgress(on_progress, duration)
        one_reader = available_cores() < 2 or duration < MIN_SPLIT_S
        if one_reader:  # in the container already open: short videos (live segments) pay for one open only
            runs = [_read_keyframes(container, progress, start_s=None, boundary=None)]
    if not one_reader:
        boundary = _Boundary()

        def read_half(start_s: float | None) -> _KeyframeRun:
            with av.open(str(video_path)) as container:
                try:
                    return _read_keyframes(container, progress, start_s=start_s, boundary=boundary)
                finally:
                    boundary.give_up()  # the first half never waits for a second half that failed or found none

        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="scene-keyframes") as pool:
            runs = list(pool.map(read_half, (None, duration / 2)))
    keyframes: list[_Keyframe] = []
    images: dict[int, np.ndarray] = {}
    spike = False
    last_end = 0.0
    for run in runs:
        if run.keyframes:
            run.keyframes[0].spike_before |= spike  # a spike just before the join belongs to the next keyframe
        keyframes += run.keyframes
        images |= run.images
        spike = run.spike_after if run.keyframes else spike or run.spike_after
        last_end = max(last_end, run.last_end)
    for keyframe in keyframes:
        keyframe.image = images.get(keyframe.pts)
    if not images:
        return [], last_end
    # The end of the video closes the last stretch; with no image there, that stretch is always scanned.
    rate_s = keyframes[-1].frame_s if keyframes else 0.04
    keyframes.append(_Keyframe(t_s=last_end, pts=-1, image=None, spike_before=spike, frame_s=rate_s))
    return keyframes, last_end


@dataclass
class _KeyframeRun:
    keyframes: list[_Keyframe]
    images: dict[int, np.ndarray]  # by pts: a decoder with reordering delay hands frames back late
    spike_after: bool  # an oversized packet after the run's last keyframe
    last_end: float


class _Boundary:
    """Where the second half starts (its first keyframe's pts), once it knows; None if it found none."""

    def __init__(self) -> None:
        self._known = threading.Event()
        self.pts: int | None = None

    def set(self, pts: int) -> None:
        if not self._known.is_set():
            self.pts = pts
            self._known.set()

    def give_up(self) -> None:
        self._known.set()

    def wait(self) -> int | None:
        self._known.wait()
        return self.pts


class _PassProgress:
    """The keyframe pass's share (the first half) of the progress, summed over the halves being read."""

    def __init__(self, report: ProgressCallback | None, duration: float) -> None:
        self._report, self._duration = report, duration
        self._lock = threading.Lock()
        self._done: dict[int, float] = {}
        self._reported = 0.0

    def at(self, reader: int, seconds_read: float) -> None:
        if self._report is None or not self._duration:
            return
        with self._lock:
            self._done[reader] = seconds_read
            fraction = 0.5 * min(1.0, sum(self._done.values()) / self._duration)
            if fraction > self._reported:
                self._reported = fraction
                self._report(fraction)


def _read_keyframes(
    container: av.container.InputContainer,
    progress: _PassProgress,
    *,
    start_s: float | None,
    boundary: _Boundary | None,
) -> _KeyframeRun:
    """Keyframes from ``start_s`` (the keyframe at or before it; None: the start) to the end, or, for the first
    half (``start_s`` None with a ``boundary``), up to the keyframe the second half starts at."""
    stream = container.streams.video[0]
    stream.thread_type = "SLICE"  # frame threads would hold frames back; keyframes decode fast on one core
    origin = _origin(container)
    time_base = stream.time_base
    rate = float(stream.average_rate or stream.guessed_rate or 25)
    width, height = _analysis_size(stream.codec_context.width, stream.codec_context.height)
    second_half = start_s is not None
    if second_half:
        container.seek(int((start_s + origin) / time_base), stream=stream, backward=True, any_frame=False)
    reader = threading.get_ident()
    first_t: float | None = None
    stop_pts: int | None = None
    keyframes: list[_Keyframe] = []
    images: dict[int, np.ndarray] = {}
    recent: deque[int] = deque(maxlen=SPIKE_WINDOW)  # sizes of the latest inter-frame packets, decode order
    spike = False
    last_end = 0.0
    for index, packet in enumerate(container.demux(stream)):
        if packet.pts is None or packet.size == 0:
            continue
        t_s = float(packet.pts * time_base) - origin
        if packet.is_keyframe and boundary is not None:
            if second_half and not keyframes:
                boundary.set(packet.pts)
            elif not second_half and t_s >= MIN_SPLIT_S / 4:
                stop_pts = boundary.wait() if stop_pts is None else stop_pts
                if stop_pts is not None and packet.pts >= stop_pts:
                    break
        first_t = t_s if first_t is None else first_t
        last_end = max(last_end, t_s + 1.0 / rate)
        if index % PROGRESS_EVERY_FRAMES == 0:
            progress.at(reader, t_s - first_t)
        if not packet.is_keyframe:
            # A keyframe's own size is left out: it would inflate the median that inter frames are judged by.
            if len(recent) >= 8 and packet.size > SPIKE_RATIO * float(np.percentile(recent, 90)):
                spike = True
            recent.append(packet.size)
            continue
        for frame in stream.codec_context.decode(packet):
            if frame.pts is not None:
                images[frame.pts] = _hsv(frame, width, height)
        keyframes.append(_Keyframe(t_s=t_s, pts=packet.pts, image=None, spike_before=spike, frame_s=1.0 / rate))
        spike = False
    for frame in stream.codec_context.decode(None):  # frames the decoder still held
        if frame.pts is not None:
            images[frame.pts] = _hsv(frame, width, height)
    return _KeyframeRun(keyframes=keyframes, images=images, spike_after=spike, last_end=last_end)


def _suspect_ranges(keyframes: list[_Keyframe], min_change: float) -> list[tuple[_Keyframe, _Keyframe]]:
    """Runs of consecutive suspect stretches, each as (keyframe it starts at, keyframe it ends at); an end
    keyframe with pts -1 is the end of the video."""
    ranges: list[tuple[_Keyframe, _Keyframe]] = []
    intervals = [after.t_s - before.t_s for before, after in itertools.pairwise(keyframes) if after.pts >= 0]
    usual = float(np.median(intervals)) if intervals else 0.0  # the regular GOP: most intervals are
    for before, after in itertools.pairwise(keyframes):
        if before.image is not None and after.image is not None:
            changed = _hsv_change(before.image, after.image) >= min_change
        else:
            changed = True
        off_cadence = after.pts >= 0 and after.t_s - before.t_s < usual - OFF_CADENCE_FRAMES * after.frame_s
        too_long = after.t_s - before.t_s > MAX_TRUSTED_STRETCH_S
        if not (changed or off_cadence or too_long or after.spike_before):
            continue
        if ranges and ranges[-1][1] is before:
            ranges[-1] = (ranges[-1][0], after)
        else:
            ranges.append((before, after))
    return ranges


class _RangeScanner:
    """Full-rate content detection over stretches of one stream (or all of it)."""

    def __init__(self, container: av.container.InputContainer, threshold: float, decode_threads: int = DECODE_THREADS):
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = decode_threads
        self._container, self._stream, self._threshold = container, stream, threshold
        self._rate = stream.average_rate or stream.guessed_rate or 25
        self._size = _analysis_size(stream.codec_context.width, stream.codec_context.height)
        self._origin = _origin(container)

    def scan(
        self, start_pts: int | None, end_s: float | None, on_progress: ProgressCallback | None
    ) -> tuple[list[float], float, int]:
        """Cuts in [start, end] (end included: a cut ON the closing keyframe belongs to this stretch), the end
        time of the last frame decoded, and the number of frames decoded."""
        container, stream = self._container, self._stream
        stream.codec_context.flush_buffers()
        if start_pts is not None:
            container.seek(start_pts, stream=stream, backward=True, any_frame=False)
        # No flash filter here (it would hide a cut in a stretch's first 0.6 s): _scenes merges close cuts.
        detector = ContentDetector(threshold=self._threshold, min_scene_len=0.0)
        width, height = self._size
        rate = float(self._rate)
        expected = stream.frames or round(_container_duration(container) * rate)
        cuts: list[float] = []
        last_end = 0.0
        decoded = 0
        for frame in container.decode(stream):
            if frame.pts is None or frame.time_base is None:
                continue
            if start_pts is not None and frame.pts < start_pts:
                continue  # decoded on the way from an earlier keyframe the seek landed on
            seconds = float(frame.pts * frame.time_base) - self._origin
            decoded += 1
            last_end = max(last_end, seconds + 1.0 / rate)
            if on_progress is not None and decoded % PROGRESS_EVERY_FRAMES == 0 and expected:
                on_progress(min(1.0, decoded / expected))
            image = frame.to_ndarray(width=width, height=height, format="bgr24", interpolation="AREA")
            cuts += [cut.seconds for cut in detector.process_frame(FrameTimecode(seconds, self._rate), image)]
            if end_s is not None and seconds >= end_s - 1e-6:
                break
        if on_progress is not None:
            on_progress(1.0)
        return cuts, last_end, decoded


def _all_intra(keyframes: list[_Keyframe]) -> bool:
    intervals = sorted(b.t_s - a.t_s for a, b in itertools.pairwise(keyframes) if b.pts >= 0)
    if len(intervals) < 4:
        return False
    return intervals[len(intervals) // 2] <= DENSE_KEYFRAMES_FRAMES * keyframes[0].frame_s + 1e-6


def _scenes(container_duration: float, cuts: list[float], last_end: float) -> Scenes:
    duration = max(container_duration, last_end)
    # The first frame can never be a cut; anything at or before the stream start is not a new shot.
    kept = _merge_close(sorted({round(t, 3) for t in cuts if 0.0 < t < duration}))
    return Scenes(cuts_s=kept, duration_s=round(duration, 3))


def _merge_close(cuts: list[float]) -> list[float]:
    """Cuts found in separate stretches can fall closer than MIN_SCENE_S; keep the first of such a pair."""
    merged: list[float] = []
    for cut in cuts:
        if not merged or cut - merged[-1] >= MIN_SCENE_S:
            merged.append(cut)
    return merged


def _hsv(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    image = frame.to_ndarray(width=width, height=height, format="bgr24", interpolation="AREA")
    return cv2.cvtColor(image, cv2.COLOR_BGR2HSV)


def _hsv_change(a: np.ndarray, b: np.ndarray) -> float:
    """ContentDetector's score (default weights): the mean of the mean absolute hue, saturation and value changes."""
    delta = np.abs(a.astype(np.int16) - b.astype(np.int16)).reshape(-1, 3).mean(axis=0)
    return float(delta.mean())


def _analysis_size(width: int, height: int) -> tuple[int, int]:
    """Frame size for analysis: ~256 px wide (never upscaled), even dimensions for the colour conversion."""
    if width <= ANALYSIS_WIDTH:
        return width, height
    scaled_height = max(2, round(height * ANALYSIS_WIDTH / width / 2) * 2)
    return ANALYSIS_WIDTH, scaled_height


def _origin(container: av.container.InputContainer) -> float:
    return container.start_time / av.time_base if container.start_time else 0.0


def _container_duration(container: av.container.InputContainer) -> float:
    return container.duration / av.time_base if container.duration else 0.0
