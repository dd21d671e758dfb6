"""Benchmark footage that moves like a camera: a virtual handheld camera over public-domain photos, with speech.

Shots of 3-12 s alternate between the 1927 Solvay group photo (29 faces) and the astronaut portrait. In each
shot the camera frames one subject face and wanders around it (smooth random pan, zoom and roll from a few
low-frequency sinusoids, plus a faster shake), the light drifts (gain and offset), and every frame gets fresh
film grain, so no two frames are alike and a decoder works as it does on camera footage. Shots are joined by
hard cuts. The speech is the bundled LibriVox and Harvard-sentence recordings with pauses, looped.

Generating 60 minutes frame by frame costs far more than the pipeline under test, so one unique segment
(``segment_s``, default 240 s) is rendered and the long file is that segment repeated by stream copy: every
frame still has to be decoded, and the motion, cuts and faces stay real; only the content repeats every
``segment_s``. The ground truth (cut times, the subject face's centre per frame) is written beside the video as
JSON, for scene-cut recall and reframing metrics. Files are cached under bench/out/footage by their parameters.

    python bench/moving_footage.py --resolution 720p --minutes 60
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipped.media.ffmpeg import ffmpeg_exe, run_ffmpeg  # noqa: E402

DATA = ROOT / "tests" / "data"
FOOTAGE_DIR = ROOT / "bench" / "out" / "footage"
RESOLUTIONS: dict[str, tuple[int, int, int]] = {"720p": (1280, 720, 25), "1080p": (1920, 1080, 30)}
SPEECH_FILES = ("librivox_austen_5utt.wav", "piper_harvard1.wav", "espeak_enus_harvard1.wav")
GRAIN_POOL = 16  # distinct grain frames, drawn at random offsets so the pattern never repeats frame to frame
FOOTAGE_VERSION = 1  # bump when the generator's output changes, so cached files are rebuilt


@dataclass(frozen=True)
class Shot:
    start_frame: int
    frames: int
    image: str  # "solvay" or "astronaut"
    subject: tuple[float, float, float]  # face centre x, y and size in the photo's pixels
    zoom: float  # output pixels per photo pixel at the shot's rest zoom
    seed: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", choices=sorted(RESOLUTIONS), default="720p")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--segment-s", type=float, default=240.0)
    args = parser.parse_args()
    video = moving_footage(args.resolution, args.minutes, segment_s=args.segment_s)
    print(video)


def moving_footage(resolution: str, minutes: float, *, segment_s: float = 240.0, seed: int = 7) -> Path:
    """The cached long file (building it when missing); its ground truth is ``<file>.truth.json``."""
    FOOTAGE_DIR.mkdir(parents=True, exist_ok=True)
    segment_s = min(segment_s, minutes * 60)
    tag = f"v{FOOTAGE_VERSION}_{resolution}_seg{segment_s:g}_s{seed}"
    segment = FOOTAGE_DIR / f"segment_{tag}.mp4"
    if not segment.exists():
        render_segment(resolution, segment_s, segment, seed)
    long_file = FOOTAGE_DIR / f"moving_{tag}_{minutes:g}min.mp4"
    if not long_file.exists():
        loop_segment(segment, minutes * 60, long_file)
        write_long_truth(segment, minutes * 60, long_file)
    return long_file


def render_segment(resolution: str, duration_s: float, out: Path, seed: int) -> None:
    width, height, fps = RESOLUTIONS[resolution]
    rng = np.random.default_rng(seed)
    photos = {"solvay": cv2.imread(str(DATA / "solvay_conference_1927.jpg")), "astronaut": _astronaut()}
    faces = {name: _photo_faces(image) for name, image in photos.items()}
    total_frames = round(duration_s * fps)
    shots = plan_shots(total_frames, fps, width, faces, rng)
    speech = speech_track(duration_s, out.with_suffix(".wav"))
    grain = rng.normal(0, 4, size=(GRAIN_POOL, height + 64, width + 64, 1)).astype(np.int16)
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "-",
        "-i", str(speech),
        # A VOD-like encode: 2 s GOPs with x264's scene-cut keyframes, B-frames, AAC speech.
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", str(2 * fps), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", "-shortest", "-movflags", "+faststart", str(out.with_suffix(".tmp.mp4")),
    ]  # fmt: skip
    truth: dict = {"fps": fps, "width": width, "height": height, "cuts_s": [], "subject": []}
    encoder = subprocess.Popen(command, stdin=subprocess.PIPE)
    assert encoder.stdin is not None
    for shot in shots:
        if shot.start_frame:
            truth["cuts_s"].append(round(shot.start_frame / fps, 4))
        photo = photos[shot.image]
        motion = CameraMotion(shot, fps, rng)
        for index in range(shot.frames):
            matrix = motion.matrix(index, width, height)
            frame = cv2.warpAffine(
                photo, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
            gain, offset = motion.light(index)
            frame = cv2.convertScaleAbs(frame, alpha=gain, beta=offset)
            dy, dx = rng.integers(0, 64, size=2)
            noisy = frame.astype(np.int16) + grain[rng.integers(GRAIN_POOL), dy : dy + height, dx : dx + width]
            encoder.stdin.write(np.clip(noisy, 0, 255).astype(np.uint8).tobytes())
            cx, cy, size = shot.subject
            fx, fy = matrix @ np.array([cx, cy, 1.0])
            truth["subject"].append([round(float(fx), 1), round(float(fy), 1), round(size * motion.scale(index), 1)])
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise RuntimeError("ffmpeg failed to encode the footage")
    out.with_suffix(".tmp.mp4").replace(out)
    out.with_suffix(".truth.json").write_text(json.dumps(truth))


class CameraMotion:
    """Pan, zoom and roll of one shot: slow sinusoids of random phase plus a faster small shake."""

    def __init__(self, shot: Shot, fps: int, rng: np.random.Generator):
        self.shot, self.fps = shot, fps
        self.phases = rng.uniform(0, 2 * math.pi, size=12)
        self.periods = rng.uniform(3.0, 9.0, size=4)
        self.wander = rng.uniform(0.08, 0.22)  # how far the subject strays from the frame centre, in frame widths

    def scale(self, index: int) -> float:
        t = index / self.fps
        return self.shot.zoom * (1 + 0.12 * math.sin(2 * math.pi * t / self.periods[2] + self.phases[2]))

    def matrix(self, index: int, width: int, height: int) -> np.ndarray:
        t = index / self.fps
        p = self.phases
        # Where the subject appears in the frame: wanders around the centre.
        fx = width / 2 + self.wander * width * math.sin(2 * math.pi * t / self.periods[0] + p[0])
        fy = height / 2 + 0.3 * self.wander * height * math.sin(2 * math.pi * t / self.periods[1] + p[1])
        shake_x = 3.0 * math.sin(2 * math.pi * 2.3 * t + p[3]) + 2.0 * math.sin(2 * math.pi * 5.1 * t + p[4])
        shake_y = 2.5 * math.sin(2 * math.pi * 1.9 * t + p[5]) + 1.5 * math.sin(2 * math.pi * 4.3 * t + p[6])
        roll = 2.0 * math.sin(2 * math.pi * t / self.periods[3] + p[7]) + 0.3 * math.sin(2 * math.pi * 3.1 * t + p[8])
        cx, cy, _size = self.shot.subject
        matrix = cv2.getRotationMatrix2D((cx, cy), roll, self.scale(index))
        # Move the subject (the rotation centre) to its place in the frame.
        matrix[:, 2] += np.array([fx + shake_x - cx, fy + shake_y - cy])
        return matrix

    def light(self, index: int) -> tuple[float, float]:
        t = index / self.fps
        gain = 1.0 + 0.15 * math.sin(2 * math.pi * t / 7.0 + self.phases[9])
        offset = 12.0 * math.sin(2 * math.pi * t / 11.0 + self.phases[10])
        return gain, offset


def plan_shots(
    total_frames: int, fps: int, width: int, faces: dict[str, list[tuple[float, float, float]]], rng
) -> list[Shot]:
    shots: list[Shot] = []
    start = 0
    while start < total_frames:
        frames = min(total_frames - start, int(rng.uniform(3.0, 12.0) * fps))
        image = "astronaut" if len(shots) % 3 == 2 else "solvay"
        subject = faces[image][int(rng.integers(len(faces[image])))]
        # A face 9-16 % of the frame width: a speaker in a medium close-up.
        zoom = rng.uniform(0.09, 0.16) * width / subject[2]
        shots.append(Shot(start, frames, image, subject, zoom, int(rng.integers(1 << 30))))
        start += frames
    return shots


def speech_track(duration_s: float, out: Path) -> Path:
    """The bundled speech recordings with 0.3-1.5 s pauses, repeated to ``duration_s`` (16 kHz mono WAV)."""
    rng = np.random.default_rng(3)
    pieces = []
    for name in SPEECH_FILES:
        audio, rate = sf.read(DATA / name, dtype="float32")
        assert rate == 16000
        pieces.append(audio if audio.ndim == 1 else audio.mean(axis=1))
    track: list[np.ndarray] = []
    length = 0
    while length < duration_s * 16000:
        piece = pieces[len(track) // 2 % len(pieces)] if len(track) % 2 == 0 else None
        chunk = piece if piece is not None else np.zeros(int(rng.uniform(0.3, 1.5) * 16000), dtype=np.float32)
        track.append(chunk)
        length += len(chunk)
    sf.write(out, np.concatenate(track)[: int(duration_s * 16000)], 16000)
    return out


def loop_segment(segment: Path, total_s: float, out: Path) -> None:
    tmp = out.with_suffix(".tmp.mp4")
    run_ffmpeg(["-stream_loop", "-1", "-i", str(segment), "-t", f"{total_s:.3f}", "-c", "copy",
                "-movflags", "+faststart", str(tmp)])  # fmt: skip
    tmp.replace(out)


def write_long_truth(segment: Path, total_s: float, long_file: Path) -> None:
    """The segment's ground truth repeated over the long file (each loop starts with a cut).

    A stream-copy loop restarts a little after the segment's nominal length (the audio's encoder delay), so each
    loop's start is read from the long file: the time of its first video frame.
    """
    truth = json.loads(segment.with_suffix(".truth.json").read_text())
    segment_frames = len(truth["subject"])
    with av.open(str(long_file)) as container:
        stream = container.streams.video[0]
        origin = (container.start_time or 0) / av.time_base
        times = sorted(float(p.pts * stream.time_base) - origin for p in container.demux(stream) if p.pts is not None)
    loop_starts = times[::segment_frames]
    cuts: list[float] = []
    for loop, offset in enumerate(loop_starts):
        if loop:
            cuts.append(round(offset, 4))
        cuts += [round(offset + cut, 4) for cut in truth["cuts_s"] if offset + cut < total_s]
    truth["cuts_s"] = cuts
    truth["loop_starts_s"] = [round(t, 4) for t in loop_starts]
    long_file.with_suffix(".truth.json").write_text(json.dumps(truth))


def _astronaut() -> np.ndarray:
    # 512 px is too small to fill a 1080p frame at face-close-up zooms without blur; upscale once, smoothly.
    return cv2.resize(cv2.imread(str(DATA / "astronaut.png")), (1536, 1536), interpolation=cv2.INTER_CUBIC)


def _photo_faces(image: np.ndarray) -> list[tuple[float, float, float]]:
    """Face centres and sizes in the photo, found once with the pipeline's own detector at full resolution."""
    from clipped_resources.vision import RetinaFaceVision

    detector = RetinaFaceVision(max_side=max(image.shape[:2]))
    faces = detector.detect_faces(image)
    if not faces:
        raise RuntimeError("no face found in a footage photo")
    return [(f.x + f.w / 2, f.y + f.h / 2, math.sqrt(f.w * f.h)) for f in faces]


if __name__ == "__main__":
    main()
