"""`clipped run --out` writes each clip's captions as clip_NN.srt beside its MP4, on the clip's own timeline."""

from __future__ import annotations

from pathlib import Path

import webvtt

from clipped.layout import SourceRef
from clipped_app.pipeline import export_clips
from clipped_resources.storage import LocalStorage
from tests.support.rendered_source import CLIP_START_S, WORDS, seed_rendered_source


def test_out_folder_gets_an_srt_per_clip(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "storage"))
    source = SourceRef("local", "talk-0123456789")
    clip = seed_rendered_source(storage, source)
    storage.write_bytes(clip.video_key, b"mp4")
    storage.write_bytes(clip.thumbnail_key, b"jpg")
    export_clips(storage, source, tmp_path / "out")
    captions = webvtt.from_srt(str(tmp_path / "out" / "clip_01.srt"))
    assert " ".join(c.text.replace("\n", " ") for c in captions) == " ".join(WORDS)
    first_word = clip.words[0]
    assert captions[0].start == f"00:00:00.{round((first_word.start_s - CLIP_START_S) * 1000):03d}"
