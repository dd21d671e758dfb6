"""Audio for Whisper: 16 kHz mono float32 laid out on the source's own timeline.

faster-whisper's own decoder concatenates decoded samples and ignores timestamps, so in a file whose audio
has holes (concatenated shots, dropped packets, audio that starts late) every later word would be placed early.
Here each hole is filled with silence, so a word's time in the transcript is its time in the video.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

WHISPER_SAMPLE_RATE = 16_000
# Holes shorter than this are rounding between packet timestamps, not missing audio.
_GAP_TOLERANCE_S = 0.02


def load_audio_for_asr(path: Path) -> np.ndarray:
    """The first audio stream of ``path`` as 16 kHz mono float32, with silence where the stream has holes."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError(f"{path} has no audio stream")
        stream = container.streams.audio[0]
        time_base = stream.time_base
        origin_s = (container.start_time or 0) / av.time_base
        chunks: list[np.ndarray] = []
        resampler = _mono_16k_resampler()
        input_end_s = 0.0  # where the audio decoded so far ends on the timeline
        for frame in container.decode(stream):
            if frame.pts is not None and time_base is not None and frame.sample_rate:
                start_s = float(frame.pts * time_base) - origin_s
                gap_s = start_s - input_end_s
                if gap_s > _GAP_TOLERANCE_S:
                    # Drain what the resampler holds before the hole, so the silence lands exactly there.
                    chunks.extend(_samples(resampler, None))
                    resampler = _mono_16k_resampler()
                    chunks.append(np.zeros(round(gap_s * WHISPER_SAMPLE_RATE), dtype=np.float32))
                input_end_s = max(input_end_s, start_s + frame.samples / frame.sample_rate)
            chunks.extend(_samples(resampler, frame))
        chunks.extend(_samples(resampler, None))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def _mono_16k_resampler() -> av.AudioResampler:
    return av.AudioResampler(format="flt", layout="mono", rate=WHISPER_SAMPLE_RATE)


def _samples(resampler: av.AudioResampler, frame: av.AudioFrame | None) -> list[np.ndarray]:
    return [out.to_ndarray().reshape(-1).astype(np.float32, copy=False) for out in resampler.resample(frame)]


def chunk_bounds(
    audio: np.ndarray, rate: int, chunk_s: float, *, search_s: float = 20.0, window_s: float = 0.2
) -> list[tuple[int, int]]:
    """Sample ranges of about ``chunk_s`` that cover ``audio``, each cut at the quietest moment in the last
    ``search_s`` before its nominal end, so a cut rarely splits a word. ``chunk_s <= 0`` gives one range."""
    total = len(audio)
    if chunk_s <= 0 or total <= chunk_s * rate * 1.5:
        return [(0, total)]
    window = max(1, int(window_s * rate))
    bounds: list[tuple[int, int]] = []
    first = 0
    while total - first > chunk_s * rate * 1.5:
        nominal = first + int(chunk_s * rate)
        search_from = max(first + window, nominal - int(search_s * rate))
        region = audio[search_from:nominal]
        usable = len(region) // window * window
        energy = np.square(region[:usable], dtype=np.float32).reshape(-1, window).mean(axis=1)
        cut = search_from + int(np.argmin(energy)) * window + window // 2 if len(energy) else nominal
        bounds.append((first, cut))
        first = cut
    bounds.append((first, total))
    return bounds
