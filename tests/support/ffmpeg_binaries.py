"""The two ffmpeg binaries Clipped must work with, as a fixture that runs a test once with each.

``system`` is the distribution's ffmpeg on PATH (Debian 12 ships 5.1; ``make test`` installs it) and ``pip`` is
imageio-ffmpeg's static build. A missing or unusable system ffmpeg fails the test instead of skipping it:
a skip is how the 5.1 incompatibility went unnoticed.

A test module imports ``ffmpeg_binary_fixture`` and asks for ``ffmpeg_binary`` (the import's name differs from
the fixture's so that parameters named after the fixture do not shadow the import).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import imageio_ffmpeg
import pytest

from clipped.media.capabilities import probe_ffmpeg
from clipped.media.ffmpeg import OVERRIDE_VARIABLE, ffmpeg_exe

FFMPEG_KINDS = ("system", "pip")


def ffmpeg_path(kind: str) -> str:
    """The binary of ``kind``; fails the test when the system one is not installed."""
    if kind == "pip":
        return imageio_ffmpeg.get_ffmpeg_exe()
    system = shutil.which("ffmpeg")
    if system is None:
        pytest.fail("no ffmpeg on PATH: install Debian's (`make test` does: apt-get install ffmpeg)")
    return system


@contextmanager
def using_ffmpeg(kind: str) -> Iterator[str]:
    """Make ``ffmpeg_exe()`` return the binary of ``kind`` for the duration, through the user's own override."""
    path = ffmpeg_path(kind)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(OVERRIDE_VARIABLE, path)
        chosen = ffmpeg_exe()
        if chosen != path:  # the override is skipped when it fails the probe: say why instead of testing another
            pytest.fail(f"the {kind} ffmpeg is not usable: {probe_ffmpeg(path).describe()}")
        yield path


# Grouped by binary so that, under pytest-xdist's loadgroup, one worker renders a module's clips with one binary
# instead of every worker rendering them with both.
@pytest.fixture(
    name="ffmpeg_binary",
    scope="module",
    params=[pytest.param(kind, marks=pytest.mark.xdist_group(f"ffmpeg-{kind}")) for kind in FFMPEG_KINDS],
)
def ffmpeg_binary_fixture(request: pytest.FixtureRequest) -> Iterator[str]:
    """Path of the ffmpeg the test runs with, once ``system`` and once ``pip``; ``ffmpeg_exe()`` returns it."""
    with using_ffmpeg(request.param) as path:
        yield path
