"""Fixtures shared by the suites: generated media and a throwaway Clipped environment."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance, instance_for_test

from clipped.media.ffmpeg import run_ffmpeg

# Real servers the tests start: a PostgreSQL cluster and a moto S3 endpoint (see tests/support/).
pytest_plugins = ["tests.support.postgres", "tests.support.s3_server"]

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "clipped_sample.mp4"
DATA = ROOT / "tests" / "data"


@dataclass
class ClippedEnv:
    home: Path
    media: Path  # the allowed root for local sources
    instance: DagsterInstance


@pytest.fixture
def clipped_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClippedEnv]:
    """CLIPPED_HOME in tmp, local sources allowed only under tmp/media, an ephemeral Dagster instance."""
    home, media = tmp_path / "home", tmp_path / "media"
    media.mkdir()
    monkeypatch.setenv("CLIPPED_HOME", str(home))
    monkeypatch.setenv("CLIPPED_ALLOWED_ROOTS", str(media))
    with instance_for_test() as instance:
        yield ClippedEnv(home=home, media=media, instance=instance)


def make_video(
    out: Path, *, seconds: float = 3, size: str = "320x240", audio: str | None = "sine=frequency=440", rate: int = 25
) -> Path:
    """A small synthetic video (test pattern) with an optional lavfi audio source."""
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"{audio}:duration={seconds}" if "duration" not in audio else audio]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac", "-shortest"] if audio else ["-an"]
    run_ffmpeg([*args, str(out)])
    return out


@pytest.fixture(scope="session")
def sample_video() -> Path:
    return SAMPLE


def copy_sample(folder: Path, name: str = "talk.mp4") -> Path:
    target = folder / name
    shutil.copyfile(SAMPLE, target)
    return target
