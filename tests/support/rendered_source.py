"""A source whose pipeline has run, written straight into storage: just what re-rendering one of its clips reads.

A short synthetic video (moving test pattern, a tone) instead of the sample and the models, so a re-render test
costs one small encode, not a pipeline run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from clipped.ingest.prepare import PreparedSource
from clipped.ingest.probe import probe_media
from clipped.layout import (
    FACES_FILE,
    INFO_FILE,
    RENDERED_CLIPS_FILE,
    REQUEST_FILE,
    SCENES_FILE,
    SOURCE_FILE,
    SourceRef,
)
from clipped.render_manifest import RenderedClipsManifest
from clipped.sources import SourceRequest
from clipped.storage import Storage
from clipped.types import ClipSettings, FacesResult, RenderedClip, Scenes, Word
from tests.conftest import make_video

SOURCE_SECONDS = 4.0
CLIP_START_S, CLIP_END_S = 0.3, 3.8
WORDS = ["hello", "there", "this", "is", "a", "short", "test"]


def seed_rendered_source(storage: Storage, source: SourceRef, clip_suffix: str = "01-0123abcd") -> RenderedClip:
    """Store a source video with its info, scenes, faces, request and a one-clip rendered_clips manifest; returns
    the manifest's clip (its own files are not rendered: a re-render never reads them)."""
    with tempfile.TemporaryDirectory(prefix="clipped-seed-") as scratch:
        video = make_video(Path(scratch) / "source.mp4", seconds=SOURCE_SECONDS, size="640x360")
        media = probe_media(video)
        storage.put_file(video, source.key(SOURCE_FILE))
    storage.write_model(
        source.key(INFO_FILE),
        PreparedSource(
            media=media,
            content_sha256="0" * 64,
            normalised=False,
            audio_peak_dbfs=-3.0,
            audio_duration_s=SOURCE_SECONDS,
        ),
    )
    storage.write_model(source.key(SCENES_FILE), Scenes(cuts_s=[], duration_s=SOURCE_SECONDS))
    storage.write_model(
        source.key(FACES_FILE), FacesResult(width=640, height=360, sample_fps=3.0, detector="seeded", windows=[])
    )
    settings = ClipSettings(max_clips=1, min_duration_s=1.0, max_duration_s=60.0)
    request = SourceRequest(kind="upload", location=source.key("upload.mp4"), display_name="seeded", settings=settings)
    storage.write_model(source.key(REQUEST_FILE), request)
    clip_id = f"{source.video_id}-{clip_suffix}"
    words = [Word(word=word, start_s=0.5 + i * 0.45, end_s=0.85 + i * 0.45) for i, word in enumerate(WORDS)]
    clip = RenderedClip(
        rank=1,
        clip_id=clip_id,
        candidate_id="cand-0001",
        video_key=source.clip_key(clip_id, "clip.mp4"),
        thumbnail_key=source.clip_key(clip_id, "thumbnail.jpg"),
        captions_key=source.clip_key(clip_id, "captions.ass"),
        start_s=CLIP_START_S,
        end_s=CLIP_END_S,
        width=1080,
        height=1920,
        score=0.8,
        scores={"hook": 0.8},
        reason="seeded",
        title="Seeded clip",
        words=words,
    )
    manifest = RenderedClipsManifest(
        partition=source.partition_key, duration_s=SOURCE_SECONDS, language="en", clips=[clip]
    )
    storage.write_model(source.key(RENDERED_CLIPS_FILE), manifest)
    return clip
