"""The whole spine with the prod profile's storage: S3 on moto's server over HTTP, an upload key as the source."""

import json
from pathlib import Path

import pytest

from clipped.layout import RENDERED_CLIPS_FILE, REQUEST_FILE, SourceRef
from clipped.render_manifest import RenderedClipsManifest
from clipped.sources import SourceRequest, source_ref_for
from clipped.types import ClipSettings
from clipped_app.pipeline import export_clips, run_clip_job
from clipped_assets.partitions import source_video_partitions
from clipped_resources.profiles import build_resources
from clipped_resources.s3_storage import S3Storage
from tests.conftest import SAMPLE, ClippedEnv
from tests.support.s3_server import S3Bucket


@pytest.fixture
def prod_env(s3_bucket: S3Bucket, clipped_env: ClippedEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """CLIPPED_PROFILE=prod pointed at the moto bucket; returns the S3 work dir."""
    work = tmp_path / "s3-work"
    for name, value in s3_bucket.prod_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CLIPPED_WORK_DIR", str(work))
    return work


def test_prod_profile_without_a_bucket_says_which_variable_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLIPPED_S3_BUCKET", raising=False)
    with pytest.raises(ValueError, match="CLIPPED_S3_BUCKET"):
        build_resources("prod")


def test_prod_profile_reads_bucket_endpoint_and_region(prod_env: Path, s3_bucket: S3Bucket) -> None:
    storage = build_resources()["storage"]
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.endpoint_url, storage.region_name) == (
        s3_bucket.name,
        s3_bucket.endpoint_url,
        "us-east-1",
    )


@pytest.mark.slow
@pytest.mark.xdist_group("full_pipeline")
def test_clip_job_on_s3_storage_renders_clips_into_the_bucket(
    prod_env: Path, s3_bucket: S3Bucket, clipped_env: ClippedEnv, tmp_path: Path
) -> None:
    from definitions import build_definitions

    defs = build_definitions()
    storage = defs.resources["storage"]
    assert isinstance(storage, S3Storage)
    storage.put_file(SAMPLE, "acme/uploads/talk.mp4")
    request = SourceRequest(
        kind="upload", location="acme/uploads/talk.mp4", display_name="talk", settings=ClipSettings(max_clips=1)
    )
    source: SourceRef = source_ref_for(request, "acme")
    storage.write_model(source.key(REQUEST_FILE), request)
    clipped_env.instance.add_dynamic_partitions(source_video_partitions.name, [source.partition_key])

    run_clip_job(defs, clipped_env.instance, source, log_level="WARNING", trigger="test")

    keys = [
        item["Key"]
        for page in s3_bucket.client().get_paginator("list_objects_v2").paginate(Bucket=s3_bucket.name)
        for item in page.get("Contents", [])
    ]
    assert all(key.startswith("acme/") for key in keys)
    assert source.key("stages/rendered_clips.json") in keys
    manifest = storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest)
    [clip] = manifest.clips
    assert clip.video_key in keys and clip.thumbnail_key in keys
    assert not (clipped_env.home / "storage").exists(), "nothing went to local storage"
    assert not prod_env.exists() or list(prod_env.iterdir()) == [], "S3 downloads are removed after each step"

    exported = export_clips(storage, source, tmp_path / "out")
    out = tmp_path / "out"
    assert json.loads((out / "clips.json").read_text()) == exported
    assert (out / "clip_01.mp4").stat().st_size == storage.size(clip.video_key)
    assert (out / "clip_01.jpg").stat().st_size > 1000

    # A second run finds every stage record in the bucket and reuses the outputs (no object is rewritten).
    client = s3_bucket.client()
    before = {key: client.head_object(Bucket=s3_bucket.name, Key=key)["LastModified"] for key in keys}
    run_clip_job(defs, clipped_env.instance, source, log_level="WARNING", trigger="test")
    after = {key: client.head_object(Bucket=s3_bucket.name, Key=key)["LastModified"] for key in keys}
    assert after == before
