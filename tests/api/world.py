"""A workspace with one of everything (job, clip with media, version, comment, upload, token, extra member),
written straight into the app's database and storage, for the security suites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api.models import Clip, ClipVersion, Comment, Job, Upload, new_id
from clipped.publish.records import Account as PlatformAccount
from clipped.publish.records import Publication
from tests.api.conftest import Account, ApiHarness

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
    added = api.client.post(
        f"/api/workspaces/{ws}/members", headers=owner.headers, json={"email": extra.email, "role": "viewer"}
    )
    assert added.status_code == 201, added.text
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
