"""The clip's hook is burned as a boxed overlay near the top for its opening seconds (libass draws it for real)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from clipped.media.ffmpeg import ffmpeg_exe
from clipped.render.captions_ass import HOOK_SECONDS, build_ass
from clipped.render.filtergraph import FONTS_DIR, ass_filter
from clipped.types import Word

WORDS = [
    Word(word=w, start_s=10 + i * 0.4, end_s=10.3 + i * 0.4) for i, w in enumerate(["so", "here", "is", "the", "thing"])
]
WIDTH, HEIGHT = 270, 480


def test_the_hook_is_one_boxed_top_event_over_the_opening() -> None:
    plain = build_ass(WORDS, 10.0, 30.0, 1080, 1920)
    hooked = build_ass(WORDS, 10.0, 30.0, 1080, 1920, hook="  Nobody tells you {this} ")
    assert "Hook" not in plain
    hook_lines = [line for line in hooked.splitlines() if ",Hook," in line or line.startswith("Style: Hook")]
    style, event = hook_lines
    fields = style.split(",")
    assert fields[15] == "3" and fields[18] == "8"  # an opaque box, top centre
    assert event == r"Dialogue: 1,0:00:00.00,0:00:03.00,Hook,,0,0,0,,Nobody tells you \{this\}"
    assert hooked.replace(style + "\n", "").replace(event + "\n", "") == plain  # the captions are untouched
    short = build_ass(WORDS, 10.0, 11.5, 1080, 1920, hook="Nobody tells you this")
    assert "0:00:00.00,0:00:01.50,Hook" in short and HOOK_SECONDS == 3.0


def test_libass_draws_the_hook_at_the_top_only_while_it_lasts(tmp_path: Path) -> None:
    script = tmp_path / "captions.ass"
    script.write_text(build_ass(WORDS, 10.0, 14.0, WIDTH, HEIGHT, hook="Nobody tells you this"))
    frames = []
    for second in (1.0, 3.5):  # inside the hook's time, then after it
        command = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
            "-f", "lavfi", "-i", f"color=c=gray:s={WIDTH}x{HEIGHT}:r=10:d=4",
            "-vf", f"{ass_filter(script, FONTS_DIR)},select=eq(n\\,{int(second * 10)}),format=gray",
            "-frames:v", "1", "-f", "rawvideo", "-",
        ]  # fmt: skip
        raw = subprocess.run(command, capture_output=True, check=True, timeout=60).stdout
        frames.append(np.frombuffer(raw, dtype=np.uint8).reshape(HEIGHT, WIDTH))
    during, after = (frame[: HEIGHT // 4] for frame in frames)
    assert (during < 60).mean() > 0.05 and (during > 200).mean() > 0.005  # a dark box with white letters
    assert (after < 60).mean() < 0.001 and (after > 200).mean() < 0.001  # gone after the opening
