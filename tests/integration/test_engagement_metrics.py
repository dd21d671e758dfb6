"""`engagement_metrics` in Dagster against the four local platform fakes: a day's snapshot is pulled per post through
each adapter's insights endpoint, written as Parquet with NULL where a platform reports nothing, and passes the
Great Expectations check; a bad day (a negative count, a cumulative count going down) fails the blocking check and
no dbt model of the same run (analytics_job's selection) starts. An account that cannot be measured is skipped and
reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
from dagster_dbt import DbtCliResource

from clipped.analytics.engagement import (
    METRICS_SCHEMA,
    PUBLICATIONS_SCHEMA,
    engagement_key,
    publications_key,
    read_parquet,
)
from clipped.analytics.expectations import validate_engagement
from clipped.layout import RENDERED_CLIPS_FILE, REQUEST_FILE, SourceRef
from clipped.publish.models import Platform, TokenGrant
from clipped.publish.records import Account, PlanSettings, Publication
from clipped.publish.token_vault import TokenVault
from clipped.render.versions import ClipVersionRequest, save_version_request
from clipped.render_manifest import RenderedClipsManifest
from clipped.sources import SourceRequest
from clipped.types import ClipSettings, RenderedClip
from clipped_assets.analytics import (
    engagement_days,
    engagement_metrics,
    engagement_metrics_pass_expectations,
)
from clipped_assets.dbt_models import analytics_models
from clipped_resources.publisher import PlatformApp, PublisherResource
from clipped_resources.storage import LocalStorage
from clipped_resources.warehouse import DBT_PROJECT_DIR, WarehouseResource, dbt_executable
from tests.support.fake_instagram import FakeInstagram, fake_instagram_fixture  # noqa: F401
from tests.support.fake_tiktok import FakeTikTok, fake_tiktok_fixture  # noqa: F401
from tests.support.fake_x import FakeX, fake_x_fixture  # noqa: F401
from tests.support.fake_youtube import FakeYouTube, fake_youtube  # noqa: F401

SOURCE = SourceRef("ws1", "talk-0123456789")
CLIP_ID = "talk-0123456789-01-abcdef12"
TIKTOK_SCOPES = "user.info.basic,video.publish,video.list"
TODAY = datetime.now(UTC).date()


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    """The source's request, its rendered_clips manifest (one clip) and a re-rendered version of that clip."""
    storage = LocalStorage(root=str(tmp_path / "storage"))
    settings = ClipSettings(caption_style="highlight_word")
    request = SourceRequest(kind="file", location="/videos/talk.mp4", display_name="talk", settings=settings)
    storage.write_model(SOURCE.key(REQUEST_FILE), request)
    clip = RenderedClip(
        rank=1,
        clip_id=CLIP_ID,
        candidate_id="cand-01",
        video_key=SOURCE.clip_key(CLIP_ID, "clip.mp4"),
        thumbnail_key=SOURCE.clip_key(CLIP_ID, "thumbnail.jpg"),
        captions_key=SOURCE.clip_key(CLIP_ID, "captions.ass"),
        start_s=12.0,
        end_s=41.5,
        width=1080,
        height=1920,
        score=0.71,
        scores={"hook": 0.9, "flow": 0.6, "value": 0.7, "energy": 0.5},
        reason="strong hook",
        title="Why nobody tells you this?",
        words=[],
    )
    manifest = RenderedClipsManifest(partition=SOURCE.partition_key, duration_s=600.0, language="en", clips=[clip])
    storage.write_model(SOURCE.key(RENDERED_CLIPS_FILE), manifest)
    save_version_request(storage, SOURCE, ClipVersionRequest(clip_id=CLIP_ID, version=2, caption_style="karaoke"))
    return storage


@dataclass
class World:
    """Connected accounts on the four fakes, one published post each, and the resources a run gets."""

    publisher: PublisherResource
    storage: LocalStorage
    youtube: FakeYouTube
    tiktok: FakeTikTok
    instagram: FakeInstagram
    x: FakeX
    posts: dict[str, Publication]  # by platform, plus "tiktok_unscoped" in workspace ws2

    def resources(self) -> dict[str, object]:
        return {"publisher": self.publisher, "storage": self.storage}


@pytest.fixture
def world(
    tmp_path: Path,
    storage: LocalStorage,
    monkeypatch: pytest.MonkeyPatch,
    fake_youtube: FakeYouTube,  # noqa: F811
    fake_tiktok: FakeTikTok,
    fake_instagram: FakeInstagram,
    fake_x: FakeX,
) -> World:
    monkeypatch.setenv("TEST_TOKEN_KEYS", TokenVault.new_key())
    for name, secret in {
        "YOUTUBE": fake_youtube.client_secret,
        "TIKTOK": fake_tiktok.client_secret,
        "INSTAGRAM": "fake-instagram-app-secret",
        "X": fake_x.client_secret,
    }.items():
        monkeypatch.setenv(f"TEST_{name}_SECRET", secret)
    publisher = PublisherResource(
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        token_keys_env="TEST_TOKEN_KEYS",
        youtube=PlatformApp(
            client_id=fake_youtube.client_id,
            client_secret_env="TEST_YOUTUBE_SECRET",
            urls=fake_youtube.adapter_urls(),
        ),
        tiktok=PlatformApp(
            client_id=fake_tiktok.client_key,
            client_secret_env="TEST_TIKTOK_SECRET",
            urls={"auth_base_url": fake_tiktok.base_url, "api_base_url": fake_tiktok.base_url},
        ),
        instagram=PlatformApp(
            client_id="990602627938098", client_secret_env="TEST_INSTAGRAM_SECRET", urls=fake_instagram.adapter_urls()
        ),
        x=PlatformApp(
            client_id=fake_x.client_id,
            client_secret_env="TEST_X_SECRET",
            urls={"authorize_url": f"{fake_x.url}/i/oauth2/authorize", "api_url": fake_x.url},
        ),
    )
    store, vault = publisher.store(), publisher.vault()
    later = datetime.now(UTC) + timedelta(hours=12)
    youtube_access, youtube_refresh = fake_youtube.issue_tokens()
    tiktok_grant = fake_tiktok.issue_tokens(TIKTOK_SCOPES)
    x_grant = fake_x.issue_grant({"tweet.read", "tweet.write", "users.read", "media.write", "offline.access"})
    grants: dict[Platform, TokenGrant] = {
        # Expiring within minutes: the pull refreshes it first (fresh_grant), as a publication would.
        "youtube": TokenGrant(
            access_token=youtube_access,
            refresh_token=youtube_refresh,
            expires_at=datetime.now(UTC) + timedelta(minutes=2),
        ),
        "tiktok": TokenGrant(
            access_token=tiktok_grant.access_token, refresh_token=tiktok_grant.refresh_token, expires_at=later
        ),
        "instagram": TokenGrant(access_token=(token := fake_instagram.issue_token()), refresh_token=token),
        "x": TokenGrant(access_token=x_grant.access_token, refresh_token=x_grant.refresh_token, expires_at=later),
    }
    post_ids: dict[Platform, str] = {
        "youtube": fake_youtube.add_video(),
        "tiktok": fake_tiktok.add_published_post(),
        "instagram": fake_instagram.add_post(),
        "x": fake_x.add_post(),
    }
    posts: dict[str, Publication] = {}
    for platform, grant in grants.items():
        account = store.save_account(
            Account(
                workspace_id="ws1",
                platform=platform,
                platform_account_id=f"{platform}-account",
                display_name=f"{platform} creator",
                sealed_grant=vault.seal(grant),
                plan=PlanSettings(timezone="Asia/Tokyo"),
            )
        )
        # Instagram posts the re-rendered version (karaoke captions); the others the clip as first rendered.
        folder = f"{CLIP_ID}-v2" if platform == "instagram" else CLIP_ID
        posts[platform] = published(store, account, SOURCE.clip_key(folder, "clip.mp4"), post_ids[platform])
    # Another workspace's TikTok account, connected before video.list was asked for: skipped and reported.
    unscoped = fake_tiktok.issue_tokens()
    account = store.save_account(
        Account(
            workspace_id="ws2",
            platform="tiktok",
            platform_account_id="tiktok-old",
            display_name="old connection",
            sealed_grant=vault.seal(
                TokenGrant(access_token=unscoped.access_token, refresh_token=unscoped.refresh_token, expires_at=later)
            ),
        )
    )
    posts["tiktok_unscoped"] = published(
        store, account, "ws2/clips/other-01/clip.mp4", fake_tiktok.add_published_post(), source="ws2.other-9876543210"
    )
    return World(publisher, storage, fake_youtube, fake_tiktok, fake_instagram, fake_x, posts)


def published(
    store: object, account: Account, video_key: str, post_id: str, *, source: str = SOURCE.partition_key
) -> Publication:
    """A publication that went out yesterday at 10:00 UTC (19:00 in the accounts' Tokyo time)."""
    yesterday = datetime.combine(TODAY - timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=10)
    return store.save_publication(  # type: ignore[attr-defined]
        Publication(
            workspace_id=account.workspace_id,
            source_partition=source,
            clip_ref="clip_1",
            video_key=video_key,
            duration_s=29.5,
            account_id=account.id,
            platform=account.platform,
            title="Why nobody tells you this?",
            caption="Why nobody tells you this? #clipped",
            scheduled_at=yesterday,
            status="published",
            post_id=post_id,
            post_url=f"https://example.test/{account.platform}/{post_id}",
            published_at=yesterday,
        )
    )


def set_counts(world: World, *, youtube_views: int, x_likes: int) -> None:
    tiktok_public_id = world.tiktok.publishes[world.posts["tiktok"].post_id].public_post_id
    world.youtube.set_statistics(world.posts["youtube"].post_id, views=youtube_views, likes=80, comments=9)
    # YouTube's watch time is in its Analytics API (the grant has yt-analytics.readonly); a looping Short passes 100 %.
    world.youtube.set_watch_time(
        world.posts["youtube"].post_id, average_view_duration_s=14, average_view_percentage=108.0
    )
    world.tiktok.set_video_counts(tiktok_public_id, views=5000, likes=400, comments=30, shares=60)
    world.instagram.set_insights(
        world.posts["instagram"].post_id,
        views=3000,
        likes=250,
        comments=12,
        shares=40,
        saved=75,
        ig_reels_avg_watch_time=7200,
    )
    world.x.set_metrics(world.posts["x"].post_id, impressions=900, likes=x_likes, replies=4, reposts=6, quotes=1)


@dg.asset(partitions_def=engagement_days, deps=[engagement_metrics], group_name="analytics")
def engagement_consumer() -> None:
    """Stands for the dbt models: it must only run on a day whose snapshot passed the expectations."""


def pull(world: World, instance: dg.DagsterInstance, day: date) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [engagement_metrics, engagement_metrics_pass_expectations, engagement_consumer],
        partition_key=day.isoformat(),
        resources=world.resources(),
        instance=instance,
        raise_on_error=False,
    )


def check_evaluation(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def test_a_day_is_pulled_per_post_written_with_nulls_and_passes_the_expectations(world: World) -> None:
    day = TODAY - timedelta(days=1)
    set_counts(world, youtube_views=1200, x_likes=50)

    with dg.instance_for_test() as instance:
        result = pull(world, instance, day)

    assert result.success
    assert check_evaluation(result).passed
    assert result.asset_materializations_for_node("engagement_consumer"), "downstream ran on a good day"
    [materialization] = result.asset_materializations_for_node("engagement_metrics")
    metadata = {name: value.value for name, value in materialization.metadata.items()}
    assert metadata["posts_measured"] == 4 and metadata["total_views"] == 1200 + 5000 + 3000 + 900
    assert metadata["posts_missing_data"] == {"tiktok": 1}  # the ws2 post: measured by nobody
    [reason] = metadata["posts_not_measured"]
    assert "scope_not_authorized" in reason or "HTTP 401" in reason
    assert "| tiktok |" in metadata["top_posts"] and "5000" in metadata["top_posts"]

    metrics = read_parquet(world.storage, engagement_key("ws1", day))
    assert metrics.schema.equals(METRICS_SCHEMA)
    rows = {row["platform"]: row for row in metrics.to_pylist()}
    assert {name: rows["youtube"][name] for name in ("views", "likes", "comments", "shares", "saves")} == {
        "views": 1200,
        "likes": 80,
        "comments": 9,
        "shares": None,  # the Data API has no share or save count: NULL, not 0
        "saves": None,
    }
    assert (rows["youtube"]["avg_view_duration_s"], rows["youtube"]["retention"]) == (14.0, 1.08)
    assert (rows["tiktok"]["shares"], rows["tiktok"]["saves"]) == (60, None)
    assert (rows["instagram"]["saves"], rows["instagram"]["avg_view_duration_s"]) == (75, 7.2)
    assert (rows["x"]["views"], rows["x"]["shares"], rows["x"]["saves"]) == (900, 7, 0)
    # Watch time where the platform gives it: YouTube (Analytics API) and Instagram; TikTok's and X's APIs have none.
    assert [rows[name]["avg_view_duration_s"] for name in ("tiktok", "x")] == [None, None]
    assert [rows[name]["retention"] for name in ("tiktok", "instagram", "x")] == [None, None, None]
    assert all(row["snapshot_day"] == day for row in metrics.to_pylist())
    assert rows["youtube"]["post_id"] == world.posts["youtube"].post_id

    facts = read_parquet(world.storage, publications_key("ws1", day))
    assert facts.schema.equals(PUBLICATIONS_SCHEMA)
    by_platform = {row["platform"]: row for row in facts.to_pylist()}
    youtube, instagram = by_platform["youtube"], by_platform["instagram"]
    assert (youtube["clip_id"], youtube["caption_style"], youtube["hook_text"]) == (
        CLIP_ID,
        "highlight_word",
        "Why nobody tells you this?",
    )
    assert (youtube["score"], youtube["score_hook"], youtube["score_energy"]) == (0.71, 0.9, 0.5)
    assert (instagram["clip_id"], instagram["caption_style"]) == (CLIP_ID, "karaoke")  # the version's own style
    assert youtube["posting_hour_local"] == 19 and youtube["duration_s"] == 29.5
    # The other workspace has its own pair: its post's facts, and no metrics for it.
    assert read_parquet(world.storage, engagement_key("ws2", day)).num_rows == 0
    [other] = read_parquet(world.storage, publications_key("ws2", day)).to_pylist()
    assert other["publication_id"] == world.posts["tiktok_unscoped"].id and other["clip_id"] is None
    # The expiring YouTube grant was refreshed before the pull and the new token stored.
    stored = world.publisher.store().get_account(world.posts["youtube"].account_id)
    assert world.publisher.vault().open(stored.sealed_grant).expires_at > datetime.now(UTC) + timedelta(minutes=30)


# analytics_job's own warning (ignored in clipped_assets/dbt_models.py): one day per run is the intent.
@pytest.mark.filterwarnings("ignore:Asset job __ephemeral_asset_job__ materializes assets with varying")
def test_a_bad_day_fails_the_blocking_check_and_no_dbt_model_starts(world: World, tmp_path: Path) -> None:
    yesterday = TODAY - timedelta(days=1)
    warehouse = tmp_path / "warehouse.duckdb"
    resources = world.resources() | {
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
        ),
        "warehouse": WarehouseResource(database_path=str(warehouse), storage_root=world.storage.root),
    }
    with dg.instance_for_test() as instance:
        set_counts(world, youtube_views=1200, x_likes=50)
        assert pull(world, instance, yesterday).success

        # Today the platforms answer garbage: a negative view count, and likes below yesterday's. The run is the
        # nightly analytics_job's: the pull, its check and every dbt model.
        set_counts(world, youtube_views=-5, x_likes=20)
        result = dg.materialize(
            [engagement_metrics, engagement_metrics_pass_expectations, analytics_models()],
            partition_key=TODAY.isoformat(),
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )

    assert not result.success
    evaluation = check_evaluation(result)
    assert not evaluation.passed
    failures = evaluation.metadata["failures"].value
    assert "views is not negative" in failures and "-5" in failures
    assert "likes never goes down from the previous day" in failures and "(20, 50)" in failures
    # dbt never ran: its step did not start (the day's Parquet was there to build from), no model, no warehouse.
    started = {event.step_key for event in result.all_events if event.event_type == dg.DagsterEventType.STEP_START}
    assert len(started) == 2 and "engagement_metrics" in started and "analytics_models" not in started, started
    assert not result.asset_materializations_for_node("analytics_models")
    assert not warehouse.exists()
    # The snapshot itself is stored (for a person to look at); only what builds on it is held back.
    assert read_parquet(world.storage, engagement_key("ws1", TODAY)).num_rows == 4


def test_expectations_refuse_unknown_posts_stale_captures_and_a_wrong_schema() -> None:
    day = date(2026, 3, 2)
    captured = datetime(2026, 3, 3, 2, 30, tzinfo=UTC)
    row = {name: None for name in METRICS_SCHEMA.names} | {
        "snapshot_day": day,
        "captured_at": captured,
        "workspace_id": "ws1",
        "publication_id": "pub_a",
        "account_id": "acct_a",
        "platform": "youtube",
        "post_id": "v1",
        "views": 10,
    }
    facts = pa.Table.from_pylist([], schema=PUBLICATIONS_SCHEMA)
    good = pa.Table.from_pylist([row], schema=METRICS_SCHEMA)
    facts_with_a = pa.table({"publication_id": ["pub_a"]})

    assert validate_engagement(good, facts_with_a, None, "ws1", day).success
    unknown = validate_engagement(good, facts, None, "ws1", day)
    assert [f.expectation for f in unknown.failures] == [
        "every publication_id is among the day's published publications"
    ]
    stale = pa.Table.from_pylist([row | {"captured_at": captured + timedelta(days=5)}], schema=METRICS_SCHEMA)
    assert [f.expectation for f in validate_engagement(stale, facts_with_a, None, "ws1", day).failures] == [
        "captured_at within 2026-03-02 and the day after"
    ]
    as_float = good.set_column(good.schema.get_field_index("views"), "views", good.column("views").cast(pa.float64()))
    wrong = validate_engagement(as_float, facts_with_a, None, "ws1", day)
    assert [f.expectation for f in wrong.failures] == ["the Parquet schema is the contract's"]
    assert "views: double" in wrong.failures[0].detail and "missing views: int64" in wrong.failures[0].detail
