"""Variations of a seeded clip's moment: rendered as versions of the clip, each with its uniqueness, stored as a set."""

from __future__ import annotations

from pathlib import Path

from clipped.layout import RENDERED_CLIPS_FILE, ClipVersionRef, SourceRef
from clipped.progress import ProgressCallback
from clipped.render.clip_set import ClipEncoder
from clipped.render.render_clip import RenderReport, RenderSpec, render_clip
from clipped.render.variation_set import MomentVariations, render_variation_versions, variations_key
from clipped.render.versions import VERSION_CLIP_FILE, ClipVersionRequest
from clipped.render_manifest import RenderedClipsManifest
from clipped.types import RenderedClip
from clipped_resources.storage import LocalStorage
from tests.support.rendered_source import seed_rendered_source


class Renderer(ClipEncoder):
    """The real renderer, one thread, as the render resource calls it."""

    def encode(
        self,
        spec: RenderSpec,
        out_video: Path,
        out_thumbnail: Path,
        out_ass: Path,
        on_progress: ProgressCallback | None = None,
    ) -> RenderReport:
        return render_clip(spec, out_video, out_thumbnail, out_ass, preset="ultrafast", on_progress=on_progress)

    def clip_workers(self) -> int:
        return 1


def test_two_variants_differ_and_report_their_uniqueness(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    source = SourceRef("ws-variants", "seeded-0123456789")
    clip = seed_rendered_source(storage, source)
    clip = clip.model_copy(update={"writing": clip.writing.model_copy(update={"hook": "Watch this part"})})
    manifest = storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest)
    storage.write_model(source.key(RENDERED_CLIPS_FILE), manifest.model_copy(update={"clips": [clip]}))
    progress: list[float] = []
    request = ClipVersionRequest(clip_id=clip.clip_id, version=3, caption_style="karaoke", aspect="1:1", variations=2)
    result = render_variation_versions(storage, Renderer(), source, request, on_progress=progress.append)
    assert storage.read_model(variations_key(source, clip.clip_id), MomentVariations) == result
    # Variant 0 (the moment as ranked) is the newest version, in the request's caption style.
    assert [v.version for v in result.variants] == [3, 2] and result.variants[0].caption_style == "karaoke"
    first, second = result.variants
    assert (first.hook, second.hook) == ("Watch this part", "Seeded clip")
    assert first.caption_style != second.caption_style and first.layout != second.layout
    assert (first.clip.start_s, first.clip.end_s) != (second.clip.start_s, second.clip.end_s)
    for variant in result.variants:
        ref = ClipVersionRef(source, clip.clip_id, variant.version)
        assert variant.clip.video_key == ref.key("clip.mp4") and storage.exists(variant.clip.video_key)
        assert storage.read_model(ref.key(VERSION_CLIP_FILE), RenderedClip) == variant.clip
        assert 0.0 < variant.uniqueness["overall"] <= 0.6  # different clips of the same moment
    assert progress[-1] == 1.0 and progress == sorted(progress)
