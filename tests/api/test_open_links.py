"""Links in Dagster's metadata open the review app's page of the source or clip (they were dead file:// links)."""

from __future__ import annotations

from urllib.parse import urlsplit

from api.models import Clip, Job
from clipped.review_links import clip_page, source_page
from clipped_resources.profiles import build_resources
from tests.api.conftest import ApiHarness
from tests.api.world import seed_world


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_source_and_clip_links_redirect_to_their_pages(sqlite_api: ApiHarness) -> None:
    world = seed_world(sqlite_api)
    with sqlite_api.state.sessions() as session:
        partition = session.get(Job, world.job_id).partition_key
        manifest_clip_id = session.get(Clip, world.clip_id).manifest_clip_id
    base = "http://review.example.org/"
    client = sqlite_api.client
    source = client.get(_path(source_page(base, partition)), follow_redirects=False)
    assert source.status_code == 303 and source.headers["location"] == f"/#/jobs/{world.job_id}"
    clip = client.get(_path(clip_page(base, partition, manifest_clip_id, version=2)), follow_redirects=False)
    assert clip.status_code == 303 and clip.headers["location"] == f"/#/clips/{world.clip_id}"
    # A clip not synced yet opens its job; what the app never saw says where its clips are instead.
    unsynced = client.get(_path(clip_page(base, partition, "not-yet-01")), follow_redirects=False)
    assert unsynced.status_code == 303 and unsynced.headers["location"] == f"/#/jobs/{world.job_id}"
    unknown = client.get(_path(source_page(base, "local.talk-0123456789")), follow_redirects=False)
    assert unknown.status_code == 404 and "clipped run" in unknown.text and "--out" in unknown.text


def test_both_profiles_link_to_the_review_app(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CLIPPED_HOME", str(tmp_path))
    assert build_resources("local")["storage"].review_app_url == "http://127.0.0.1:8000"
    monkeypatch.setenv("CLIPPED_REVIEW_APP_URL", "https://review.example.org")
    monkeypatch.setenv("CLIPPED_S3_BUCKET", "media")
    for profile in ("local", "prod"):
        storage = build_resources(profile)["storage"]
        assert storage.review_app_url == "https://review.example.org"
        assert clip_page(storage.review_app_url, "acme.talk-01", "talk-01-01").startswith(
            "https://review.example.org/open/clips/"
        )
