"""A publishing worker killed (SIGKILL, no chance to clean up) mid-upload, or between the upload and the publish step,
leaves a publication that becomes due again once its lease runs out; the next attempt resumes where the platform
stands (the same upload session, the same uploaded container) and the video is posted exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clipped.media.ffmpeg import run_ffmpeg
from clipped.publish.instagram import InstagramAdapter
from clipped.publish.models import TokenGrant
from clipped.publish.publishing import LEASE, publish_publication
from clipped.publish.records import Account, Publication
from clipped.publish.token_vault import TokenVault
from clipped.publish.youtube import YouTubeAdapter
from clipped_resources.publishing_store import SqlPublishingStore
from clipped_resources.storage import LocalStorage
from tests.support.fake_instagram import CLIENT_ID as INSTAGRAM_CLIENT_ID
from tests.support.fake_instagram import CLIENT_SECRET as INSTAGRAM_SECRET
from tests.support.fake_instagram import IG_USER_ID, FakeInstagram, fake_instagram_fixture  # noqa: F401
from tests.support.fake_youtube import FakeYouTube, fake_youtube  # noqa: F401  (the fixture)

CHUNK = 256 * 1024
VIDEO_KEY = "ws1/clips/talk-0123456789-01-abcdef12/clip.mp4"
ROOT = Path(__file__).resolve().parents[2]

WORKER = textwrap.dedent(
    """
    import os, sys
    from clipped.publish.publishing import publish_publication
    from clipped.publish.token_vault import TokenVault
    from clipped.publish.youtube import YouTubeAdapter
    from clipped_resources.publishing_store import SqlPublishingStore
    from clipped_resources.storage import LocalStorage

    env = os.environ
    adapter = YouTubeAdapter(env["T_CLIENT"], env["T_SECRET"], token_url=env["T_BASE"] + "/token",
                             api_base_url=env["T_BASE"], chunk_size=int(env["T_CHUNK"]))
    publish_publication(env["T_PUB"], store=SqlPublishingStore(env["T_DB"]), vault=TokenVault([env["T_KEY"]]),
                        adapters={"youtube": adapter}, media=LocalStorage(root=env["T_STORAGE"]), owner="worker-1")
    """
)


INSTAGRAM_WORKER = textwrap.dedent(
    """
    import json, os
    from clipped.publish.instagram import InstagramAdapter
    from clipped.publish.publishing import publish_publication
    from clipped.publish.token_vault import TokenVault
    from clipped_resources.publishing_store import SqlPublishingStore
    from clipped_resources.storage import LocalStorage

    env = os.environ
    # Polls for the container's processing a long while apart: the worker is killed in that wait.
    adapter = InstagramAdapter(env["T_CLIENT"], env["T_SECRET"], **json.loads(env["T_URLS"]),
                               chunk_bytes=int(env["T_CHUNK"]), poll_interval_s=120.0, poll_timeout_s=1200.0)
    publish_publication(env["T_PUB"], store=SqlPublishingStore(env["T_DB"]), vault=TokenVault([env["T_KEY"]]),
                        adapters={"instagram": adapter}, media=LocalStorage(root=env["T_STORAGE"]), owner="worker-1")
    """
)


@pytest.fixture
def fake(fake_youtube: FakeYouTube) -> FakeYouTube:  # noqa: F811 (the imported fixture)
    return fake_youtube


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s MP4 of more than four 256 KiB chunks (noise keeps it from compressing)."""
    video = tmp_path_factory.mktemp("crash") / "clip.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=3", "-f", "lavfi", "-i", "sine=duration=3",
         "-vf", "noise=alls=60:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(video)]
    )  # fmt: skip
    assert video.stat().st_size > 4 * CHUNK
    return video


def kill_when(worker: subprocess.Popen, reached: Callable[[], bool], what: str) -> None:
    """SIGKILL the worker's process group as soon as ``reached`` holds (it must get there within a minute)."""
    try:
        deadline = time.monotonic() + 60
        while not reached():
            assert worker.poll() is None and time.monotonic() < deadline, f"the worker never reached {what}"
            time.sleep(0.05)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


def due_publication(
    store: SqlPublishingStore,
    vault: TokenVault,
    grant: TokenGrant,
    *,
    platform: str,
    account: tuple[str, str],
    title: str = "",
    caption: str = "",
) -> Publication:
    """A connected account (platform id, display name) holding ``grant``, and a post of the clip due a second ago."""
    platform_account_id, display_name = account
    saved = store.save_account(
        Account(workspace_id="ws1", platform=platform, platform_account_id=platform_account_id,
                display_name=display_name, sealed_grant=vault.seal(grant))
    )  # fmt: skip
    return store.save_publication(
        Publication(workspace_id="ws1", source_partition="ws1.talk-0123456789", clip_ref="clip_1",
                    video_key=VIDEO_KEY, duration_s=3.0, account_id=saved.id, platform=platform,
                    title=title, caption=caption, scheduled_at=datetime.now(UTC) - timedelta(seconds=1))
    )  # fmt: skip


def test_a_worker_killed_mid_upload_is_resumed_and_posts_once(tmp_path: Path, fake: FakeYouTube, clip: Path):
    video = clip
    storage = LocalStorage(root=str(tmp_path / "storage"))
    storage.put_file(video, VIDEO_KEY)
    key, database = TokenVault.new_key(), f"sqlite:///{tmp_path / 'app.db'}"
    store, vault = SqlPublishingStore(database), TokenVault([key])
    access, refresh = fake.issue_tokens()
    grant = TokenGrant(access_token=access, refresh_token=refresh, expires_at=datetime.now(UTC) + timedelta(hours=1))
    publication = due_publication(
        store, vault, grant, platform="youtube", account=(fake.channel_id, "channel"), title="A moment #Shorts"
    )
    # The third chunk fails, so the worker waits in its retry backoff with two chunks confirmed: kill it there.
    fake.fail_chunk(3, status=503, times=2)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "T_CLIENT": fake.client_id,
           "T_SECRET": fake.client_secret, "T_BASE": fake.base_url, "T_CHUNK": str(CHUNK),
           "T_PUB": publication.id, "T_DB": database, "T_KEY": key, "T_STORAGE": str(tmp_path / "storage")}  # fmt: skip
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=env, start_new_session=True)
    kill_when(worker, lambda: any(chunk.status == 503 for chunk in fake.chunks), "the third chunk")

    abandoned = store.get_publication(publication.id)
    assert abandoned.status == "publishing" and abandoned.resume.get("session_url")
    assert store.due_publications(datetime.now(UTC), 10) == []  # its lease is still running
    later = datetime.now(UTC) + LEASE + timedelta(minutes=1)
    assert [p.id for p in store.due_publications(later, 10)] == [publication.id]

    confirmed_before = sum(chunk.size for chunk in fake.chunks if chunk.status == 308)
    adapter = YouTubeAdapter(
        fake.client_id, fake.client_secret, token_url=f"{fake.base_url}/token",
        api_base_url=fake.base_url, chunk_size=CHUNK, sleep=lambda _s: None,
    )  # fmt: skip
    done = publish_publication(
        publication.id, store=store, vault=vault, adapters={"youtube": adapter}, media=storage,
        owner="worker-2", clock=lambda: later,
    )  # fmt: skip
    assert done.status == "published" and done.post_id
    assert len(fake.videos) == 1
    sent_after = sum(chunk.size for chunk in fake.chunks if chunk.status in (200, 201, 308)) - confirmed_before
    assert sent_after == video.stat().st_size - confirmed_before  # confirmed bytes were not sent again


def test_a_worker_killed_between_the_upload_and_the_publish_step_posts_once(
    tmp_path: Path, fake_instagram: FakeInstagram, clip: Path
):
    storage = LocalStorage(root=str(tmp_path / "storage"))
    storage.put_file(clip, VIDEO_KEY)
    key, database = TokenVault.new_key(), f"sqlite:///{tmp_path / 'app.db'}"
    store, vault = SqlPublishingStore(database), TokenVault([key])
    token = fake_instagram.issue_token()
    grant = TokenGrant(access_token=token, refresh_token=token, expires_at=datetime.now(UTC) + timedelta(days=59))
    publication = due_publication(
        store, vault, grant, platform="instagram", account=(IG_USER_ID, "clipped.tester"), caption="A moment #clipped"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "T_CLIENT": INSTAGRAM_CLIENT_ID, "T_SECRET": INSTAGRAM_SECRET,
           "T_URLS": json.dumps(fake_instagram.adapter_urls()), "T_CHUNK": str(CHUNK), "T_PUB": publication.id,
           "T_DB": database, "T_KEY": key, "T_STORAGE": str(tmp_path / "storage")}  # fmt: skip
    worker = subprocess.Popen([sys.executable, "-c", INSTAGRAM_WORKER], env=env, start_new_session=True)

    def uploaded_and_waiting() -> bool:
        # The whole file is in the container and the worker has asked once whether processing is done.
        uploaded = [container for container in fake_instagram.containers.values() if container.uploaded]
        return bool(uploaded) and fake_instagram.calls["container_status"] >= 1

    kill_when(worker, uploaded_and_waiting, "the wait for processing after the upload")

    abandoned = store.get_publication(publication.id)
    assert abandoned.status == "publishing" and abandoned.resume.get("offset") == clip.stat().st_size
    assert fake_instagram.published_posts() == []  # killed before media_publish
    chunks_before = len(fake_instagram.chunks)
    later = datetime.now(UTC) + LEASE + timedelta(minutes=1)
    assert [p.id for p in store.due_publications(later, 10)] == [publication.id]

    adapter = InstagramAdapter(
        INSTAGRAM_CLIENT_ID, INSTAGRAM_SECRET, **fake_instagram.adapter_urls(), chunk_bytes=CHUNK,
        poll_interval_s=1.0, sleep=lambda _s: None,
    )  # fmt: skip
    done = publish_publication(
        publication.id, store=store, vault=vault, adapters={"instagram": adapter}, media=storage,
        owner="worker-2", clock=lambda: later,
    )  # fmt: skip
    [post] = fake_instagram.published_posts()
    assert done.status == "published" and done.post_id == post.id and done.post_url == post.permalink
    assert len(fake_instagram.containers) == 1 and len(fake_instagram.chunks) == chunks_before  # nothing re-sent
    again = publish_publication(
        publication.id, store=store, vault=vault, adapters={"instagram": adapter}, media=storage,
        owner="worker-3", clock=lambda: later,
    )  # fmt: skip
    adapter.close()
    assert again.status == "published" and len(fake_instagram.published_posts()) == 1
