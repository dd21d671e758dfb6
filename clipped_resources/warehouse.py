"""The analytics warehouse: one DuckDB file that ``dbt_analytics`` builds and the learner and dashboard read.

Two things live here because both are about where the analytics data sits:

* :class:`WarehouseResource`, the Dagster resource: the DuckDB file, where the raw Parquet lives (a local storage
  root or an S3 bucket), read-only connections for readers, and the values the dbt profile needs (:meth:`dbt_vars`).
* :class:`Plugin`, a dbt-duckdb source plugin (``module: clipped_resources.warehouse`` in
  ``dbt_analytics/profiles.yml``): it reads the raw engagement and publication Parquet files with pyarrow, from
  disk or through ``pyarrow.fs.S3FileSystem``, and hands DuckDB one Arrow table per source. The models are the same
  SQL on both targets; DuckDB never needs its ``httpfs`` extension (a download at run time, impossible offline).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from dagster import ConfigurableResource
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.duckdb.utils import SourceConfig
from pydantic import Field

# The dbt project that builds the warehouse (dbt_analytics/, beside this package in the repository).
DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_analytics"


def dbt_executable() -> str:
    """The ``dbt`` installed beside this Python (a venv's bin/ is not always on PATH), else ``dbt`` from PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else "dbt"


# The raw files the engagement asset writes, per workspace and day (README "Analytics (dbt)"; the shared contract).
ENGAGEMENT_SCHEMA = pa.schema(
    [
        ("snapshot_day", pa.date32()),
        ("captured_at", pa.timestamp("us", tz="UTC")),
        ("workspace_id", pa.string()),
        ("publication_id", pa.string()),
        ("account_id", pa.string()),
        ("platform", pa.string()),
        ("post_id", pa.string()),
        ("views", pa.int64()),
        ("likes", pa.int64()),
        ("comments", pa.int64()),
        ("shares", pa.int64()),
        ("saves", pa.int64()),
        ("avg_view_duration_s", pa.float64()),
        ("retention", pa.float64()),
    ]
)
PUBLICATIONS_SCHEMA = pa.schema(
    [
        ("publication_id", pa.string()),
        ("workspace_id", pa.string()),
        ("account_id", pa.string()),
        ("platform", pa.string()),
        ("post_id", pa.string()),
        ("post_url", pa.string()),
        ("published_at", pa.timestamp("us", tz="UTC")),
        ("clip_ref", pa.string()),
        ("source_partition", pa.string()),
        ("clip_id", pa.string()),
        ("duration_s", pa.float64()),
        ("caption_style", pa.string()),
        ("hook_text", pa.string()),
        ("score", pa.float64()),
        ("score_hook", pa.float64()),
        ("score_flow", pa.float64()),
        ("score_value", pa.float64()),
        ("score_energy", pa.float64()),
        ("posting_hour_local", pa.int64()),
    ]
)
# dataset name (a source's ``meta.dataset``) -> (folder under the workspace, file name in each day folder, schema)
DATASETS: dict[str, tuple[str, str, pa.Schema]] = {
    "engagement": ("analytics/engagement", "metrics.parquet", ENGAGEMENT_SCHEMA),
    "publications": ("analytics/publications", "publications.parquet", PUBLICATIONS_SCHEMA),
}
DAY_PREFIX = "day="


class RawParquet:
    """Reads every workspace's day files of one dataset into one Arrow table in the contract's schema.

    A column a file lacks becomes NULL and an extra one is dropped, so an older or newer writer never breaks the
    build; the day is taken from the ``day=YYYY-MM-DD`` folder as ``file_day``. No files gives an empty table with
    the same columns, so a fresh warehouse builds (empty marts) before the first metrics pull.
    """

    def __init__(self, filesystem: pafs.FileSystem, base: str) -> None:
        self.filesystem = filesystem
        self.base = base.rstrip("/")

    @classmethod
    def from_settings(
        cls,
        *,
        storage_root: str | None = None,
        s3_bucket: str | None = None,
        s3_endpoint_url: str | None = None,
        s3_region: str | None = None,
    ) -> RawParquet:
        """Local files under ``storage_root``, or the bucket ``s3_bucket`` (credentials from the AWS chain)."""
        if s3_bucket:
            options: dict[str, Any] = {"region": s3_region or "us-east-1"}
            if s3_endpoint_url:
                options["endpoint_override"] = s3_endpoint_url
            return cls(pafs.S3FileSystem(**options), s3_bucket)
        if not storage_root:
            raise ValueError("the raw Parquet needs a storage_root (local) or an s3_bucket (prod)")
        return cls(pafs.LocalFileSystem(), str(Path(storage_root).resolve()))

    def read(self, dataset: str) -> pa.Table:
        """All day files of ``dataset`` (``engagement`` or ``publications``), with a ``file_day`` column."""
        if dataset not in DATASETS:
            raise ValueError(f"unknown raw dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
        folder, file_name, schema = DATASETS[dataset]
        schema = schema.append(pa.field("file_day", pa.date32()))
        tables = []
        for path, day in self.day_files(folder, file_name):
            table = conform(self._read_file(path), schema)
            day_column = pa.array([day] * table.num_rows, pa.date32())
            tables.append(table.set_column(schema.get_field_index("file_day"), "file_day", day_column))
        return pa.concat_tables(tables) if tables else schema.empty_table()

    def day_files(self, folder: str, file_name: str) -> list[tuple[str, dt.date]]:
        """``(path, day)`` of every ``{workspace}/{folder}/day=YYYY-MM-DD/{file_name}`` that exists."""
        found = []
        for workspace in self._list(self.base):
            if workspace.type != pafs.FileType.Directory:
                continue
            for day_folder in self._list(f"{workspace.path}/{folder}"):
                day = parse_day_folder(day_folder.base_name)
                if day_folder.type != pafs.FileType.Directory or day is None:
                    continue
                path = f"{day_folder.path}/{file_name}"
                if self.filesystem.get_file_info(path).type == pafs.FileType.File:
                    found.append((path, day))
        return sorted(found, key=lambda item: (item[1], item[0]))

    def _list(self, path: str) -> list[pafs.FileInfo]:
        return self.filesystem.get_file_info(pafs.FileSelector(path, allow_not_found=True))

    def _read_file(self, path: str) -> pa.Table:
        with self.filesystem.open_input_file(path) as handle:
            return pq.ParquetFile(handle).read()


def parse_day_folder(name: str) -> dt.date | None:
    """The day of a ``day=YYYY-MM-DD`` folder name, or None for anything else (temp files, stray folders)."""
    if not name.startswith(DAY_PREFIX):
        return None
    try:
        return dt.date.fromisoformat(name.removeprefix(DAY_PREFIX))
    except ValueError:
        return None


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns, in order and type; a missing column is all NULL."""
    columns = []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name)
            if pa.types.is_timestamp(field.type) and pa.types.is_timestamp(column.type) and column.type.tz is None:
                column = pc.assume_timezone(column, "UTC")  # a naive timestamp in the files is UTC
            columns.append(column.cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


class Plugin(BasePlugin):
    """dbt-duckdb source plugin: a source with ``meta: {plugin: clipped_storage, dataset: engagement}`` is loaded
    from the raw Parquet into a table of the warehouse at the start of the models that read it.

    Profile config: ``storage_root`` (local) or ``s3_bucket`` with optional ``s3_endpoint_url``/``s3_region``;
    empty strings count as unset (the profile renders unset variables as ``''``).
    """

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        settings = {key: str(value) for key, value in plugin_config.items() if value not in (None, "")}
        self.raw = RawParquet.from_settings(
            storage_root=settings.get("storage_root"),
            s3_bucket=settings.get("s3_bucket"),
            s3_endpoint_url=settings.get("s3_endpoint_url"),
            s3_region=settings.get("s3_region"),
        )

    def update_connection_config(self, creds: DuckDBCredentials, config: dict[str, Any]) -> None:
        """Create the warehouse's folder before dbt opens it: DuckDB creates the file, not the folders (a fresh
        clone has no ``.clipped/`` yet)."""
        path = creds.path or ""
        if path and path != ":memory:" and ":" not in Path(path).parts[0]:
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    def load(self, source_config: SourceConfig) -> pa.Table:
        return self.raw.read(source_config["dataset"])


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse and the raw Parquet it is built from (local folder or S3 bucket).

    dbt writes the file; everyone else opens it read-only with :meth:`connect` or :meth:`query`.
    """

    database_path: str = Field(description="The DuckDB file dbt builds (default: {CLIPPED_HOME}/warehouse.duckdb)")
    storage_root: str | None = Field(default=None, description="Local storage root that holds the raw Parquet")
    s3_bucket: str | None = Field(default=None, description="Bucket that holds the raw Parquet (prod)")
    s3_endpoint_url: str | None = Field(default=None, description="Non-AWS S3 endpoint (MinIO, R2, moto)")
    s3_region: str | None = Field(default=None, description="Region of the bucket; None means us-east-1")
    lock_wait_s: float = Field(default=30.0, description="How long a reader waits while dbt holds the write lock")

    def connect(self, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        """A connection to the warehouse. DuckDB lets one process write; a reader that meets dbt's lock waits up
        to ``lock_wait_s`` for the build to finish."""
        path = Path(self.database_path)
        if read_only and not path.exists():
            raise FileNotFoundError(f"the warehouse {path} is not built yet (materialize the analytics models)")
        path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_wait_s
        while True:
            try:
                return duckdb.connect(str(path), read_only=read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
                time.sleep(0.25)

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a read-only query as dicts (column name -> value)."""
        with self.connect(read_only=True) as connection:
            cursor = connection.execute(sql, params) if params is not None else connection.execute(sql)
            names = [column[0] for column in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def raw_parquet(self) -> RawParquet:
        """The reader of the raw Parquet (the dbt plugin builds the same from the profile)."""
        return RawParquet.from_settings(
            storage_root=self.storage_root,
            s3_bucket=self.s3_bucket,
            s3_endpoint_url=self.s3_endpoint_url,
            s3_region=self.s3_region,
        )

    def dbt_vars(self) -> dict[str, str]:
        """The dbt variables ``dbt_analytics/profiles.yml`` reads: where the warehouse and the raw files are.

        Passed with ``--vars`` on every dbt command, so the profile follows this resource's config rather than the
        environment. No secret goes here: S3 credentials come from the AWS chain inside the dbt process.
        """
        return {
            "warehouse_path": str(Path(self.database_path).resolve()),
            "storage_root": str(Path(self.storage_root).resolve()) if self.storage_root else "",
            "s3_bucket": self.s3_bucket or "",
            "s3_endpoint_url": self.s3_endpoint_url or "",
            "s3_region": self.s3_region or "",
        }
