"""The local profile schedules the cores as the README's Benchmark section says: one step at a time, each sized
to the cores on its own, and no step asking for more threads than the cores it may use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clipped.cores import available_cores
from clipped.understand import scenes
from clipped_resources.render_options import RenderOptions
from definitions import build_definitions


def test_local_jobs_run_their_steps_one_at_a_time(tmp_path: Path) -> None:
    defs = build_definitions("local", home=tmp_path)
    for job in ("clip_job", "clip_version_job", "live_clip_job"):
        assert defs.resolve_job_def(job).executor_def.name == "in_process", job


def test_each_step_uses_the_cores_without_oversubscribing(tmp_path: Path) -> None:
    resources = build_definitions("local", home=tmp_path).resources
    assert resources["asr"].cpu_threads == 0  # transcript: CTranslate2 on every core...
    chunks_at_once, threads_each = resources["asr"].cpu_layout("cpu")
    assert chunks_at_once * threads_each == available_cores()  # ...split between the chunks decoded at once
    assert resources["vision"].intra_op_threads == 1  # faces: one ONNX thread beside the decoder's frame threads
    assert resources["vector_store"].embedding_threads == 1  # moment_index: the MiniLM embedder
    assert scenes.DECODE_THREADS <= 2  # scenes: the full-rate scans' decoder threads
    render = resources["render"]
    # rendered_clips: clips at once x threads per clip fill the cores exactly.
    assert render.clip_workers() * render.threads_per_clip == available_cores()


def test_clip_workers_follow_the_cpu_set_not_the_hosts_core_count(monkeypatch: pytest.MonkeyPatch) -> None:
    # A container limited to 1 core of a 64-core host: os.cpu_count() says 64, the CPU set says 1.
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert RenderOptions().clip_workers() == 1
    assert RenderOptions(threads_per_clip=2).clip_workers() == 1
    assert RenderOptions(parallel_clips=3).clip_workers() == 3
