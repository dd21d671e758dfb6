"""Selection with learned weights: the default is untouched, new weights re-rank `candidates` and change its
fingerprint; `ranking_weights` fits from the performance mart in DuckDB and says what it decided."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from dagster import AssetKey, instance_for_test, materialize

from clipped.layout import AUDIO_FEATURES_FILE, REQUEST_FILE, SCENES_FILE, TRANSCRIPT_FILE, SourceRef
from clipped.learn import RankingWeights, default_weights
from clipped.learn.simulate import HiddenTruth, measure, synthetic_talk
from clipped.learn.versions import read_latest_weights, record_fit
from clipped.select import select_candidates
from clipped.sources import SourceRequest
from clipped.stage_record import StageRecord, load_complete_record, save_record
from clipped.stages import CANDIDATES
from clipped.types import ClipSettings
from clipped_assets import learn, select
from clipped_resources.ranker import HeuristicRanker
from clipped_resources.storage import LocalStorage
from clipped_resources.warehouse import WarehouseResource

SETTINGS = ClipSettings(max_clips=5, min_duration_s=15, max_duration_s=75)
SOURCE = SourceRef("ws1", "talk-0123456789")
ENERGY_FIRST = RankingWeights(
    version=1,
    workspace_id="ws1",
    weights={"hook": 0.05, "flow": 0.05, "value": 0.30, "energy": 0.60},
    duration_terms={"15-30s": 0.05, "60s+": -0.05},
)


@pytest.fixture(scope="module")
def talk():
    return synthetic_talk(np.random.default_rng(11))


def test_without_weights_selection_is_exactly_the_default(talk) -> None:
    transcript, audio, scenes = talk
    before = select_candidates(transcript, audio, scenes, SETTINGS)
    explicit = select_candidates(transcript, audio, scenes, SETTINGS, ranking=default_weights("ws1"))
    assert [c.model_dump() for c in explicit] == [c.model_dump() for c in before]
    learned = select_candidates(transcript, audio, scenes, SETTINGS, ranking=ENERGY_FIRST)
    assert [c.candidate_id for c in learned] != [c.candidate_id for c in before]
    assert learned[0].scores["energy"] >= before[0].scores["energy"]


def prepare_source(storage: LocalStorage, talk) -> None:
    transcript, audio, scenes = talk
    request = SourceRequest(kind="file", location="/media/talk.mp4", display_name="talk", settings=SETTINGS)
    storage.write_model(SOURCE.key(REQUEST_FILE), request)
    for stage, name, value in (
        ("transcript", TRANSCRIPT_FILE, transcript),
        ("scenes", SCENES_FILE, scenes),
        ("audio_features", AUDIO_FEATURES_FILE, audio),
    ):
        storage.write_model(SOURCE.key(name), value)
        save_record(storage, SOURCE, StageRecord(stage=stage, fingerprint=f"{stage}-1", outputs=[SOURCE.key(name)]))


def run_candidates(storage: LocalStorage, instance) -> tuple[list[str], str, dict]:
    result = materialize(
        [select.candidates],
        partition_key=SOURCE.partition_key,
        resources={"storage": storage, "ranker": HeuristicRanker()},
        instance=instance,
    )
    assert result.success
    [event] = result.asset_materializations_for_node("candidates")
    record = load_complete_record(storage, SOURCE, "candidates")
    assert record is not None
    order = [item["candidate_id"] for item in storage.read_json(SOURCE.key("candidates.json"))]
    return order, record.fingerprint, event.metadata


def test_candidates_rerank_when_accepted_weights_change(tmp_path: Path, talk) -> None:
    storage = LocalStorage(root=str(tmp_path / "storage"))
    prepare_source(storage, talk)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("source_video", [SOURCE.partition_key])
        default_order, default_fingerprint, metadata = run_candidates(storage, instance)
        # No learned weights: the same fingerprint as before learning existed, so nothing recomputes.
        upstream = ["transcript-1", "scenes-1", "audio_features-1"]
        assert default_fingerprint == CANDIDATES.fingerprint(upstream, SETTINGS.model_dump())
        assert metadata["ranking_weights_version"].value == 0

        refused = record_fit(storage, ENERGY_FIRST.model_copy(update={"accepted": False}))
        assert run_candidates(storage, instance)[:2] == (default_order, default_fingerprint)  # not accepted: unused

        accepted = record_fit(storage, ENERGY_FIRST.model_copy(update={"accepted": True}))
        assert (refused.version, accepted.version) == (1, 2)
        assert read_latest_weights(storage, "ws1").version == 2
        learned_order, learned_fingerprint, metadata = run_candidates(storage, instance)
        assert learned_order != default_order
        assert learned_fingerprint != default_fingerprint
        assert metadata["ranking_weights_version"].value == 2
        assert metadata["ranking_weights"].value["weights"]["energy"] == 0.6
        # Same weights again: reused, same lineage.
        assert run_candidates(storage, instance)[:2] == (learned_order, learned_fingerprint)
        materializations = instance.fetch_materializations(AssetKey("candidates"), limit=10).records
        versions = {record.asset_materialization.tags.get("dagster/data_version") for record in materializations}
        assert {default_fingerprint, learned_fingerprint} <= versions


def performance_rows(count: int) -> list[dict]:
    """Mart rows for clips the selector made from synthetic talks, views from the simulation's hidden model."""
    rng = np.random.default_rng(12)
    truth = HiddenTruth()
    rows = []
    published = datetime(2026, 2, 1, tzinfo=UTC)
    while len(rows) < count:
        transcript, audio, scenes = synthetic_talk(rng)
        for candidate in select_candidates(transcript, audio, scenes, SETTINGS)[:5]:
            clip_id = f"talk{len(rows)}-{candidate.candidate_id}"
            platform = ("tiktok", "youtube", "instagram", "x")[len(rows) % 4]
            row = measure(rng, truth, clip_id, candidate, platform, "karaoke", 12, 10, published)
            rows.append({**row, "workspace_id": "ws1"})
    return rows


def test_ranking_weights_asset_fits_from_the_mart(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    table = pa.Table.from_pylist(performance_rows(400))
    other = pa.Table.from_pylist([{**row, "workspace_id": "ws2"} for row in performance_rows(40)])
    with duckdb.connect(str(database)) as connection:
        connection.register("ws1_rows", table)
        connection.register("ws2_rows", other)
        connection.execute(
            "create table fct_clip_performance as select * from ws1_rows union all select * from ws2_rows"
        )
    storage = LocalStorage(root=str(tmp_path / "storage"))
    resources = {"storage": storage, "warehouse": WarehouseResource(database_path=str(database))}
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", ["ws1", "ws2"])
        result = materialize([learn.ranking_weights], partition_key="ws1", resources=resources, instance=instance)
        [event] = result.asset_materializations_for_node("ranking_weights")
        meta = {name: value.value for name, value in event.metadata.items()}
        assert meta["accepted"] is True, meta["reason"]
        assert meta["version"] == 1 and meta["version_in_use"] == 1 and meta["previous_version"] == 0
        assert meta["n_posts"] > 250  # the training share of ws1's 400 posts only
        assert meta["spearman_new"] > meta["spearman_current"] + 0.02
        assert {"ndcg_current", "ndcg_new"} <= set(meta)
        assert "| energy | 0.200 |" in meta["weight_changes"]
        assert read_latest_weights(storage, "ws1").weights["energy"] > 0.3

        # ws2 has too few posts: a version is recorded with the reason, the defaults stay in use.
        result = materialize([learn.ranking_weights], partition_key="ws2", resources=resources, instance=instance)
        [event] = result.asset_materializations_for_node("ranking_weights")
        assert event.metadata["accepted"].value is False
        assert "needed" in event.metadata["reason"].value
        assert read_latest_weights(storage, "ws2").version == 0
