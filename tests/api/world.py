"""A workspace with one of everything (job, clip with media, version, comment, upload, token, extra member),
written straight into the app's database and storage, for the security suites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import jinja2
import pyarrow as pa
import yaml

from api.models import Clip, ClipVersion, Comment, Job, Upload, new_id
from clipped.live.layout import StreamRef
from clipped.live.models import LiveClip, LiveEvent, Moment
from clipped.live.service import StreamService
from clipped.publish.records import Account as PlatformAccount
from clipped.publish.records import Publication
from clipped_resources.warehouse import DBT_PROJECT_DIR, ENGAGEMENT_SCHEMA, PUBLICATIONS_SCHEMA
from tests.api.conftest import Account, ApiHarness
from tests.api.members import add_member, invite

# Enough of an MP4 for the sniffing and Range code paths (the security suites never decode it).
FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 8
FAKE_JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@dataclass
class World:
    owner: Account
    workspace_id: str
    job_id: str
    clip_id: str
    upload_id: str
    pending_upload_id: str
    member_id: str
    token_id: str
    account_id: str = ""  # a connected TikTok account (its grant is a placeholder: nothing posts in these suites)
    publication_id: str = ""  # a post of the clip scheduled to that account, a day ahead
    invitation_id: str = ""  # an open invitation (to an address with no account)
    stream_id: str = ""  # a live stream (recorded by no process) with one moment and its clip
    stream_moment_id: str = ""


def add_finished_job(session, workspace_id: str, user_id: str, video_id: str, display_name: str) -> Job:
    """A job whose run is over (as the pipeline leaves it), for tests that seed its clips themselves."""
    job = Job(
        workspace_id=workspace_id,
        user_id=user_id,
        partition_key=f"{workspace_id}.{video_id}",
        source_kind="upload",
        source_location=f"{workspace_id}/uploads/{video_id}.mp4",
        display_name=display_name,
        settings={"max_clips": 1},
        run_ids=[],
        canceled_at=datetime.now(UTC),
    )
    session.add(job)
    session.flush()
    return job


def add_clip(
    session,
    job_id: str,
    workspace_id: str,
    manifest_clip_id: str,
    *,
    video_key: str,
    thumbnail_key: str,
    title: str,
    rank: int = 1,
) -> Clip:
    """A proposed clip with a ready first version whose media are at the given keys (flushed, not committed)."""
    clip = Clip(
        job_id=job_id,
        workspace_id=workspace_id,
        manifest_clip_id=manifest_clip_id,
        rank=rank,
        score=0.5,
        title=title,
        reason="seeded",
        start_s=0.0,
        end_s=20.0,
        caption_style="highlight_word",
    )
    session.add(clip)
    session.flush()
    session.add(
        ClipVersion(
            clip_id=clip.id,
            version=1,
            caption_style="highlight_word",
            status="ready",
            video_key=video_key,
            thumbnail_key=thumbnail_key,
        )
    )
    return clip


def seed_world(api: ApiHarness, owner: Account | None = None) -> World:
    owner = owner or api.register()
    ws = owner.workspace_id
    extra = api.register()
    add_member(api, owner, ws, extra, "viewer")
    invited = invite(api, owner, ws, "invited@example.com", "editor")
    assert invited.status_code == 201, invited.text
    tokens = f"/api/workspaces/{ws}/tokens"
    token = api.client.post(tokens, headers=owner.headers, json={"name": "t", "scopes": ["read"]})
    storage = api.state.storage
    video_id = new_id("v").replace("_", "-")
    clip_folder = f"{ws}/clips/{video_id}-01"
    storage.write_bytes(f"{clip_folder}/clip.mp4", FAKE_MP4)
    storage.write_bytes(f"{clip_folder}/thumbnail.jpg", FAKE_JPEG)
    upload_key = f"{ws}/uploads/{new_id('up')}.mp4"
    storage.write_bytes(upload_key, FAKE_MP4)
    now = datetime.now(UTC)
    with api.state.sessions() as session:
        job = Job(
            workspace_id=ws,
            user_id=owner.user_id,
            partition_key=f"{ws}.{video_id}",
            source_kind="upload",
            source_location=upload_key,
            display_name="seeded",
            settings={"max_clips": 1, "caption_style": "highlight_word", "aspect": "9:16"},
            run_ids=[],
            canceled_at=now,  # a finished job: its event stream ends at once
        )
        session.add(job)
        session.flush()
        clip = add_clip(
            session,
            job.id,
            ws,
            f"{video_id}-01",
            video_key=f"{clip_folder}/clip.mp4",
            thumbnail_key=f"{clip_folder}/thumbnail.jpg",
            title="seeded clip",
        )
        session.add(Comment(clip_id=clip.id, workspace_id=ws, user_id=owner.user_id, body="seeded", at_s=1.0))
        uploads = []
        for status in ("confirmed", "pending"):
            upload = Upload(
                workspace_id=ws,
                user_id=owner.user_id,
                display_name="seeded",
                content_type="video/mp4",
                declared_size=len(FAKE_MP4),
                size=len(FAKE_MP4) if status == "confirmed" else None,
                storage_key=upload_key if status == "confirmed" else f"{ws}/uploads/{new_id('up')}.mp4",
                status=status,
                expires_at=now + timedelta(hours=1),
            )
            session.add(upload)
            uploads.append(upload)
        session.commit()
        account_id, publication_id = seed_publishing(api, ws, job.partition_key, clip.id, f"{clip_folder}/clip.mp4")
        stream_id, moment_id = seed_stream(api, ws)
        return World(
            owner=owner,
            workspace_id=ws,
            job_id=job.id,
            clip_id=clip.id,
            upload_id=uploads[0].id,
            pending_upload_id=uploads[1].id,
            member_id=extra.user_id,
            token_id=token.json()["id"],
            account_id=account_id,
            publication_id=publication_id,
            invitation_id=invited.json()["id"],
            stream_id=stream_id,
            stream_moment_id=moment_id,
        )


def seed_publishing(api: ApiHarness, workspace_id: str, source: str, clip_id: str, video_key: str) -> tuple[str, str]:
    """A connected account and a scheduled publication of ``clip_id`` to it, straight into the publishing store;
    (account id, publication id)."""
    api.home.mkdir(parents=True, exist_ok=True)  # the store's default SQLite file is there (the prod profile too)
    store = api.state.publisher.store()
    account = store.save_account(
        PlatformAccount(
            workspace_id=workspace_id,
            platform="tiktok",
            platform_account_id=f"open-{new_id('o')}",
            display_name="seeded creator",
            sealed_grant="placeholder",
        )
    )
    publication = store.save_publication(
        Publication(
            workspace_id=workspace_id,
            source_partition=source,
            clip_ref=clip_id,
            video_key=video_key,
            duration_s=20.0,
            account_id=account.id,
            platform="tiktok",
            title="",
            caption="seeded clip #clipped",
            scheduled_at=datetime.now(UTC) + timedelta(days=1),
        )
    )
    return account.id, publication.id


def seed_stream(api: ApiHarness, workspace_id: str) -> tuple[str, str]:
    """A stream of ``workspace_id`` registered in storage (no recorder), with a rendered moment and its clip's
    files; (stream id, moment id)."""
    service = api.state.streams
    # Registered through a service that accepts any URL: the seeded URL is never opened.
    seeding = StreamService(service.storage, service.launcher, check_url=lambda url: url)
    record = seeding.register(workspace_id, "https://www.twitch.tv/seeded")
    stream = StreamRef(workspace_id, record.stream_id)
    moment_id = "m0001"
    video_key, thumbnail_key = stream.clip_key(moment_id, "clip.mp4"), stream.clip_key(moment_id, "thumbnail.jpg")
    api.state.storage.write_bytes(video_key, FAKE_MP4)
    api.state.storage.write_bytes(thumbnail_key, FAKE_JPEG)
    event = LiveEvent(kind="loud_moment", at_s=12.0, strength=0.9, detail="z 4.1")
    scores = {"energy": 0.9, "keyword": 1.0}
    moment = Moment(
        moment_id=moment_id, at_s=12.0, start_s=2.0, end_s=32.0, score=0.55, scores=scores,
        reason="loud burst + keyword", events=[event], status="rendered", clip_id=stream.clip_id(moment_id),
    )  # fmt: skip
    api.state.storage.write_model(stream.moment_key(moment_id), moment)
    clip = LiveClip(
        rank=1, clip_id=stream.clip_id(moment_id), candidate_id=moment_id, video_key=video_key,
        thumbnail_key=thumbnail_key, captions_key=stream.clip_key(moment_id, "captions.ass"), start_s=2.0,
        end_s=32.0, width=1080, height=1920, score=0.55, scores=scores, reason=moment.reason, title="seeded moment",
        words=[], stream_id=record.stream_id, moment_id=moment_id, detected_at=moment.detected_at,
        rendered_at=moment.detected_at + 20,
    )  # fmt: skip
    api.state.storage.write_model(stream.clip_record_key(moment_id), clip)
    return record.stream_id, moment_id


def add_job(api: ApiHarness, owner: Account, name: str, run_ids: list[str], *, canceled: bool = False) -> str:
    """A job row of ``owner``'s workspace whose runs are ``run_ids`` (latest last); returns its id."""
    with api.state.sessions() as session:
        job = Job(
            workspace_id=owner.workspace_id,
            user_id=owner.user_id,
            partition_key=f"{owner.workspace_id}.{name}-0123456789",
            source_kind="upload",
            source_location=f"{owner.workspace_id}/uploads/{name}.mp4",
            display_name=name,
            settings={"max_clips": 1},
            run_ids=run_ids,
            canceled_at=datetime.now(UTC) if canceled else None,
        )
        session.add(job)
        session.commit()
        return job.id


# The analytics warehouse. Built by running dbt_analytics' own model SQL (rendered with its macros and vars) in DuckDB
# over raw rows in the Parquet contract's shape: the marts have exactly dbt's columns and logic, without a dbt
# process (a real `dbt build` through the Dagster assets is tests/integration/test_dbt_analytics.py).
WAREHOUSE_MODELS = (
    "stg_engagement__snapshots",
    "stg_publishing__publications",
    "int_publications_latest",
    "fct_clip_engagement",
    "fct_clip_performance",
    "performance_by_feature",
    "best_posting_hours",
    "account_growth",
    "workspace_summary",
)
_RAW_TABLES = {("engagement", "snapshots"): "raw_engagement", ("publishing", "publications"): "raw_publications"}
ANALYTICS_DAY0 = date(2026, 3, 1)
ANALYTICS_DAYS = 7
# (key, platform, published day offset, local hour, duration_s, caption style, hook text, (hook, flow, value,
# energy) sub-scores, views gained per day (None: the platform reports none), likes per view)
ANALYTICS_POSTS = [
    ("p1", "tiktok", 0, 18, 22.0, "karaoke", "Why does nobody cut like this?", (0.92, 0.70, 0.80, 0.85), 400, 0.12),
    ("p2", "tiktok", 0, 18, 28.0, "karaoke", "3 cuts that save an hour", (0.80, 0.65, 0.75, 0.70), 250, 0.10),
    ("p3", "tiktok", 1, 18, 35.0, "pop_in", "How to frame a face", (0.60, 0.55, 0.70, 0.50), 150, 0.08),
    ("p4", "tiktok", 1, 9, 50.0, "highlight_word", "The quiet part of the job", (0.30, 0.40, 0.35, 0.20), 40, 0.04),
    ("p5", "x", 0, 9, 18.0, "pop_in", "This is the one", (0.55, 0.50, 0.60, 0.65), 120, 0.06),
    ("p6", "x", 2, 12, 70.0, "highlight_word", "Stop doing this!", (0.20, 0.30, 0.25, 0.15), 15, 0.03),
    ("p7", "tiktok", 2, 9, 45.0, "highlight_word", "Editing is a craft", (0.35, 0.45, 0.40, 0.30), 60, 0.05),
    ("p8", "tiktok", 3, 9, 62.0, "pop_in", "What would you cut?", (0.45, 0.50, 0.50, 0.40), 80, 0.07),
    ("p9", "x", 4, 12, 30.0, "karaoke", "", (0.50, 0.50, 0.50, 0.50), None, 0.05),
]


def analytics_rows(
    workspace_id: str, accounts: dict[str, str], *, prefix: str = "", clip_ids: dict[str, str] | None = None
) -> tuple[list[dict], list[dict]]:
    """Raw (snapshots, publications) rows of :data:`ANALYTICS_POSTS` for ``workspace_id``: ``accounts`` maps a
    platform to its account id, ``prefix`` keeps another workspace's publication ids apart, ``clip_ids`` maps a
    post key to the review app's clip id. Views grow linearly; X reports no saves."""
    snapshots, publications = [], []
    for key, platform, offset, hour, duration, style, hook, scores, per_day, like_rate in ANALYTICS_POSTS:
        publication_id = f"{prefix}{key}"
        published = datetime.combine(ANALYTICS_DAY0 + timedelta(days=offset), datetime.min.time(), UTC)
        published = published.replace(hour=hour)
        for day_index in range(ANALYTICS_DAYS):
            day = ANALYTICS_DAY0 + timedelta(days=day_index)
            if day_index >= offset:
                publications.append(
                    {
                        "publication_id": publication_id, "workspace_id": workspace_id,
                        "account_id": accounts[platform], "platform": platform, "post_id": f"post-{publication_id}",
                        "post_url": f"https://example.com/{platform}/{publication_id}", "published_at": published,
                        "clip_ref": (clip_ids or {}).get(key, f"clip-{publication_id}"),
                        "source_partition": f"{workspace_id}.talk-0123456789", "clip_id": f"talk-{key}",
                        "duration_s": duration, "caption_style": style, "hook_text": hook,
                        "score": round(sum(scores) / 4, 4), "score_hook": scores[0], "score_flow": scores[1],
                        "score_value": scores[2], "score_energy": scores[3], "posting_hour_local": hour,
                        "file_day": day,
                    }
                )  # fmt: skip
            if day_index < offset:
                continue
            views = None if per_day is None else per_day * (day_index - offset + 1)
            likes = round((views or 10 * (day_index - offset + 1)) * like_rate)
            snapshots.append(
                {
                    "snapshot_day": day, "captured_at": datetime.combine(day, datetime.min.time(), UTC),
                    "workspace_id": workspace_id, "publication_id": publication_id,
                    "account_id": accounts[platform], "platform": platform, "post_id": f"post-{publication_id}",
                    "views": views, "likes": likes, "comments": likes // 4, "shares": likes // 5,
                    "saves": None if platform == "x" else likes // 6, "avg_view_duration_s": 9.5, "retention": None,
                }
            )  # fmt: skip
    return snapshots, publications


def render_model(name: str) -> str:
    """The SQL of the dbt model ``name`` with its macros, refs, sources and vars resolved (a full, not incremental,
    build)."""
    models = DBT_PROJECT_DIR / "models"
    [path] = models.rglob(f"{name}.sql")
    macros = "\n".join(p.read_text() for p in sorted((DBT_PROJECT_DIR / "macros").glob("*.sql")))
    variables = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(macros + "\n" + path.read_text())
    return template.render(
        ref=lambda model: model,
        source=lambda source, table: _RAW_TABLES[(source, table)],
        var=lambda var_name: variables[var_name],
        config=lambda **_: "",
        is_incremental=lambda: False,
    )


def build_warehouse(
    path: Path, snapshots: list[dict], publications: list[dict], *, models: tuple[str, ...] = WAREHOUSE_MODELS
) -> Path:
    """A warehouse file at ``path`` (replaced) with ``models`` built over the raw rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    raw = {
        "raw_engagement": pa.Table.from_pylist(snapshots, schema=ENGAGEMENT_SCHEMA),
        "raw_publications": pa.Table.from_pylist(
            publications, schema=PUBLICATIONS_SCHEMA.append(pa.field("file_day", pa.date32()))
        ),
    }
    with duckdb.connect(str(path)) as connection:
        for name, table in raw.items():
            connection.register(f"{name}_rows", table)
            connection.execute(f"create table {name} as select * from {name}_rows")
            connection.unregister(f"{name}_rows")
        for model in models:
            connection.execute(f"create table {model} as {render_model(model)}")
    return path
