"""A video with sound but no speech still yields candidates; one too short for any clip says why."""

from __future__ import annotations

import pytest
from dagster import materialize

from clipped.layout import REQUEST_FILE
from clipped.sources import request_for, source_ref_for
from clipped.types import Candidate, ClipSettings
from clipped_app.pipeline import first_failure
from clipped_assets import ingest, select, understand
from clipped_resources.profiles import build_resources
from tests.conftest import ClippedEnv, make_video

pytestmark = pytest.mark.xdist_group("no_speech")
# Tones whose loudness swells and fades every few seconds: energy to choose from, nothing to transcribe.
MUSIC = "aevalsrc=0.4*sin(2*PI*220*t)*(0.3+0.7*abs(sin(PI*t/7)))+0.2*sin(2*PI*330*t):s=44100"


def run_until_candidates(env: ClippedEnv, seconds: float):
    video = make_video(env.media / "music.mp4", seconds=seconds, audio=MUSIC)
    resources = build_resources("local")
    request = request_for(str(video), ClipSettings(max_clips=2))
    source = source_ref_for(request, "local")
    resources["storage"].write_model(source.key(REQUEST_FILE), request)
    env.instance.add_dynamic_partitions("source_video", [source.partition_key])
    assets = [ingest.source_video, understand.transcript, understand.scenes, understand.audio_features,
              select.candidates]  # fmt: skip
    result = materialize(
        assets, partition_key=source.partition_key, instance=env.instance, resources=resources, raise_on_error=False
    )
    return result, resources["storage"], source


def test_music_without_speech_yields_candidates_from_energy_and_scenes(clipped_env: ClippedEnv) -> None:
    result, storage, source = run_until_candidates(clipped_env, seconds=45)
    assert result.success, first_failure(result)
    chosen = [Candidate.model_validate(item) for item in storage.read_json(source.key("candidates.json"))]
    assert chosen
    for candidate in chosen:
        assert 15 <= candidate.duration_s <= 45.01
        assert candidate.reason.startswith("no speech")
        assert candidate.words == []


def test_video_too_short_for_any_clip_says_why(clipped_env: ClippedEnv) -> None:
    result, storage, source = run_until_candidates(clipped_env, seconds=8)
    assert not result.success
    message = first_failure(result)
    # Refused at ingest, before transcription and analysis spend time on it.
    assert message.startswith("source_video: ")
    assert "shorter than the 15 s minimum" in message
    assert not storage.exists(source.key("candidates.json"))
