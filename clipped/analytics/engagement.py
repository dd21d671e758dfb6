"""Engagement snapshots: what each platform reports today about every published post, beside the clip it came from.

One pull measures the published publications of every workspace with a connected account: a fresh token per
account, one insights call per post through the account's adapter. Counts are the platform's cumulative lifetime
values at capture time; a number the platform does not report stays NULL, never 0, so "not reported" never reads as
"nobody did it". An account that cannot be measured (disconnected, refused token, rate-limited) is skipped and
reported; its posts get no metrics row that day, while the other accounts are measured as usual.

Per workspace and day two Parquet files with explicit schemas (the shared contract the dbt sources read):
``metrics.parquet`` (one row per measured post) and ``publications.parquet`` (one row per published publication,
with the features of its clip: sub-scores, duration, caption style, hook text, posting hour).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import pyarrow.parquet as pq

from clipped.layout import RENDERED_CLIPS_FILE, ClipVersionRef, InvalidKeyError, SourceRef
from clipped.publish.adapter import PlatformAdapter
from clipped.publish.models import NeedsReconnectError, Platform, PostMetrics, PublishError, RateLimitedError
from clipped.publish.publishing import fresh_grant
from clipped.publish.records import Account, Publication, PublishingStore
from clipped.publish.token_vault import TokenVault, VaultKeyError
from clipped.render.versions import ClipVersionError, read_version_request
from clipped.render_manifest import RenderedClipsManifest
from clipped.stage_outputs import read_request
from clipped.storage import Storage, WorkspacedStorage
from clipped.types import RenderedClip

# Where a workspace's files of one day live: hive-style day folders, which DuckDB's read_parquet understands.
ENGAGEMENT_KEY = "{workspace_id}/analytics/engagement/day={day}/metrics.parquet"
PUBLICATIONS_KEY = "{workspace_id}/analytics/publications/day={day}/publications.parquet"

COUNT_COLUMNS = ("views", "likes", "comments", "shares", "saves")
RATE_COLUMNS = ("avg_view_duration_s", "retention")
SUB_SCORES = ("hook", "flow", "value", "energy")
UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

METRICS_SCHEMA = pa.schema(
    [
        pa.field("snapshot_day", pa.date32(), nullable=False),
        pa.field("captured_at", UTC_TIMESTAMP, nullable=False),
        pa.field("workspace_id", pa.string(), nullable=False),
        pa.field("publication_id", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("platform", pa.string(), nullable=False),
        pa.field("post_id", pa.string(), nullable=False),
        *(pa.field(name, pa.int64()) for name in COUNT_COLUMNS),
        *(pa.field(name, pa.float64()) for name in RATE_COLUMNS),
    ]
)
PUBLICATIONS_SCHEMA = pa.schema(
    [
        pa.field("publication_id", pa.string(), nullable=False),
        pa.field("workspace_id", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("platform", pa.string(), nullable=False),
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("post_url", pa.string()),
        pa.field("published_at", UTC_TIMESTAMP, nullable=False),
        pa.field("clip_ref", pa.string(), nullable=False),
        pa.field("source_partition", pa.string(), nullable=False),
        pa.field("clip_id", pa.string()),
        pa.field("duration_s", pa.float64()),
        pa.field("caption_style", pa.string()),
        pa.field("hook_text", pa.string()),
        pa.field("score", pa.float64()),
        *(pa.field(f"score_{name}", pa.float64()) for name in SUB_SCORES),
        pa.field("posting_hour_local", pa.int64()),
    ]
)
# How many posts the asset's metadata lists as the day's best.
TOP_POSTS = 10


def engagement_key(workspace_id: str, day: date) -> str:
    """Storage key of a workspace's engagement snapshot of ``day``."""
    return ENGAGEMENT_KEY.format(workspace_id=workspace_id, day=day.isoformat())


def publications_key(workspace_id: str, day: date) -> str:
    """Storage key of a workspace's published-clip facts as of ``day``."""
    return PUBLICATIONS_KEY.format(workspace_id=workspace_id, day=day.isoformat())


@dataclass(frozen=True)
class Unmeasured:
    """A published post that got no metrics row: which, and why (no token or secret in ``reason``)."""

    workspace_id: str
    publication_id: str
    account_id: str
    platform: Platform
    reason: str


@dataclass
class EngagementSnapshot:
    """One pull: the metrics rows and publication rows of every workspace, and the posts that were not measured."""

    day: date
    captured_at: datetime
    workspaces: list[str]
    metrics: list[dict[str, object]] = field(default_factory=list)
    publications: list[dict[str, object]] = field(default_factory=list)
    unmeasured: list[Unmeasured] = field(default_factory=list)

    def metrics_of(self, workspace_id: str) -> list[dict[str, object]]:
        return [row for row in self.metrics if row["workspace_id"] == workspace_id]

    def publications_of(self, workspace_id: str) -> list[dict[str, object]]:
        return [row for row in self.publications if row["workspace_id"] == workspace_id]


@dataclass(frozen=True)
class EngagementSummary:
    """What a pull amounted to, for the run's metadata."""

    posts_measured: int
    # Per platform: published posts without a view count (not measured, or the platform reported none).
    posts_missing_data: dict[str, int]
    total_views: int
    top_posts_markdown: str
    skipped: dict[str, int]  # reason → posts


def engagement_workspaces(store: PublishingStore) -> list[str]:
    """The workspaces a pull covers: those with a connected account (nothing can be measured without one)."""
    return sorted({account.workspace_id for account in store.all_accounts()})


def collect_engagement(
    store: PublishingStore,
    vault: TokenVault,
    adapters: Mapping[Platform, PlatformAdapter],
    media: Storage,
    day: date,
    now: datetime,
) -> EngagementSnapshot:
    """Measure every publication published before the end of ``day`` (and before ``now``) in every workspace.

    Tokens are refreshed through :func:`~clipped.publish.publishing.fresh_grant` (a rotated refresh token is stored
    at once). Adapters wait out 429s as the platform asks (``Retry-After``); a rate limit that outlasts their retries
    ends that account's pull for this run rather than hammering on, and is reported with the account's other
    unmeasured posts. ``media`` is where the rendered clips' manifests and requests are read for the clip features.
    """
    cutoff = min(now, datetime.combine(day + timedelta(days=1), time(), UTC))
    accounts = {account.id: account for account in store.all_accounts()}
    snapshot = EngagementSnapshot(day=day, captured_at=now, workspaces=engagement_workspaces(store))
    features = _ClipFeatures(media)
    for workspace_id in snapshot.workspaces:
        published = [
            publication
            for publication in store.list_publications(workspace_id, statuses=("published",))
            if publication.post_id and publication.published_at is not None and publication.published_at < cutoff
        ]
        by_account: dict[str, list[Publication]] = defaultdict(list)
        for publication in sorted(published, key=lambda publication: publication.id):
            by_account[publication.account_id].append(publication)
            snapshot.publications.append(
                _publication_row(publication, accounts.get(publication.account_id), features.of(publication))
            )
        for account_id, posts in by_account.items():
            account = accounts.get(account_id)
            adapter = adapters.get(account.platform) if account is not None else None
            _measure_account(snapshot, store, vault, account, adapter, posts, now)
    return snapshot


def _measure_account(
    snapshot: EngagementSnapshot,
    store: PublishingStore,
    vault: TokenVault,
    account: Account | None,
    adapter: PlatformAdapter | None,
    posts: Sequence[Publication],
    now: datetime,
) -> None:
    def skip(remaining: Sequence[Publication], reason: str) -> None:
        snapshot.unmeasured.extend(
            Unmeasured(post.workspace_id, post.id, post.account_id, post.platform, reason) for post in remaining
        )

    if account is None:
        skip(posts, "the account was disconnected")
        return
    if account.health in ("needs_reconnect", "disabled"):
        skip(posts, f"the account is {account.health}")
        return
    if adapter is None:
        skip(posts, f"no {account.platform} app is configured")
        return
    try:
        token = fresh_grant(account, store, vault, adapter, now).access_token
    except (PublishError, VaultKeyError) as exc:
        skip(posts, f"no usable token: {exc}")
        return
    for index, post in enumerate(posts):
        try:
            metrics = adapter.fetch_metrics(_platform_post_id(post), token)
        except (RateLimitedError, NeedsReconnectError) as exc:
            # Every later call of this account would get the same answer: stop here, report the rest.
            skip(posts[index:], str(exc))
            return
        except PublishError as exc:
            skip([post], str(exc))
            continue
        snapshot.metrics.append(_metrics_row(snapshot, post, metrics))


def _platform_post_id(publication: Publication) -> str:
    """The id the platform's insights endpoint knows the post by: TikTok's public video id where the publication
    recorded one (its ``post_id`` is the ``publish_id``, which the adapter would otherwise resolve first)."""
    if publication.platform == "tiktok":
        return str(publication.resume.get("public_post_id") or publication.post_id)
    return publication.post_id


def _metrics_row(snapshot: EngagementSnapshot, publication: Publication, metrics: PostMetrics) -> dict[str, object]:
    return {
        "snapshot_day": snapshot.day,
        "captured_at": snapshot.captured_at,
        "workspace_id": publication.workspace_id,
        "publication_id": publication.id,
        "account_id": publication.account_id,
        "platform": publication.platform,
        "post_id": publication.post_id,
        **metrics.model_dump(),
    }


def _publication_row(publication: Publication, account: Account | None, clip: _ClipFacts | None) -> dict[str, object]:
    published_at = publication.published_at or publication.updated_at  # always set on a published publication
    scores = clip.rendered.scores if clip is not None else {}
    return {
        "publication_id": publication.id,
        "workspace_id": publication.workspace_id,
        "account_id": publication.account_id,
        "platform": publication.platform,
        "post_id": publication.post_id,
        "post_url": publication.post_url or None,
        "published_at": published_at,
        "clip_ref": publication.clip_ref,
        "source_partition": publication.source_partition,
        "clip_id": clip.rendered.clip_id if clip is not None else None,
        "duration_s": publication.duration_s,
        "caption_style": clip.caption_style if clip is not None else None,
        "hook_text": clip.rendered.title if clip is not None else None,
        "score": clip.rendered.score if clip is not None else None,
        **{f"score_{name}": scores.get(name) for name in SUB_SCORES},
        "posting_hour_local": published_at.astimezone(_zone(account)).hour,
    }


def _zone(account: Account | None) -> ZoneInfo:
    """The account's posting-plan time zone (UTC when the account is gone or the zone unknown)."""
    try:
        return ZoneInfo(account.plan.timezone if account is not None else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class _ClipFacts:
    rendered: RenderedClip
    caption_style: str | None


class _ClipFeatures:
    """The features of the clip a publication posted, read from the source's ``rendered_clips`` manifest (scores,
    title) and the request it was rendered with (caption style): the source's settings for a clip of the manifest,
    the version's own request for a re-rendered version. Manifests and requests are read once per pull."""

    def __init__(self, media: Storage) -> None:
        self._media = media
        self._manifests: dict[str, RenderedClipsManifest | None] = {}
        self._source_styles: dict[str, str | None] = {}

    def of(self, publication: Publication) -> _ClipFacts | None:
        """None when the source, its manifest or the clip is gone (the features are then NULL, not guessed)."""
        try:
            source = SourceRef.from_partition_key(publication.source_partition)
        except InvalidKeyError:
            return None
        manifest = self._manifest(source)
        if manifest is None:
            return None
        for clip in manifest.clips:
            if clip.video_key == publication.video_key:
                return _ClipFacts(clip, self._source_style(source))
        # A re-rendered version: its folder ``{clip_id}-v{n}`` names the manifest's clip and holds its request.
        folder = publication.video_key.rsplit("/", 2)[-2] if publication.video_key.count("/") >= 2 else ""
        try:
            version = ClipVersionRef.from_partition_key(f"{folder}|{source.partition_key}")
            style: str | None = read_version_request(self._media, version).caption_style
        except (InvalidKeyError, ClipVersionError):
            return None
        clip = next((clip for clip in manifest.clips if clip.clip_id == version.clip_id), None)
        return _ClipFacts(clip, style) if clip is not None else None

    def _manifest(self, source: SourceRef) -> RenderedClipsManifest | None:
        key = source.key(RENDERED_CLIPS_FILE)
        if key not in self._manifests:
            exists = self._media.exists(key)
            self._manifests[key] = self._media.read_model(key, RenderedClipsManifest) if exists else None
        return self._manifests[key]

    def _source_style(self, source: SourceRef) -> str | None:
        if source.partition_key not in self._source_styles:
            try:
                style: str | None = read_request(self._media, source).settings.caption_style
            except FileNotFoundError:
                style = None
            self._source_styles[source.partition_key] = style
        return self._source_styles[source.partition_key]


def write_parquet(storage: Storage, rows: Sequence[Mapping[str, object]], key: str, schema: pa.Schema) -> None:
    """Write ``rows`` as one Parquet file of exactly ``schema`` under ``key``, atomically (a reader sees the old
    file or the whole new one). NULLs stay NULL; a value of the wrong type fails the write instead of being cast."""
    table = pa.Table.from_pylist([dict(row) for row in rows], schema=schema)
    with storage.writer(key) as path:
        pq.write_table(table, path)


def read_parquet(storage: Storage, key: str) -> pa.Table:
    """The Parquet file under ``key`` (FileNotFoundError when there is none)."""
    return pq.read_table(io.BytesIO(storage.read_bytes(key)))


def write_engagement_day(storage: WorkspacedStorage, snapshot: EngagementSnapshot) -> list[str]:
    """Both files of every workspace of the pull (empty ones for a workspace with nothing published yet, so every
    covered workspace has its day), each through that workspace's own view of the storage; the keys written."""
    written = []
    for workspace_id in snapshot.workspaces:
        view = storage.for_workspace(workspace_id)
        facts = publications_key(workspace_id, snapshot.day)
        write_parquet(view, snapshot.publications_of(workspace_id), facts, PUBLICATIONS_SCHEMA)
        # Metrics last: a metrics file never names a publication its day's facts lack.
        metrics = engagement_key(workspace_id, snapshot.day)
        write_parquet(view, snapshot.metrics_of(workspace_id), metrics, METRICS_SCHEMA)
        written += [facts, metrics]
    return written


def summarize(snapshot: EngagementSnapshot) -> EngagementSummary:
    """Posts measured, posts without a view count per platform, total views, the best posts as a markdown table."""
    facts = {row["publication_id"]: row for row in snapshot.publications}
    viewed = [row for row in snapshot.metrics if isinstance(row["views"], int)]
    with_views = {row["publication_id"] for row in viewed}
    missing: dict[str, int] = defaultdict(int)
    for row in snapshot.publications:
        if row["publication_id"] not in with_views:
            missing[str(row["platform"])] += 1
    skipped: dict[str, int] = defaultdict(int)
    for post in snapshot.unmeasured:
        skipped[post.reason] += 1
    ranked = sorted(viewed, key=lambda row: (-_int(row["views"]), str(row["publication_id"])))
    lines = ["| platform | post | hook | views | likes | engagement |", "|---|---|---|---:|---:|---:|"]
    for row in ranked[:TOP_POSTS]:
        fact = facts.get(row["publication_id"], {})
        post = f"[{row['post_id']}]({fact['post_url']})" if fact.get("post_url") else str(row["post_id"])
        hook = str(fact.get("hook_text") or "").replace("|", "/")[:60]
        rate = engagement_rate(row)
        likes = "" if row["likes"] is None else str(row["likes"])
        shown_rate = "" if rate is None else f"{rate:.1%}"
        lines.append(f"| {row['platform']} | {post} | {hook} | {row['views']} | {likes} | {shown_rate} |")
    return EngagementSummary(
        posts_measured=len(snapshot.metrics),
        posts_missing_data=dict(sorted(missing.items())),
        total_views=sum(_int(row["views"]) for row in viewed),
        top_posts_markdown="\n".join(lines) if ranked else "No post reported views.",
        skipped=dict(skipped),
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def engagement_rate(row: Mapping[str, object]) -> float | None:
    """(likes + comments + shares + saves) / views, counting what the platform reports; None without views."""
    views = row.get("views")
    if not isinstance(views, int) or views <= 0:
        return None
    interactions = sum(value for name in COUNT_COLUMNS[1:] if isinstance(value := row.get(name), int))
    return interactions / views
