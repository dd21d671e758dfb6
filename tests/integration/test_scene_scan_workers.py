"""Suspect stretches are scanned by one decoder per core side by side; the cuts must not depend on how many."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from clipped.understand import scenes

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "clipped_sample.mp4"


@pytest.mark.parametrize("cores", [2, 3])
def test_cuts_are_the_same_whatever_the_number_of_scanners(monkeypatch: pytest.MonkeyPatch, cores: int) -> None:
    monkeypatch.setattr(scenes, "available_cores", lambda: 1)
    one = scenes.detect_scenes(SAMPLE)
    scanners: set[str] = set()
    scan = scenes._RangeScanner.scan

    def recording_scan(self, *args, **kwargs):
        scanners.add(threading.current_thread().name)
        return scan(self, *args, **kwargs)

    monkeypatch.setattr(scenes._RangeScanner, "scan", recording_scan)
    monkeypatch.setattr(scenes, "available_cores", lambda: cores)
    progress: list[float] = []
    several = scenes.detect_scenes(SAMPLE, on_progress=progress.append)

    assert several == one and len(one.cuts_s) == 2
    assert len(scanners) >= 2  # the sample's two cuts lie in separate stretches, one per scanner
    assert progress == sorted(progress) and progress[-1] == 1.0
