"""Publications: schedule an approved clip to connected accounts, the queue, unschedule, publish now.

A publication is one clip version posted to one account; each is a `publication_job` run partitioned source ×
publication, launched by `due_publications_sensor` when due or at once by "publish now". Exactly once is the
publishing domain's job (a lease per attempt, checkpoints, resume); this module only ever changes a publication
that is still waiting, through the store's conditional update.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import Access, Principal, PrincipalDep, SessionDep, StateDep, access_to, load_in_workspace
from api.errors import ApiError, not_found
from api.models import Clip, ClipVersion, Job
from api.roles import Permission
from api.routes.accounts import PLATFORM_NAMES
from api.routing import SessionReleasingRoute
from api.schemas import PublicationOut, PublicationsIn, PublicationStatus
from api.state import AppState
from clipped.publish.metadata import PostTooLargeError, check_media, compose_post_text
from clipped.publish.records import OPEN_STATUSES, Account, Publication
from clipped.publish.schedule import staggered_slots
from clipped_resources.publishing_store import SqlPublishingStore

log = logging.getLogger("clipped.api")
router = APIRouter(prefix="/api", tags=["publications"], route_class=SessionReleasingRoute)

# The same clip never goes out on every account at once: each further account at least this much later.
STAGGER_MINUTES = 20
MAX_AHEAD = timedelta(days=365)
PAST_TOLERANCE = timedelta(minutes=5)
PUBLIC_ONLY = {"x": "X posts", "instagram": "Instagram reels"}
UNUSABLE = {"needs_reconnect": "needs reconnecting", "disabled": "is disabled"}


def publication_out(publication: Publication, accounts: dict[str, Account], titles: dict[str, str]) -> PublicationOut:
    account = accounts.get(publication.account_id)
    return PublicationOut(
        id=publication.id,
        workspace_id=publication.workspace_id,
        clip_id=publication.clip_ref,
        clip_title=titles.get(publication.clip_ref, ""),
        clip_version=publication.clip_version,
        account_id=publication.account_id,
        account_name=account.display_name if account is not None else "",
        platform=publication.platform,
        title=publication.title,
        caption=publication.caption,
        privacy=publication.privacy,
        scheduled_at=publication.scheduled_at,
        next_attempt_at=publication.next_attempt_at,
        status=publication.status,
        attempts=publication.attempts,
        post_url=publication.post_url,
        error=publication.error,
        run_id=publication.run_id or publication.lease_owner,
        created_at=publication.created_at,
        published_at=publication.published_at,
    )


def publications_out(
    session: Session, store: SqlPublishingStore, workspace_id: str, publications: Iterable[Publication]
) -> list[PublicationOut]:
    """Publications with their account names and clip titles (two lookups for the whole list)."""
    publications = list(publications)
    accounts = {account.id: account for account in store.list_accounts(workspace_id)}
    clip_ids = {publication.clip_ref for publication in publications}
    titles = (
        dict(session.execute(select(Clip.id, Clip.title).where(Clip.id.in_(clip_ids))).tuples().all())
        if clip_ids
        else {}
    )
    return [publication_out(publication, accounts, titles) for publication in publications]


def load_publication(
    session: Session, principal: Principal, store: SqlPublishingStore, publication_id: str, permission: Permission
) -> tuple[Publication, Access]:
    """The publication if the caller's workspace holds it (else 404) and their role opens publishing and allows
    ``permission`` (else 403)."""
    publication = store.get_publication(publication_id)
    if publication is None:
        raise not_found("publication")
    try:
        access = access_to(session, principal, publication.workspace_id)
    except ApiError as exc:
        raise not_found("publication") from exc
    return publication, access.require(Permission.PUBLISH, permission)


def idempotent_id(workspace_id: str, key: str, account_id: str) -> str:
    """The publication id a request with ``Idempotency-Key`` gives to one account (a valid partition key)."""
    return "pub_" + hashlib.sha256(f"{workspace_id}\0{key}\0{account_id}".encode()).hexdigest()[:16]


def _usable_accounts(store: SqlPublishingStore, workspace_id: str, account_ids: list[str]) -> list[Account]:
    accounts = []
    for account_id in account_ids:
        account = store.get_account(account_id)
        if account is None or account.workspace_id != workspace_id:
            raise not_found("account")
        if account.health in UNUSABLE:
            name = f"{account.display_name} ({PLATFORM_NAMES[account.platform]})"
            raise ApiError(409, f"{name} {UNUSABLE[account.health]}; an admin can fix that under Accounts")
        accounts.append(account)
    return accounts


def _slots(
    accounts: list[Account], waiting: list[Publication], at: datetime | None, now: datetime, seed: str
) -> dict[str, datetime]:
    """When each account posts: ``at`` for the first and a stagger later for each further one, or each account's
    next free slot in its plan, a cadence after its last post or the last post already queued for it."""
    if at is not None:
        if at < now - PAST_TOLERANCE or at > now + MAX_AHEAD:
            raise ApiError(422, "at: give a time from now to a year ahead")
        at = at.astimezone(UTC)
        return {account.id: at + timedelta(minutes=i * STAGGER_MINUTES) for i, account in enumerate(accounts)}
    queued: dict[str, datetime] = {}
    for publication in waiting:
        latest = queued.get(publication.account_id)
        queued[publication.account_id] = max(latest, publication.due_at) if latest else publication.due_at
    plans = []
    for account in accounts:
        busy = [moment for moment in (account.last_post_at, queued.get(account.id)) if moment is not None]
        plans.append((account.id, account.plan.plan(), max(busy) if busy else None))
    try:
        return staggered_slots(plans, not_before=now, seed=seed, stagger_minutes=STAGGER_MINUTES)
    except ValueError as exc:
        raise ApiError(409, f"no posting slot found: {exc}") from exc


@router.post(
    "/clips/{clip_id}/publications",
    status_code=201,
    response_model=list[PublicationOut],
    responses={200: {"model": list[PublicationOut], "description": "The same Idempotency-Key again: the same posts"}},
)
def schedule_clip(
    clip_id: str,
    body: PublicationsIn,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> list[PublicationOut]:
    """Schedule an approved clip's current version to each account (one publication per account), with its edited
    title, description and hashtags fitted to each platform."""
    clip, access = load_in_workspace(session, principal, Clip, clip_id, Permission.PUBLISH, "clip")
    access.require(Permission.EDIT)
    store = state.publisher.store()
    ids = {a: idempotent_id(clip.workspace_id, idempotency_key, a) for a in body.account_ids} if idempotency_key else {}
    if ids:
        found = [store.get_publication(publication_id) for publication_id in ids.values()]
        if any(found):
            if not all(found) or any(p.clip_ref != clip.id or p.privacy != body.privacy for p in found):
                raise ApiError(409, "this Idempotency-Key was used with another request", code="idempotency_conflict")
            response.status_code = 200
            return publications_out(session, store, clip.workspace_id, found)
    if clip.status != "approved":
        raise ApiError(409, f"only approved clips are published; this one is {clip.status}")
    version = session.scalar(
        select(ClipVersion).where(ClipVersion.clip_id == clip.id, ClipVersion.version == clip.version)
    )
    if version is None or version.status != "ready":
        raise ApiError(409, "the clip's current version is not rendered yet")
    accounts = _usable_accounts(store, clip.workspace_id, body.account_ids)
    for account in accounts:
        if body.privacy != "public" and account.platform in PUBLIC_ONLY:
            raise ApiError(422, f"privacy: {PUBLIC_ONLY[account.platform]} are always public")
    if not state.storage.exists(version.video_key):
        raise ApiError(409, "the clip's video file is missing; re-render it")
    size, duration_s = state.storage.size(version.video_key), round(clip.end_s - clip.start_s, 3)
    for account in accounts:
        try:
            check_media(account.platform, duration_s, size)
        except PostTooLargeError as exc:
            raise ApiError(422, str(exc), code="media_not_accepted") from exc
    waiting = store.list_publications(clip.workspace_id, statuses=(*OPEN_STATUSES, "published"))
    for publication in waiting:
        if publication.clip_ref == clip.id and publication.account_id in body.account_ids:
            account = next(a for a in accounts if a.id == publication.account_id)
            raise ApiError(409, f"this clip is already {publication.status} on {account.display_name}")
    now = datetime.now(UTC)
    open_ones = [p for p in waiting if p.status in OPEN_STATUSES]
    slots = _slots(accounts, open_ones, body.at, now, seed=f"{clip.id}:v{clip.version}")
    job = session.get(Job, clip.job_id)
    created = []
    for account in accounts:
        # The editor's description first; else the caption the ranker wrote for this platform.
        description = clip.description or (clip.post_captions or {}).get(account.platform, "")
        text = compose_post_text(account.platform, clip.title, description, list(clip.hashtags or []))
        publication = Publication(
            workspace_id=clip.workspace_id,
            source_partition=job.partition_key,
            clip_ref=clip.id,
            clip_version=clip.version,
            video_key=version.video_key,
            duration_s=duration_s,
            account_id=account.id,
            platform=account.platform,
            title=text.title,
            caption=text.caption,
            privacy=body.privacy,
            scheduled_at=slots[account.id],
            created_by=access.user_id,
        )
        if ids:
            publication.id = ids[account.id]
        created.append(store.save_publication(publication))
    return publications_out(session, store, clip.workspace_id, created)


@router.get("/workspaces/{workspace_id}/publications", response_model=list[PublicationOut])
def list_publications(
    workspace_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
    status: PublicationStatus | None = None,
    clip_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[PublicationOut]:
    """The queue and calendar: the workspace's publications by time (upcoming, posted with links, failed with
    reasons). Editors and admins only: viewers have no publishing access (403)."""
    access_to(session, principal, workspace_id).require(Permission.PUBLISH, Permission.READ)
    store = state.publisher.store()
    found = store.list_publications(workspace_id, statuses=(status,) if status else None, clip_ref=clip_id)
    return publications_out(session, store, workspace_id, found)


@router.get("/clips/{clip_id}/publications", response_model=list[PublicationOut])
def clip_publications(
    clip_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> list[PublicationOut]:
    """The clip's posts (editors and admins; viewers 403)."""
    clip, access = load_in_workspace(session, principal, Clip, clip_id, Permission.PUBLISH, "clip")
    access.require(Permission.READ)
    store = state.publisher.store()
    return publications_out(
        session, store, clip.workspace_id, store.list_publications(clip.workspace_id, clip_ref=clip.id)
    )


def _not_waiting(publication: Publication) -> ApiError:
    if publication.status == "scheduled":
        return ApiError(409, "this post is being published right now")
    return ApiError(409, f"this post is {publication.status}; only scheduled posts can change")


@router.delete("/publications/{publication_id}", response_model=PublicationOut)
def unschedule(publication_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> PublicationOut:
    """Cancel a scheduled post (409 once it is publishing, published, failed or canceled)."""
    store = state.publisher.store()
    publication, _ = load_publication(session, principal, store, publication_id, Permission.EDIT)
    canceled = store.update_scheduled(publication.id, {"status": "canceled", "error": ""}, datetime.now(UTC))
    if canceled is None:
        raise _not_waiting(store.get_publication(publication.id) or publication)
    return publications_out(session, store, canceled.workspace_id, [canceled])[0]


def register_partitions(state: AppState, publication: Publication) -> None:
    """The run's partition keys must exist in the instance before a run of them starts (the sensor adds them for
    the runs it requests)."""
    instance = state.instance
    for dimension, key in publication.partition_keys_by_dimension.items():
        if not instance.has_dynamic_partition(dimension, key):
            instance.add_dynamic_partitions(dimension, [key])


@router.post("/publications/{publication_id}/publish-now", status_code=202, response_model=PublicationOut)
def publish_now(publication_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> PublicationOut:
    """Post a scheduled publication now: its time becomes now and a `publication_job` run starts (202; follow its
    status here or in the queue)."""
    store = state.publisher.store()
    publication, _ = load_publication(session, principal, store, publication_id, Permission.EDIT)
    if publication.status != "scheduled":
        raise _not_waiting(publication)
    account = store.get_account(publication.account_id)
    if account is None or account.health in UNUSABLE:
        why = UNUSABLE.get(account.health, "") if account is not None else "was disconnected"
        raise ApiError(409, f"the account {why}; an admin can fix that under Accounts")
    now = datetime.now(UTC)
    due = store.update_scheduled(publication.id, {"scheduled_at": now, "next_attempt_at": None}, now)
    if due is None:
        raise _not_waiting(store.get_publication(publication.id) or publication)
    try:
        register_partitions(state, due)
        run_id = state.launcher.launch_publication(due)
    except Exception as exc:
        log.exception("could not launch publication %s", due.id)
        raise ApiError(503, "the publishing run could not start; the post stays due for the scheduler") from exc
    # The run may have claimed the publication already; then its lease names the run and this update is skipped.
    current = store.update_scheduled(due.id, {"run_id": run_id}, datetime.now(UTC))
    current = current or store.get_publication(due.id) or due
    current.run_id = current.run_id or run_id
    return publications_out(session, store, current.workspace_id, [current])[0]
