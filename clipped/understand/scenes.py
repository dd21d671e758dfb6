"""Shot boundaries (hard cuts) of a video, found with PySceneDetect's content detector.

We decode with PyAV ourselves and feed the detector directly rather than going through PySceneDetect's PyAV
backend, for timing rather than speed (both spend most of their time decoding): the backend dates frames by
counting them, which drifts from the real timeline when the video stream starts late, has gaps or a variable
rate. Here a cut is the presentation time of its first frame measured from the container start, the origin
ffmpeg's ``-ss`` counts from (an MPEG-TS file often starts at 1.4 s, not 0). swscale shrinks each analysed
frame straight to ~256 px BGR, skipping the backend's full-size conversion.

Every frame is decoded (H.264 cannot skip references), but only every n-th frame is analysed, keeping at
least 12.5 analysed frames per second: at 25-30 fps every second frame, so a cut is reported at most one
frame late (0.04 s at 25 fps); below 25 fps every frame.
"""

from __future__ import annotations

from pathlib import Path

import av
from scenedetect import ContentDetector
from scenedetect.common import FrameTimecode

from clipped.media.ffmpeg import MediaToolError
from clipped.progress import ProgressCallback
from clipped.types import Scenes

ANALYSIS_WIDTH = 256
MIN_ANALYSIS_FPS = 12.5
MIN_SCENE_S = 0.6
"""Cuts closer than this are merged (flashes, fades that trip the detector twice)."""

PROGRESS_EVERY_FRAMES = 250


def detect_scenes(video_path: Path, *, on_progress: ProgressCallback | None = None, threshold: float = 27.0) -> Scenes:
    """Cut times (seconds, the first frame of each new shot, 0.0 excluded) and the duration of the video.

    ``threshold`` is ContentDetector's: the mean HSV change between analysed frames that counts as a cut
    (lower finds more cuts). ``on_progress`` gets the fraction of frames decoded. A file without a video
    stream has no cuts. Raises :class:`MediaToolError` when the file cannot be opened or decoded.
    """
    try:
        with av.open(str(video_path)) as container:
            if not container.streams.video:
                return Scenes(cuts_s=[], duration_s=_container_duration(container))
            return _detect(container, on_progress, threshold)
    except av.error.FFmpegError as exc:
        raise MediaToolError(f"cannot read video {video_path.name}: {exc}") from exc


def _detect(container: av.container.InputContainer, on_progress: ProgressCallback | None, threshold: float) -> Scenes:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    rate = stream.average_rate or stream.guessed_rate or 25
    stride = max(1, int(float(rate) / MIN_ANALYSIS_FPS))
    width, height = _analysis_size(stream.codec_context.width, stream.codec_context.height)
    expected_frames = stream.frames or round(_container_duration(container) * float(rate))
    origin = container.start_time / av.time_base if container.start_time else 0.0

    detector = ContentDetector(threshold=threshold, min_scene_len=MIN_SCENE_S)
    cut_times: list[float] = []
    last_end = 0.0
    frame_index = -1
    for frame_index, frame in enumerate(container.decode(stream)):
        if frame.pts is None or frame.time_base is None:
            continue
        seconds = float(frame.pts * frame.time_base) - origin
        last_end = max(last_end, seconds + 1.0 / float(rate))
        if on_progress is not None and frame_index % PROGRESS_EVERY_FRAMES == 0 and expected_frames:
            on_progress(min(1.0, frame_index / expected_frames))
        if frame_index % stride:
            continue
        image = frame.to_ndarray(width=width, height=height, format="bgr24", interpolation="AREA")
        for cut in detector.process_frame(FrameTimecode(seconds, rate), image):
            cut_times.append(cut.seconds)
    if frame_index < 0:
        raise MediaToolError("video stream has no decodable frames")
    if on_progress is not None:
        on_progress(1.0)

    duration = max(_container_duration(container), last_end)
    # The first analysed frame can never be a cut; anything at or before the stream start is not a new shot.
    cuts = sorted({round(t, 3) for t in cut_times if 0.0 < t < duration})
    return Scenes(cuts_s=cuts, duration_s=round(duration, 3))


def _analysis_size(width: int, height: int) -> tuple[int, int]:
    """Frame size for analysis: ~256 px wide (never upscaled), even dimensions for the colour conversion."""
    if width <= ANALYSIS_WIDTH:
        return width, height
    scaled_height = max(2, round(height * ANALYSIS_WIDTH / width / 2) * 2)
    return ANALYSIS_WIDTH, scaled_height


def _container_duration(container: av.container.InputContainer) -> float:
    return container.duration / av.time_base if container.duration else 0.0
