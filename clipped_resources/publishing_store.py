"""The publishing store on SQL (SQLite in the embedded default, PostgreSQL in production), shared by the review
service and the publishing runs.

Each record is kept whole as JSON beside the columns that queries and the lease need; those columns are the truth
for status and lease, so a claim is one conditional UPDATE that two workers cannot both win.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    and_,
    create_engine,
    delete,
    event,
    insert,
    or_,
    select,
    update,
)

from clipped.publish.models import Platform
from clipped.publish.records import OPEN_STATUSES, Account, OAuthFlow, Publication

metadata = MetaData()


class _UtcDateTime(TypeDecorator):
    """UTC datetimes stored without an offset on every backend, so SQLite compares them correctly."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


accounts = Table(
    "publishing_accounts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(64), index=True, nullable=False),
    Column("platform", String(16), nullable=False),
    Column("platform_account_id", String(128), nullable=False),
    Column("data", JSON, nullable=False),
)
flows = Table(
    "publishing_oauth_flows",
    metadata,
    Column("state", String(128), primary_key=True),
    Column("expires_at", _UtcDateTime, nullable=False),
    Column("data", JSON, nullable=False),
)
publications = Table(
    "publishing_publications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(64), index=True, nullable=False),
    Column("clip_ref", String(64), index=True, nullable=False),
    Column("account_id", String(40), index=True, nullable=False),
    Column("status", String(16), index=True, nullable=False),
    Column("due_at", _UtcDateTime, index=True, nullable=False),
    Column("lease_owner", String(128), nullable=False, default=""),
    Column("lease_until", _UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("data", JSON, nullable=False),
)

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine_for(database_url: str) -> Engine:
    """One engine per URL per process, with the tables created on first use."""
    with _engines_lock:
        engine = _engines.get(database_url)
        if engine is None:
            engine = create_engine(database_url, pool_pre_ping=True)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            metadata.create_all(engine, checkfirst=True)
            _engines[database_url] = engine
        return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL and a busy timeout: the API, the sensor and publishing runs write the same file from several processes.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class SqlPublishingStore:
    """:class:`clipped.publish.records.PublishingStore` on SQLAlchemy Core."""

    def __init__(self, database_url: str) -> None:
        self.engine = engine_for(database_url)

    def _upsert(self, table: Table, record_id: str, row: dict[str, Any]) -> None:
        with self.engine.begin() as db:
            if db.execute(update(table).where(table.c.id == record_id).values(**row)).rowcount == 0:
                db.execute(insert(table).values(id=record_id, **row))

    # Accounts
    def save_account(self, account: Account) -> Account:
        account.updated_at = datetime.now(UTC)
        row = {
            "workspace_id": account.workspace_id,
            "platform": account.platform,
            "platform_account_id": account.platform_account_id,
            "data": account.model_dump(mode="json"),
        }
        self._upsert(accounts, account.id, row)
        return account

    def get_account(self, account_id: str) -> Account | None:
        with self.engine.connect() as db:
            data = db.scalar(select(accounts.c.data).where(accounts.c.id == account_id))
        return Account.model_validate(data) if data else None

    def list_accounts(self, workspace_id: str) -> list[Account]:
        with self.engine.connect() as db:
            rows = db.scalars(select(accounts.c.data).where(accounts.c.workspace_id == workspace_id)).all()
        return sorted((Account.model_validate(data) for data in rows), key=lambda a: (a.platform, a.display_name))

    def all_accounts(self) -> list[Account]:
        with self.engine.connect() as db:
            return [Account.model_validate(data) for data in db.scalars(select(accounts.c.data)).all()]

    def find_account(self, workspace_id: str, platform: Platform, platform_account_id: str) -> Account | None:
        query = select(accounts.c.data).where(
            accounts.c.workspace_id == workspace_id,
            accounts.c.platform == platform,
            accounts.c.platform_account_id == platform_account_id,
        )
        with self.engine.connect() as db:
            data = db.scalar(query)
        return Account.model_validate(data) if data else None

    def delete_account(self, account_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(accounts).where(accounts.c.id == account_id))

    # OAuth flows
    def put_flow(self, flow: OAuthFlow) -> None:
        with self.engine.begin() as db:
            db.execute(delete(flows).where(flows.c.expires_at < datetime.now(UTC)))
            db.execute(
                insert(flows).values(state=flow.state, expires_at=flow.expires_at, data=flow.model_dump(mode="json"))
            )

    def take_flow(self, state: str) -> OAuthFlow | None:
        with self.engine.begin() as db:
            data = db.scalar(select(flows.c.data).where(flows.c.state == state))
            if data is None or db.execute(delete(flows).where(flows.c.state == state)).rowcount != 1:
                return None
        flow = OAuthFlow.model_validate(data)
        return flow if flow.expires_at > datetime.now(UTC) else None

    # Publications
    def save_publication(self, publication: Publication) -> Publication:
        publication.updated_at = datetime.now(UTC)
        row = {
            "workspace_id": publication.workspace_id,
            "clip_ref": publication.clip_ref,
            "account_id": publication.account_id,
            "status": publication.status,
            "due_at": publication.due_at,
            "lease_owner": publication.lease_owner,
            "lease_until": publication.lease_until,
            "attempts": publication.attempts,
            "data": publication.model_dump(mode="json"),
        }
        self._upsert(publications, publication.id, row)
        return publication

    def get_publication(self, publication_id: str) -> Publication | None:
        with self.engine.connect() as db:
            row = db.execute(select(publications).where(publications.c.id == publication_id)).mappings().first()
        return _publication(row) if row else None

    def list_publications(
        self, workspace_id: str, *, statuses: tuple[str, ...] | None = None, clip_ref: str | None = None
    ) -> list[Publication]:
        query = select(publications).where(publications.c.workspace_id == workspace_id)
        if statuses:
            query = query.where(publications.c.status.in_(statuses))
        if clip_ref:
            query = query.where(publications.c.clip_ref == clip_ref)
        with self.engine.connect() as db:
            rows = db.execute(query.order_by(publications.c.due_at)).mappings().all()
        return [_publication(row) for row in rows]

    def update_scheduled(self, publication_id: str, changes: dict[str, Any], now: datetime) -> Publication | None:
        """Apply ``changes`` (publication fields) only while the publication is scheduled and no attempt holds its
        lease, in one conditional UPDATE (an attempt claiming it at the same moment wins or loses whole); the
        publication as stored, or None when it is not (any more) waiting."""
        waiting = and_(
            publications.c.id == publication_id,
            publications.c.status == "scheduled",
            or_(publications.c.lease_until.is_(None), publications.c.lease_until < now),
        )
        with self.engine.begin() as db:
            row = db.execute(select(publications).where(waiting)).mappings().first()
            if row is None:
                return None
            publication = _publication(row).model_copy(update={**changes, "updated_at": datetime.now(UTC)})
            values = {
                "status": publication.status,
                "due_at": publication.due_at,
                "data": publication.model_dump(mode="json"),
            }
            if db.execute(update(publications).where(waiting).values(**values)).rowcount != 1:
                return None
        return publication

    def due_publications(self, now: datetime, limit: int) -> list[Publication]:
        query = (
            select(publications)
            .where(
                # An attempt whose worker died leaves "publishing" with a lease nobody renews: once the lease has
                # run out it is due again, and the next attempt resumes from its saved progress.
                publications.c.status.in_(OPEN_STATUSES),
                publications.c.due_at <= now,
                or_(publications.c.lease_until.is_(None), publications.c.lease_until < now),
            )
            .order_by(publications.c.due_at)
            .limit(limit)
        )
        with self.engine.connect() as db:
            return [_publication(row) for row in db.execute(query).mappings().all()]

    def claim_publication(self, publication_id: str, owner: str, now: datetime, until: datetime) -> Publication | None:
        free = or_(
            publications.c.lease_owner == "",
            publications.c.lease_owner == owner,
            publications.c.lease_until.is_(None),
            publications.c.lease_until < now,
        )
        claim = (
            update(publications)
            .where(and_(publications.c.id == publication_id, publications.c.status.in_(OPEN_STATUSES), free))
            .values(lease_owner=owner, lease_until=until, status="publishing")
        )
        with self.engine.begin() as db:
            if db.execute(claim).rowcount != 1:
                return None
        return self.get_publication(publication_id)

    def save_resume(self, publication_id: str, owner: str, values: dict[str, Any]) -> None:
        with self.engine.begin() as db:
            row = (
                db.execute(
                    select(publications.c.lease_owner, publications.c.data).where(publications.c.id == publication_id)
                )
                .mappings()
                .first()
            )
            if row is None or row["lease_owner"] != owner:
                raise RuntimeError(f"publication {publication_id} is no longer leased to this attempt")
            data = {**row["data"], "resume": values}
            db.execute(update(publications).where(publications.c.id == publication_id).values(data=data))


def _publication(row: Any) -> Publication:
    """The stored JSON with the column values that are the truth for status and lease laid over it."""
    data = {
        **row["data"],
        "status": row["status"],
        "lease_owner": row["lease_owner"],
        "lease_until": row["lease_until"],
        "attempts": row["attempts"],
    }
    return Publication.model_validate(data)
