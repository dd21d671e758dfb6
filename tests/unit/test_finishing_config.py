"""Run config of rendered_clips and clip_version: given fields override the job's finishing settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clipped.effects import ClipEffects
from clipped_assets.clip_versions import clip_version
from clipped_assets.finishing_config import FinishingConfig
from clipped_assets.render import rendered_clips


def test_only_the_given_fields_override_the_jobs_settings() -> None:
    job = ClipEffects(platform="reels", profanity="off", words_per_line=2)
    assert FinishingConfig().applied_to(job) == job
    run = FinishingConfig(profanity="bleep", keyword_emoji=False).applied_to(job)
    assert run == job.model_copy(update={"profanity": "bleep", "keyword_emoji": False})
    with pytest.raises(ValidationError, match="profanity"):
        FinishingConfig(profanity="loud").applied_to(job)


def test_both_render_assets_take_the_finishing_config() -> None:
    for asset in (rendered_clips, clip_version):
        fields = asset.op.config_schema.as_field().config_type.fields
        assert {"platform", "words_per_line", "profanity", "hook_overlay"} <= set(fields), asset.key


def test_layout_and_cleanup_cuts_ride_in_the_run_config() -> None:
    job = ClipEffects(layout="single")
    run = FinishingConfig(layout="split", remove_pauses=True, max_pause_s=1.0).applied_to(job)
    assert run.layout == "split" and run.cleanup.remove_pauses and run.cleanup.max_pause_s == 1.0
    assert run.cleanup.fillers == job.cleanup.fillers and not run.cleanup.remove_fillers
    with pytest.raises(ValidationError, match="max_pause_s"):
        FinishingConfig(max_pause_s=60.0).applied_to(job)
