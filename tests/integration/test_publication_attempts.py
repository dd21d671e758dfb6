"""One publication attempt through the domain (store, vault, lease, resume) against the local fake TikTok: posted
once, a crash mid-upload resumed by the next attempt without a second post, a rate limit deferred and marked on the
account, a revoked grant marking the account for reconnection, an expiring token refreshed and its rotation kept, a
post the platform fails after the upload, and YouTube's daily units shared by every channel of the project."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from clipped.media.ffmpeg import run_ffmpeg
from clipped.publish.grants import refresh_expiring_grants, reseal_all_grants
from clipped.publish.models import TokenGrant
from clipped.publish.publishing import publish_publication, quota_used_today
from clipped.publish.records import Account, Publication
from clipped.publish.schedule import UNITS_PER_POST, next_quota_reset, quota_day
from clipped.publish.tiktok import MIN_CHUNK_BYTES, TikTokAdapter
from clipped.publish.token_vault import TokenVault
from clipped_resources.publishing_store import SqlPublishingStore
from clipped_resources.storage import LocalStorage
from tests.support.fake_tiktok import FakeTikTok, fake_tiktok_fixture  # noqa: F401  (provides fake_tiktok)

VIDEO_KEY = "ws1/clips/talk-01/clip.mp4"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s MP4 of three TikTok chunks (noise keeps it incompressible)."""
    out = tmp_path_factory.mktemp("publish") / "clip.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=size=480x270:rate=25:duration=3",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
         "-vf", "noise=alls=100:allf=t+u", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out)]
    )  # fmt: skip
    assert out.stat().st_size >= 3 * MIN_CHUNK_BYTES
    return out


class World:
    def __init__(self, tmp_path: Path, fake: FakeTikTok, video: Path) -> None:
        self.fake = fake
        self.store = SqlPublishingStore(f"sqlite:///{tmp_path / 'app.db'}")
        self.key = TokenVault.new_key()
        self.vault = TokenVault([self.key])
        self.media = LocalStorage(root=str(tmp_path / "storage"))
        self.media.put_file(video, VIDEO_KEY)
        self.sleeps: list[float] = []
        self.adapter = TikTokAdapter(
            fake.client_key,
            fake.client_secret,
            auth_base_url=fake.base_url,
            api_base_url=fake.base_url,
            chunk_size=MIN_CHUNK_BYTES,
            poll_interval_s=1.0,
            poll_timeout_s=30.0,
            sleep=self.sleeps.append,
        )
        fake_grant = fake.issue_tokens()
        self.grant = TokenGrant(
            access_token=fake_grant.access_token,
            refresh_token=fake_grant.refresh_token,
            expires_at=datetime.now(UTC) + timedelta(hours=20),
            account_id=fake_grant.open_id,
        )
        self.account = self.store.save_account(
            Account(
                workspace_id="ws1",
                platform="tiktok",
                platform_account_id=fake_grant.open_id,
                display_name="creator",
                sealed_grant=self.vault.seal(self.grant),
            )
        )
        self.publication = self.store.save_publication(
            Publication(
                workspace_id="ws1",
                source_partition="ws1.talk-0123456789",
                clip_ref="clip_1",
                video_key=VIDEO_KEY,
                duration_s=3.0,
                account_id=self.account.id,
                platform="tiktok",
                title="",
                caption="A moment #clipped",
                scheduled_at=datetime.now(UTC) - timedelta(minutes=1),
            )
        )

    def attempt(self, owner: str = "run-1", **kwargs: Any) -> Publication:
        return publish_publication(
            self.publication.id,
            store=self.store,
            vault=self.vault,
            adapters={"tiktok": self.adapter},
            media=self.media,
            owner=owner,
            **kwargs,
        )


@pytest.fixture
def world(tmp_path: Path, fake_tiktok: FakeTikTok, video: Path) -> World:
    return World(tmp_path, fake_tiktok, video)


def test_a_due_publication_is_posted_once_and_recorded(world: World):
    assert [p.id for p in world.store.due_publications(datetime.now(UTC), 10)] == [world.publication.id]
    done = world.attempt()
    assert done.status == "published" and done.post_id and done.error == ""
    assert len(world.fake.posts) == 1 and world.fake.posts[0].title == "A moment #clipped"
    assert world.store.due_publications(datetime.now(UTC), 10) == []
    again = world.attempt(owner="run-2")  # a duplicate run finds nothing open: no second post
    assert again.status == "published" and len(world.fake.posts) == 1
    account = world.store.get_account(world.account.id)
    assert account.last_post_at is not None and account.health == "active"


def test_a_crash_mid_upload_is_resumed_by_the_next_attempt_without_a_second_post(world: World):
    world.fake.fail_chunk(1, status=503, times=10)  # the second chunk keeps failing: the attempt gives up
    first = world.attempt()
    assert first.status == "scheduled" and first.attempts == 1 and "503" in first.error
    assert first.next_attempt_at > datetime.now(UTC) and first.resume  # progress kept for the next attempt
    chunks_before = len([put for put in world.fake.chunk_puts if put.status in (201, 206)])
    assert chunks_before == 1
    world.fake.fail_chunk(1, status=503, times=0)
    second = world.attempt(owner="run-2")
    assert second.status == "published"
    assert len(world.fake.posts) == 1
    first_chunk_puts = [put for put in world.fake.chunk_puts if put.first == 0 and put.status in (201, 206)]
    assert len(first_chunk_puts) == 1  # the acknowledged chunk was not sent again


def test_a_post_the_platform_fails_after_the_upload_fails_for_good_with_its_reason(world: World):
    world.fake.processing_fail_reason = "file_format_check_failed"
    result = world.attempt()
    assert result.status == "failed" and "file_format_check_failed" in result.error
    assert result.post_id and result.published_at is None  # the platform's id is kept to look the failure up
    assert world.store.due_publications(datetime.now(UTC) + timedelta(days=1), 10) == []  # not tried again


def test_youtube_uploads_draw_on_one_daily_pool_for_every_channel_of_the_project(world: World):
    now = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)  # 10:00 Pacific
    today, yesterday = quota_day("youtube", now).isoformat(), quota_day("youtube", now - timedelta(days=1)).isoformat()
    sealed, upload = world.vault.seal(world.grant), UNITS_PER_POST["youtube"]

    def channel(workspace_id: str, name: str, day: str = "", uploads: int = 0) -> Account:
        return world.store.save_account(
            Account(workspace_id=workspace_id, platform="youtube", platform_account_id=f"UC-{name}",
                    display_name=name, sealed_grant=sealed, quota_day=day, quota_used=uploads * upload)
        )  # fmt: skip

    fresh = channel("ws1", "fresh")
    channel("ws1", "busy", today, 4)
    channel("ws2", "other-client", today, 2)  # another workspace's channel: the same Google Cloud project
    channel("ws2", "yesterday", yesterday, 6)
    assert quota_used_today(world.store, fresh, today) == 6 * upload  # the fresh channel's own counter is 0
    assert quota_used_today(world.store, world.account, today) == 0  # TikTok counts per account (and has no cap)
    publication = world.store.save_publication(
        world.publication.model_copy(
            update={"id": "pub_youtube", "account_id": fresh.id, "platform": "youtube", "idempotency_key": "yt-1"}
        )
    )
    # 6 uploads (9,600 units) spent today: a seventh would pass 10,000, so it waits for the Pacific midnight reset
    # before any request (no YouTube adapter is even configured here).
    deferred = publish_publication(
        publication.id, store=world.store, vault=world.vault, adapters={}, media=world.media, owner="run-1",
        clock=lambda: now,
    )  # fmt: skip
    assert deferred.status == "scheduled" and deferred.error == "daily quota used up"
    assert deferred.next_attempt_at == next_quota_reset("youtube", now) == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def test_a_rate_limit_defers_the_publication_and_marks_the_account(world: World):
    world.fake.queue_rate_limits("init", 10, retry_after_s=120)
    result = world.attempt()
    assert result.status == "scheduled" and result.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=110)
    account = world.store.get_account(world.account.id)
    assert account.health == "rate_limited" and account.rate_limited_until > datetime.now(UTC)
    assert world.fake.posts == []


def test_a_revoked_grant_fails_the_post_and_asks_for_reconnection(world: World):
    world.fake.revoke_all_grants()
    result = world.attempt()
    assert result.status == "failed" and "reconnect" in result.error
    assert world.store.get_account(world.account.id).health == "needs_reconnect"
    assert world.grant.access_token not in result.error and world.grant.refresh_token not in result.error


def test_an_expiring_token_is_refreshed_first_and_the_rotated_refresh_token_kept(world: World):
    account = world.store.get_account(world.account.id)
    account.sealed_grant = world.vault.seal(world.grant.model_copy(update={"expires_at": datetime.now(UTC)}))
    world.store.save_account(account)
    result = world.attempt()
    assert result.status == "published"
    stored = world.vault.open(world.store.get_account(world.account.id).sealed_grant)
    assert stored.refresh_token != world.grant.refresh_token  # TikTok rotates: the new one was kept
    assert stored.expires_at > datetime.now(UTC) + timedelta(hours=1)


def test_two_workers_cannot_hold_the_same_publication(world: World):
    now = datetime.now(UTC)
    assert world.store.claim_publication(world.publication.id, "run-a", now, now + timedelta(minutes=5))
    assert world.store.claim_publication(world.publication.id, "run-b", now, now + timedelta(minutes=5)) is None
    with pytest.raises(RuntimeError, match="no longer leased"):
        world.store.save_resume(world.publication.id, "run-b", {"x": 1})


def test_key_rotation_reseals_every_grant_and_the_old_key_can_then_be_removed(world: World):
    new_key = TokenVault.new_key()
    both = TokenVault([new_key, world.key])
    assert reseal_all_grants(world.store, both) == 1
    only_new = TokenVault([new_key])
    assert only_new.open(world.store.get_account(world.account.id).sealed_grant) == world.grant


def test_grants_close_to_lapsing_are_refreshed_ahead_and_a_refused_one_asks_for_reconnection(world: World):
    account = world.store.get_account(world.account.id)
    account.refresh_expires_at = datetime.now(UTC) + timedelta(days=3)
    world.store.save_account(account)
    outcomes = refresh_expiring_grants(world.store, world.vault, {"tiktok": world.adapter}, datetime.now(UTC))
    assert outcomes == {account.id: "refreshed"}
    refreshed = world.store.get_account(account.id)
    assert refreshed.refresh_expires_at > datetime.now(UTC) + timedelta(days=300)
    assert world.vault.open(refreshed.sealed_grant).refresh_token != world.grant.refresh_token
    # Nothing is close to lapsing now; a revoked grant found on the next close call marks the account.
    assert refresh_expiring_grants(world.store, world.vault, {"tiktok": world.adapter}, datetime.now(UTC)) == {}
    refreshed.refresh_expires_at = datetime.now(UTC) + timedelta(days=1)
    world.store.save_account(refreshed)
    world.fake.revoke_all_grants()
    assert refresh_expiring_grants(world.store, world.vault, {"tiktok": world.adapter}, datetime.now(UTC)) == {
        account.id: "needs_reconnect"
    }
    assert world.store.get_account(account.id).health == "needs_reconnect"
