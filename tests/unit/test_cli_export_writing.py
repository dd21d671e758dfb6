"""`clipped run --out` puts what the ranker wrote (hook, hashtags, captions per platform) into clips.json."""

from __future__ import annotations

import json
from pathlib import Path

from clipped.layout import RENDERED_CLIPS_FILE, SourceRef
from clipped.render_manifest import RenderedClipsManifest
from clipped.types import ClipWriting
from clipped_app.pipeline import export_clips
from clipped_resources.storage import LocalStorage
from tests.support.rendered_source import seed_rendered_source


def test_clips_json_carries_the_writing(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "storage"))
    source = SourceRef("local", "talk-0123456789")
    writing = ClipWriting(hook="Hello there, short test", hashtags=["#Hello"], post_captions={"x": "Say hi"})
    clip = seed_rendered_source(storage, source).model_copy(update={"writing": writing})
    manifest = storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest)
    storage.write_model(source.key(RENDERED_CLIPS_FILE), manifest.model_copy(update={"clips": [clip]}))
    storage.write_bytes(clip.video_key, b"mp4")
    storage.write_bytes(clip.thumbnail_key, b"jpg")
    export_clips(storage, source, tmp_path / "out")
    [written] = json.loads((tmp_path / "out" / "clips.json").read_text())["clips"]
    assert (written["hook"], written["hashtags"], written["captions"]) == (
        "Hello there, short test",
        ["#Hello"],
        {"x": "Say hi"},
    )
