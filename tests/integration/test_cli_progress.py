"""`clipped run` on a terminal: the progress bars move while the run works, not all at once when it ends."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance

from clipped.media.ffmpeg import run_ffmpeg
from clipped.stages import CLIP_JOB_STEPS
from tests.conftest import DATA

pytestmark = pytest.mark.slow
CLIPPED = Path(sys.executable).parent / "clipped"
STEPS = CLIP_JOB_STEPS
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def speech_video(out: Path) -> Path:
    """26 s of LibriVox speech over a test pattern: the shortest input that still makes a clip."""
    run_ffmpeg([
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-i", str(DATA / "librivox_austen_5utt.wav"),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out),
    ])  # fmt: skip
    return out


def run_under_pty(command: list[str], env: dict[str, str], timeout_s: float) -> tuple[list[tuple[float, str]], float]:
    """Run ``command`` with a pseudo-terminal as stdout and stderr; return (arrival time, text) chunks and the
    time the process ended."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal)
    os.close(terminal)
    chunks: list[tuple[float, str]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(controller, 65536)
            except OSError:  # the terminal closed: the process has ended
                break
            if not data:
                break
            chunks.append((time.monotonic(), data.decode(errors="replace")))
        process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    assert process.returncode == 0, _ANSI.sub("", "".join(text for _, text in chunks))[-3000:]
    return chunks, time.monotonic()


def test_bars_move_live_in_pipeline_order_with_an_estimate(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    video = speech_video(media / "reading.mp4")
    env = {
        **os.environ,
        "CLIPPED_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "COLUMNS": "120",
        "TERM": "xterm-256color",
    }
    env.pop("NO_COLOR", None)
    command = [str(CLIPPED), "run", str(video), "--max-clips", "1", "--min-duration", "5", "--max-duration", "20"]
    chunks, ended_at = run_under_pty([*command, "--out", str(tmp_path / "clips")], env, timeout_s=420)

    def first_arrival(pattern: str) -> float:
        seen = ""
        for at, text in chunks:
            seen += _ANSI.sub("", text)
            if re.search(pattern, seen):
                return at
        raise AssertionError(f"never shown: {pattern}")

    # Redraws arrive while the run works: the first step is drawn done well before the last one is.
    source_done = first_arrival(r"source_video\s+━+\s+100%")
    render_started = first_arrival(r"rendered_clips\s+[━╺╸]+\s+[1-9]\d?%\s+\d:\d\d:\d\d\s+(~\d+:\d\d left|estimating)")
    render_done = first_arrival(r"rendered_clips\s+━+\s+100%")
    assert source_done < render_started <= render_done < ended_at
    assert render_done - source_done > 2.0, "the bars were drawn in one burst"
    redraws = [at for at, text in chunks if "rendered_clips" in text and at < render_done]
    assert len(redraws) >= 3
    # The final frame lists every step in pipeline order with its time; running steps showed the time left.
    last = _ANSI.sub("", "".join(text for _, text in chunks))
    frame = last[last.rfind("source_video") :]
    positions = [frame.find(step) for step in STEPS]
    assert -1 not in positions and positions == sorted(positions), frame
    assert re.search(r"rendered_clips\s+━+\s+100%\s+\d:\d\d:\d\d\s*$", frame, re.MULTILINE), frame
    assert re.search(r"[1-9]\d?%\s+\d:\d\d:\d\d\s+~\d+:\d\d left", last), "no estimate of the time left"
    assert "clips from" in last  # the result table follows the bars


def test_a_refused_source_registers_no_partition_and_no_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clipped_app.cli import app

    env = {"CLIPPED_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    refused = CliRunner().invoke(app, ["run", "https://video.example.net/talk.mp4"], env=env)
    assert refused.exit_code == 1
    assert "host video.example.net is not on the allowlist" in " ".join(refused.output.split())
    missing = CliRunner().invoke(app, ["run", str(tmp_path / "nowhere.mp4")], env=env)
    assert missing.exit_code == 1 and "file not found" in missing.output
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    instance = DagsterInstance.from_config(str(tmp_path / "dagster_home"))
    assert instance.get_dynamic_partitions("source_video") == []
    assert instance.get_runs() == []
