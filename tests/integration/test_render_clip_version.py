"""Rendering one version of a clip with the domain function alone: real encode, real inspection, no Dagster."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipped.layout import SourceRef
from clipped.render.inspect_clip import ClipInspection
from clipped.render.versions import (
    VERSION_CHECKS,
    ClipVersionError,
    ClipVersionRequest,
    render_clip_version,
    version_check_results,
    version_keys,
    version_output_keys,
)
from clipped.types import ClipSettings
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import LocalStorage
from tests.support.rendered_source import CLIP_END_S, CLIP_START_S, seed_rendered_source

SOURCE = SourceRef("acme", "seeded-0123456789")


def test_a_version_is_rendered_into_its_own_folder_and_meets_the_contract(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    original = seed_rendered_source(storage, SOURCE)
    request = ClipVersionRequest(clip_id=original.clip_id, version=2, caption_style="karaoke", aspect="9:16")
    progress: list[float] = []

    clip = render_clip_version(storage, RenderOptions(x264_preset="ultrafast"), SOURCE, request, progress.append)

    version = request.ref(SOURCE)
    assert all(storage.exists(key) for key in version_output_keys(version))
    assert (clip.video_key, clip.thumbnail_key) == (
        version_keys(version)["clip.mp4"],
        version_keys(version)["thumbnail.jpg"],
    )
    assert clip.clip_id == version.folder and clip.rank == original.rank
    assert (clip.start_s, clip.end_s, clip.words) == (CLIP_START_S, CLIP_END_S, original.words)
    # The first version's files are not touched (here they were never rendered at all).
    assert not storage.exists(original.video_key)
    seen = ClipInspection.model_validate(clip.inspection)
    assert (seen.width, seen.height) == (1080, 1920) and seen.has_audio
    assert seen.duration_s == pytest.approx(CLIP_END_S - CLIP_START_S, abs=0.1)
    assert progress and progress[-1] == pytest.approx(1.0)
    results = version_check_results(clip, ClipSettings(min_duration_s=1.0))
    assert set(results) == set(VERSION_CHECKS) and all(results.values()), results
    # The same clip is out of bounds for the default 15 s minimum: the check says so.
    assert not version_check_results(clip, ClipSettings())["clip_version_within_duration_bounds"]


def test_a_clip_no_longer_in_the_manifest_cannot_be_rendered(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    seed_rendered_source(storage, SOURCE)
    request = ClipVersionRequest(clip_id=f"{SOURCE.video_id}-01-ffffffff", version=2, caption_style="karaoke")
    with pytest.raises(ClipVersionError, match="no longer in the rendered clips manifest"):
        render_clip_version(storage, RenderOptions(), SOURCE, request)
