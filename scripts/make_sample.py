"""Build the bundled demo sample `samples/clipped_sample.mp4` from the public-domain material in tests/data.

Three shots (a scene cut between each), a real face that drifts across the frame, and ~73 s of speech:
LibriVox (human), Piper and espeak-ng (synthetic) readings. Run: `python scripts/make_sample.py`.
"""

from __future__ import annotations

import math
from pathlib import Path

import soundfile

from clipped.media.ffmpeg import run_ffmpeg

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
OUT = Path(__file__).resolve().parent.parent / "samples" / "clipped_sample.mp4"

# (speech file, background colour, face x path as an ffmpeg expression of t)
SHOTS = [
    ("librivox_austen_5utt.wav", "0x1d2b3a", "180+t*18"),
    ("piper_harvard1.wav", "0x3a2b1d", "760-t*15"),
    ("espeak_enus_harvard1.wav", "0x16402a", "800+60*sin(t/3)"),
]


def build_shot(speech: str, colour: str, face_x: str, out: Path) -> None:
    # Both streams are cut to the same whole number of frames, so concatenated shots stay in sync.
    frames = math.ceil(soundfile.info(str(DATA / speech)).duration * 25) + 5
    seconds = frames / 25
    run_ffmpeg(
        [
            "-loop",
            "1",
            "-framerate",
            "25",
            "-i",
            str(DATA / "astronaut.png"),
            "-f",
            "lavfi",
            "-i",
            f"color=c={colour}:s=1280x720:r=25",
            "-i",
            str(DATA / speech),
            "-filter_complex",
            f"[0:v]scale=420:420[face];[1:v][face]overlay=x='{face_x}':y=150:shortest=1,format=yuv420p[v]",
            "-map",
            "[v]",
            "-map",
            "2:a",
            "-af",
            "apad",
            "-t",
            f"{seconds:.2f}",
            "-c:v",
            "libx264",
            "-preset",
            "medium",
            "-crf",
            "30",
            "-g",
            "50",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-ar",
            "44100",
            "-ac",
            "1",
            str(out),
        ]
    )


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    shots = []
    for index, (speech, colour, face_x) in enumerate(SHOTS):
        shot = OUT.parent / f".shot{index}.mp4"
        build_shot(speech, colour, face_x, shot)
        shots.append(shot)
    listing = OUT.parent / ".shots.txt"
    listing.write_text("".join(f"file '{shot.name}'\n" for shot in shots))
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", "-movflags", "+faststart", str(OUT)])
    for path in [*shots, listing]:
        path.unlink()
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
