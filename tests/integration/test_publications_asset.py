"""The `publications` asset and `due_publications_sensor` in Dagster, against the local fake TikTok: a due post
becomes one tagged run request, the run posts once and links the post in its metadata, and running it again
posts nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from clipped.media.ffmpeg import run_ffmpeg
from clipped.publish.models import TokenGrant
from clipped.publish.records import Account, Publication
from clipped.publish.tiktok import MIN_CHUNK_BYTES
from clipped.publish.token_vault import TokenVault
from clipped_resources.publisher import PlatformApp, PublisherResource
from clipped_resources.storage import LocalStorage
from clipped_sensors.publish import due_publications_sensor
from definitions import build_definitions
from tests.support.fake_tiktok import FakeTikTok, fake_tiktok_fixture  # noqa: F401  (provides fake_tiktok)

SOURCE = "ws1.talk-0123456789"
VIDEO_KEY = "ws1/clips/talk-0123456789-01-abcdef12/clip.mp4"


@pytest.fixture
def publisher(tmp_path: Path, fake_tiktok: FakeTikTok, monkeypatch: pytest.MonkeyPatch) -> PublisherResource:
    monkeypatch.setenv("TEST_TOKEN_KEYS", TokenVault.new_key())
    monkeypatch.setenv("TEST_TIKTOK_SECRET", fake_tiktok.client_secret)
    fake_tiktok.audited = True  # an audited app's public post has a public URL for the metadata to link
    return PublisherResource(
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        token_keys_env="TEST_TOKEN_KEYS",
        tiktok=PlatformApp(
            client_id=fake_tiktok.client_key,
            client_secret_env="TEST_TIKTOK_SECRET",
            urls={"auth_base_url": fake_tiktok.base_url, "api_base_url": fake_tiktok.base_url},
            options={"chunk_size": MIN_CHUNK_BYTES, "poll_interval_s": 0.2},
            flags={"audited": True},
        ),
    )


@pytest.fixture
def due(tmp_path: Path, publisher: PublisherResource, fake_tiktok: FakeTikTok) -> Publication:
    storage = LocalStorage(root=str(tmp_path / "storage"))
    video = tmp_path / "clip.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2", "-f", "lavfi", "-i", "sine=duration=2",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(video)]
    )  # fmt: skip
    storage.put_file(video, VIDEO_KEY)
    granted = fake_tiktok.issue_tokens()
    store = publisher.store()
    account = store.save_account(
        Account(
            workspace_id="ws1",
            platform="tiktok",
            platform_account_id=granted.open_id,
            display_name="creator",
            sealed_grant=publisher.vault().seal(
                TokenGrant(
                    access_token=granted.access_token,
                    refresh_token=granted.refresh_token,
                    expires_at=datetime.now(UTC) + timedelta(hours=12),
                )
            ),
        )
    )
    return store.save_publication(
        Publication(
            workspace_id="ws1",
            source_partition=SOURCE,
            clip_ref="clip_1",
            video_key=VIDEO_KEY,
            duration_s=2.0,
            account_id=account.id,
            platform="tiktok",
            title="",
            caption="A moment #clipped",
            scheduled_at=datetime.now(UTC) - timedelta(seconds=5),
        )
    )


def test_a_due_publication_becomes_one_tagged_run_that_posts_once(
    tmp_path: Path, publisher: PublisherResource, due: Publication, fake_tiktok: FakeTikTok
):
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"publisher": publisher})
        result = due_publications_sensor(context)
        [request] = result.run_requests
        assert request.partition_key == dg.MultiPartitionKey({"publication": due.id, "source_video": SOURCE})
        assert request.tags["clipped/account"] == due.account_id and request.tags["clipped/platform"] == "tiktok"
        [add] = result.dynamic_partitions_requests
        assert list(add.partition_keys) == [due.id]

        instance.add_dynamic_partitions("source_video", [SOURCE])
        instance.add_dynamic_partitions("publication", [due.id])
        defs = build_definitions("local", home=tmp_path)
        job = defs.resolve_job_def("publication_job")
        resources = {"publisher": publisher, "storage": LocalStorage(root=str(tmp_path / "storage"))}
        run = job.execute_in_process(instance=instance, partition_key=request.partition_key, resources=resources)
        assert run.success
        [materialization] = run.asset_materializations_for_node("publications")
        assert materialization.metadata["platform"].value == "tiktok"
        stored = publisher.store().get_publication(due.id)
        assert materialization.metadata["post_id"].value == stored.post_id
        # The link to the post on the platform, shown as a link in the Dagster UI.
        link = materialization.metadata["post"]
        assert isinstance(link, dg.UrlMetadataValue) and link.value == stored.post_url
        assert stored.post_url.startswith(f"https://www.tiktok.com/@{fake_tiktok.username}/video/")
        assert len(fake_tiktok.posts) == 1

        again = job.execute_in_process(instance=instance, partition_key=request.partition_key, resources=resources)
        assert again.success and len(fake_tiktok.posts) == 1  # already posted: nothing sent twice
        assert due_publications_sensor(context).run_requests == []  # nothing due any more
