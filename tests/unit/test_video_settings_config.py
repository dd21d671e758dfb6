"""Run config of source_video: per-video clip settings set in the launchpad win over the registered ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dagster import Failure

from clipped.layout import REQUEST_FILE, SourceRef
from clipped.sources import SourceRequest
from clipped.types import ClipSettings
from clipped_assets.ingest import source_video
from clipped_assets.video_settings_config import VideoSettingsConfig, request_with_run_settings
from clipped_resources.storage import LocalStorage

SOURCE = SourceRef.from_partition_key("local.talk-0123456789ab")
REGISTERED = ClipSettings(max_clips=5, min_duration_s=15, max_duration_s=90, language="en")


def registered(tmp_path: Path) -> LocalStorage:
    storage = LocalStorage(root=str(tmp_path))
    request = SourceRequest(kind="file", location="/media/talk.mp4", display_name="talk.mp4", settings=REGISTERED)
    storage.write_model(SOURCE.key(REQUEST_FILE), request)
    return storage


def stored_settings(storage: LocalStorage) -> ClipSettings:
    return storage.read_model(SOURCE.key(REQUEST_FILE), SourceRequest).settings


def test_only_the_given_fields_override_the_registered_settings() -> None:
    assert VideoSettingsConfig().applied_to(REGISTERED) == REGISTERED
    run = VideoSettingsConfig(max_clips=2, aspect="1:1", caption_style="karaoke", language="detect")
    updated = run.applied_to(REGISTERED)
    assert updated == REGISTERED.model_copy(
        update={"max_clips": 2, "aspect": "1:1", "caption_style": "karaoke", "language": None}
    )


def test_the_run_settings_become_the_sources_own(tmp_path: Path) -> None:
    storage = registered(tmp_path)
    request = request_with_run_settings(storage, SOURCE, VideoSettingsConfig(max_clips=2, max_duration_s=40))
    assert (request.settings.max_clips, request.settings.max_duration_s) == (2, 40)
    assert stored_settings(storage) == request.settings  # later steps of the run read the stored request
    assert request.location == "/media/talk.mp4"


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (VideoSettingsConfig(max_clips=99), "max_clips"),
        (VideoSettingsConfig(aspect="4:3"), "aspect"),
        (VideoSettingsConfig(min_duration_s=120), "min_duration_s (120) is longer than max_duration_s (90)"),
    ],
)
def test_a_bad_value_fails_the_run_once_and_keeps_the_stored_request(tmp_path: Path, config, reason) -> None:
    storage = registered(tmp_path)
    with pytest.raises(Failure, match="run config of source_video: .*" + re.escape(reason)) as failure:
        request_with_run_settings(storage, SOURCE, config)
    assert failure.value.allow_retries is False
    assert stored_settings(storage) == REGISTERED


def test_source_video_takes_the_settings_in_the_launchpad() -> None:
    fields = source_video.op.config_schema.as_field().config_type.fields
    assert {"max_clips", "min_duration_s", "max_duration_s", "aspect", "caption_style", "language"} <= set(fields)
    assert not any(field.is_required for field in fields.values())  # a run without config keeps the request's
