"""The benchmark scripts (and the CLI's and API's step lists) report what the pipeline runs: every clip_job step, and
the encoder settings in use."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from dagster import AssetKey

from api.services import job_status
from clipped.render.render_clip import CRF
from clipped.stages import CLIP_JOB_STEPS
from clipped_resources.render_options import RenderOptions
from definitions import build_definitions

ROOT = Path(__file__).resolve().parent.parent.parent


def bench_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_every_clip_job_step_is_shown_and_timed_upstream_first(tmp_path: Path) -> None:
    # The steps `clipped run`, the review API's jobs and the pipeline bench show.
    steps = CLIP_JOB_STEPS
    assert bench_module("pipeline_bench").STEPS == steps == job_status.STEPS
    defs = build_definitions("local", home=tmp_path)
    job_assets = defs.resolve_job_def("clip_job").asset_layer.executable_asset_keys
    assert set(steps) == {key.path[-1] for key in job_assets}
    graph = defs.resolve_asset_graph()
    for index, step in enumerate(steps):
        parents = {key.path[-1] for key in graph.get(AssetKey(step)).parent_keys}
        assert parents <= set(steps[:index]), step


def test_pipeline_table_has_wall_and_cpu_per_step_ratio_and_peak_memory() -> None:
    bench = bench_module("pipeline_bench")
    timings = {
        "transcript": {"wall": 120.4, "cpu": 231.0, "load": 2.1},
        "moment_index": {"wall": 9.0, "cpu": 8.6, "load": 1.0},
        "end_to_end": {"wall": 540.0, "cpu": 990.0, "load": 2.0},
    }
    header, rule, row = bench.format_table([("60 min 720p moving", 60.0, timings, 1900.0, 450.0)], 10).splitlines()
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert len(cells) == len(columns) == rule.count("---")
    by_column = dict(zip(columns, cells, strict=True))
    assert by_column["transcript"] == "120 / 231"  # wall / CPU seconds
    assert by_column["moment_index"] == "9 / 9"
    assert by_column["scenes"] == "–"  # not in this run's event log
    assert by_column["end to end"] == "540 s"
    assert by_column["ratio"] == "0.150"
    assert by_column["CPU-s per media-s"] == "0.275"
    assert by_column["peak RSS (python / largest child)"] == "1900 MB / 450 MB"


def test_render_report_labels_the_encode_stage_with_the_pipelines_preset() -> None:
    bench = bench_module("render_bench")
    preset = RenderOptions().x264_preset
    encodes = [("veryfast", CRF, 7.7, 3.2, 0.984), (preset, CRF, 4.9, 5.0, 0.9857)]
    stages = [("decode", 0.4), ("+ fps, crop, scale", 0.7), ("+ captions (ass)", 0.9)]
    whole = [("render_clip", 6.0), ("inspection", 1.5), ("caption check", 0.5)]
    report = bench.format_report("clip.mp4", 60, 66, 1080, 1920, stages, encodes, whole)
    assert f"| + x264 {preset} crf {CRF} (the default) | 4.9 | 4.0 |" in report
    assert "| inspection | 1.5 | 19% |" in report
    assert "| **all** | **8.0** | 100% |" in report
