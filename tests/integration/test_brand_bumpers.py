"""The brand kit's intro and outro: stored in the workspace's brand folder and joined around a re-rendered clip,
while the clip's own inspection (captions, checks) stays on the clip's timeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipped.brand.bumpers import delete_bumper, save_bumper
from clipped.brand.kit import BUMPER_FILES, BrandKitError, brand_fingerprint, brand_key, read_brand_kit
from clipped.layout import SourceRef
from clipped.render.bumpers import media_facts
from clipped.render.versions import ClipVersionRequest, render_clip_version
from clipped_resources.storage import LocalStorage
from tests.integration.test_variation_set import Renderer
from tests.support.rendered_source import seed_rendered_source
from tests.unit.test_bumpers import make_video


def test_intro_and_outro_play_around_a_rendered_clip(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path / "storage"))
    source = SourceRef("ws-brand", "seeded-0123456789")
    clip = seed_rendered_source(storage, source)
    before = brand_fingerprint(storage, source.workspace_id)

    not_video = tmp_path / "intro.mp4"
    not_video.write_text("hello")
    with pytest.raises(BrandKitError, match="intro cannot be used"):
        save_bumper(storage, source.workspace_id, "intro", not_video)
    assert not storage.exists(brand_key(source.workspace_id, BUMPER_FILES["intro"]))  # nothing kept of a bad file

    save_bumper(storage, source.workspace_id, "intro", make_video(tmp_path / "i.mp4", 1.0, "320x180", tone_hz=880))
    kit = save_bumper(storage, source.workspace_id, "outro", make_video(tmp_path / "o.mp4", 0.6, "64x64", tone_hz=None))
    assert (kit.has_intro, kit.has_outro) == (True, True)
    assert brand_fingerprint(storage, source.workspace_id) != before  # a new intro renders clips again

    request = ClipVersionRequest(clip_id=clip.clip_id, version=2, caption_style="karaoke", aspect="1:1")
    rendered = render_clip_version(storage, Renderer(), source, request)
    with storage.local_path(rendered.video_key) as video:
        facts = media_facts(video)
    assert facts.has_audio
    assert facts.duration_s == pytest.approx(1.0 + (rendered.end_s - rendered.start_s) + 0.6, abs=0.2)
    assert rendered.inspection["intro_s"] == pytest.approx(1.0, abs=0.05) and rendered.inspection["outro_s"] > 0.5
    assert rendered.inspection["has_audio"] and rendered.inspection["caption_samples_matched"] > 0

    assert delete_bumper(storage, source.workspace_id, "intro").has_intro is False
    assert read_brand_kit(storage, source.workspace_id).has_outro is True
