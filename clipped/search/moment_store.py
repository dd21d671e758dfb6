"""The moment index of a workspace: one LanceDB table, rows tagged with their source, searched by vector and words.

One table per workspace, in its own LanceDB database under the workspace's prefix (``{uri}/{workspace}/moments``,
beside its media in the same bucket or folder), so a workspace's search never reads another's rows. A source's
rows are replaced in one commit (``merge_insert`` keyed by row id, deleting the source's rows that are gone), so a
search never sees half of a re-indexed source. Search is hybrid: the nearest vectors and the best full-text (BM25)
matches are fused into one score in [0, 1].
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from clipped.layout import check_workspace_id

if TYPE_CHECKING:
    import lancedb

# lancedb warns at every fork; the pipeline forks only to exec ffmpeg (subprocess), which runs no Python in the child.
warnings.filterwarnings("ignore", message="lancedb fork support is experimental", category=RuntimeWarning)

VECTOR_DIM = 384
MOMENTS_FOLDER = "moments"  # under the workspace's prefix
TABLE_NAME = "moments"
# How many neighbours each retriever contributes before fusion: enough that a good match found by only one of
# them still reaches the top few.
CANDIDATES_PER_RETRIEVER = 50
# Fusion weights: meaning first (paraphrased queries), exact words as a boost (names, numbers, on-screen text).
# On bench/moment_search_recall.py, 0.8/0.2 keeps the vector search's recall where 0.7/0.3 lost a paraphrase to a
# sentence sharing one stemmed word with it.
VECTOR_WEIGHT = 0.8
TEXT_WEIGHT = 0.2

MOMENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),  # the source's partition key
        pa.field("kind", pa.string(), nullable=False),  # "speech" (a transcript sentence) or "screen" (OCR text)
        pa.field("start_s", pa.float64(), nullable=False),
        pa.field("end_s", pa.float64(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("context", pa.string(), nullable=False),  # the sentences around it, shown with a result
        pa.field("thumbnail_key", pa.string(), nullable=False),
        pa.field("vector", pa.list_(pa.float32(), VECTOR_DIM), nullable=False),
    ]
)


@dataclass(frozen=True)
class MomentRow:
    """One searchable moment of one source."""

    id: str
    source: str
    kind: str
    start_s: float
    end_s: float
    text: str
    context: str
    thumbnail_key: str
    vector: np.ndarray

    def as_record(self) -> dict[str, object]:
        return {**{k: v for k, v in self.__dict__.items() if k != "vector"}, "vector": self.vector.astype(np.float32)}


@dataclass(frozen=True)
class MomentHit:
    """A search result: the moment and how well it matched (``score`` in [0, 1]; its two parts beside it)."""

    id: str
    source: str
    kind: str
    start_s: float
    end_s: float
    text: str
    context: str
    thumbnail_key: str
    score: float
    similarity: float
    text_match: float


class MomentStore:
    """Moment tables under ``uri`` (a local folder or ``s3://bucket``: the storage's root), one per workspace."""

    def __init__(self, uri: str, storage_options: Mapping[str, str] | None = None) -> None:
        self.uri = uri.rstrip("/")
        self._options = dict(storage_options or {}) or None
        self._databases: dict[str, lancedb.DBConnection] = {}
        self._lock = threading.Lock()

    def database_uri(self, workspace_id: str) -> str:
        return f"{self.uri}/{check_workspace_id(workspace_id)}/{MOMENTS_FOLDER}"

    def _database(self, workspace_id: str) -> lancedb.DBConnection:
        # lancedb is imported on first use: it costs seconds at every code-location load (each Dagster process).
        import lancedb

        with self._lock:
            if workspace_id not in self._databases:
                self._databases[workspace_id] = lancedb.connect(
                    self.database_uri(workspace_id), storage_options=self._options
                )
            return self._databases[workspace_id]

    def _table(self, workspace_id: str, *, create: bool):
        database = self._database(workspace_id)
        if create:
            return database.create_table(TABLE_NAME, schema=MOMENT_SCHEMA, exist_ok=True)
        try:
            return database.open_table(TABLE_NAME)
        except (FileNotFoundError, ValueError):
            return None

    def replace_source(self, workspace_id: str, source: str, rows: Sequence[MomentRow]) -> None:
        """Make ``rows`` the source's only rows, in one commit; then refresh the full-text index."""
        if any(row.source != source for row in rows):
            raise ValueError(f"every row must belong to source {source!r}")
        table = self._table(workspace_id, create=True)
        data = pa.Table.from_pylist([row.as_record() for row in rows], schema=MOMENT_SCHEMA)
        (
            table.merge_insert("id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .when_not_matched_by_source_delete(f"source = {_quoted(source)}")
            .execute(data)
        )
        if table.count_rows():
            from lancedb.index import FTS

            table.create_index("text", config=FTS(with_position=False), replace=True)

    def delete_source(self, workspace_id: str, source: str) -> int:
        """Remove every row of ``source``; returns how many there were (0 when the workspace has no index)."""
        table = self._table(workspace_id, create=False)
        if table is None:
            return 0
        where = f"source = {_quoted(source)}"
        count = table.count_rows(where)
        if count:
            table.delete(where)
        return count

    def count(self, workspace_id: str, source: str | None = None) -> int:
        table = self._table(workspace_id, create=False)
        if table is None:
            return 0
        return table.count_rows(f"source = {_quoted(source)}" if source is not None else None)

    def search(
        self,
        workspace_id: str,
        query_vector: np.ndarray,
        query_text: str,
        *,
        limit: int = 10,
        retrievers: tuple[str, ...] = ("vector", "text"),
    ) -> list[MomentHit]:
        """The ``limit`` best moments for the query, best first: cosine similarity fused with BM25.

        ``retrievers`` narrows the search to one half (the benchmark compares them)."""
        table = self._table(workspace_id, create=False)
        if table is None or not table.count_rows():
            return []
        columns = [field.name for field in MOMENT_SCHEMA if field.name != "vector"]
        by_vector = []
        if "vector" in retrievers:
            by_vector = (
                table.search(np.asarray(query_vector, dtype=np.float32), vector_column_name="vector")
                .distance_type("cosine")
                .select([*columns, "_distance"])
                .limit(CANDIDATES_PER_RETRIEVER)
                .to_list()
            )
        by_text = _full_text(table, query_text, columns) if "text" in retrievers else []
        return fuse(by_vector, by_text, limit)


def _full_text(table, query_text: str, columns: list[str]) -> list[dict]:
    words = " ".join(query_text.split())
    if not words:
        return []
    try:
        return (
            table.search(words, query_type="fts").select([*columns, "_score"]).limit(CANDIDATES_PER_RETRIEVER).to_list()
        )
    except ValueError:  # no full-text index yet (an empty source was indexed first)
        return []


def fuse(by_vector: list[dict], by_text: list[dict], limit: int) -> list[MomentHit]:
    """One ranking from the two retrievers: ``0.8 × cosine similarity + 0.2 × BM25 / best BM25``.

    A moment found by only one retriever gets 0 for the other part; its cosine is not known without a second
    query, and the words alone never beat a strong match in meaning.
    """
    rows: dict[str, dict] = {}
    similarity: dict[str, float] = {}
    text_match: dict[str, float] = {}
    for row in by_vector:
        rows[row["id"]] = row
        similarity[row["id"]] = max(0.0, 1.0 - float(row["_distance"]))
    best_bm25 = max((float(row["_score"]) for row in by_text), default=0.0)
    for row in by_text:
        rows.setdefault(row["id"], row)
        text_match[row["id"]] = float(row["_score"]) / best_bm25 if best_bm25 > 0 else 0.0
    hits = []
    for row_id, row in rows.items():
        sim, words = similarity.get(row_id, 0.0), text_match.get(row_id, 0.0)
        hits.append(
            MomentHit(
                id=row_id,
                source=row["source"],
                kind=row["kind"],
                start_s=float(row["start_s"]),
                end_s=float(row["end_s"]),
                text=row["text"],
                context=row["context"],
                thumbnail_key=row["thumbnail_key"],
                score=round(VECTOR_WEIGHT * sim + TEXT_WEIGHT * words, 4),
                similarity=round(sim, 4),
                text_match=round(words, 4),
            )
        )
    hits.sort(key=lambda hit: (-hit.score, hit.source, hit.start_s))
    return hits[:limit]


def _quoted(value: str) -> str:
    """A SQL string literal for a LanceDB filter (partition keys never contain quotes; escaped all the same)."""
    return "'" + value.replace("'", "''") + "'"
