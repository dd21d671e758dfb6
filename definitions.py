"""The one place where Clipped's Dagster definitions are assembled.

Assets come per stage package module with their group names set in the modules; resources come from the
profile (``CLIPPED_PROFILE``), chosen when Dagster loads the code location, not at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from clipped_assets import analytics, clip_versions, ingest, learn, publish, render, search, select, summary, understand
from clipped_assets.dbt_models import analytics_job, analytics_models, analytics_schedule
from clipped_assets.live import live_clips, stream_recorder_job, stream_segments
from clipped_assets.placement import step_executor
from clipped_resources.profiles import active_profile, build_resources
from clipped_sensors.learn import ranking_weights_sensor
from clipped_sensors.live import live_segment_sensor, stream_recorder_sensor
from clipped_sensors.publish import due_publications_sensor
from clipped_sensors.upload import source_video_upload_sensor

STAGE_MODULES = (ingest, understand, summary, search, select, render, clip_versions, publish, analytics, learn)


def build_definitions(
    profile: str | None = None,
    *,
    asr_model: str | None = None,
    extra_allowed_roots: Sequence[str] = (),
    home: Path | None = None,
) -> dg.Definitions:
    """Definitions for ``profile`` (default: ``$CLIPPED_PROFILE`` or ``local``); the keyword options override
    resource settings for one caller (see :func:`clipped_resources.profiles.build_resources`)."""
    profile = active_profile(profile)
    clip_job = dg.define_asset_job(
        name="clip_job",
        selection=dg.AssetSelection.groups("ingest", "understand", "select", "render")
        - dg.AssetSelection.assets(clip_versions.clip_version),
        # prod: each step in its own Kubernetes pod, GPU steps on GPU nodes; local: in process, one step at a time.
        executor_def=step_executor(profile),
        description="Source video to rendered clips, for one partition.",
    )
    clip_version_job = dg.define_asset_job(
        name="clip_version_job",
        selection=dg.AssetSelection.assets(clip_versions.clip_version),
        executor_def=step_executor(profile),  # a re-render from the review API runs where clip_job's render does
        description="One clip rendered again as a new version (a re-render from the review API).",
    )
    publication_job = dg.define_asset_job(
        name="publication_job",
        selection=dg.AssetSelection.assets(publish.publications),
        description="One approved clip posted to one connected account (launched when due, or 'publish now').",
    )
    learn_job = dg.define_asset_job(
        name="learn_job",
        selection=dg.AssetSelection.assets(learn.ranking_weights),
        description="Refit one workspace's ranking weights from the marts (after each analytics build).",
    )
    live_clip_job = dg.define_asset_job(
        name="live_clip_job",
        selection=dg.AssetSelection.assets(live_clips),
        executor_def=step_executor(profile),  # renders where clip_job's render does
        description="One moment of a live stream rendered as a clip (launched by live_segment_sensor).",
    )
    return dg.Definitions(
        # dbt_analytics: every model an asset (its tests checks), built at 03:00 UTC or on demand.
        assets=[*dg.load_assets_from_modules(STAGE_MODULES), analytics_models(), stream_segments, live_clips],
        asset_checks=dg.load_asset_checks_from_modules(STAGE_MODULES),
        jobs=[
            clip_job,
            clip_version_job,
            publication_job,
            learn_job,
            publish.platform_grants_job,
            analytics_job,
            analytics.engagement_job,
            stream_recorder_job,
            live_clip_job,
        ],
        schedules=[publish.platform_grants_schedule, analytics_schedule],
        sensors=[
            source_video_upload_sensor,
            due_publications_sensor,
            ranking_weights_sensor,
            stream_recorder_sensor,
            live_segment_sensor,
        ],
        resources=build_resources(profile, asr_model=asr_model, extra_allowed_roots=extra_allowed_roots, home=home),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
