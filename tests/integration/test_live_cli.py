"""`clipped stream`: records a local live stream, prints what it finds, refuses a stream over the workspace's
limit, stops cleanly on Ctrl-C, and leaves its segments' materializations in the Dagster instance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from clipped_resources.profiles import build_resources
from tests.support.live_hls import KEYWORD, LiveHlsServer, make_live_media

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("live_streams")]
ROOT = Path(__file__).resolve().parents[2]


def test_clipped_stream_records_until_ctrl_c(tmp_path: Path) -> None:
    media = make_live_media(tmp_path / "media", duration_s=40)
    env = {
        **os.environ,
        "CLIPPED_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "CLIPPED_TEST_LOOPBACK_STREAMS": "1",  # the tests' allowance for the HLS server on 127.0.0.1
        "CLIPPED_STREAMS_PER_WORKSPACE": "1",
    }
    command = [sys.executable, "-m", "clipped_app.cli", "stream"]
    with LiveHlsServer(media, ends=False) as server:
        process = subprocess.Popen(
            [*command, server.url, "--workspace", "ws1", "--keyword", KEYWORD],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)  # type: ignore[arg-type]
        reader.start()
        deadline = time.monotonic() + 90
        while sum("events" in line for line in lines) < 3 and time.monotonic() < deadline:
            assert process.poll() is None, "".join(lines)
            time.sleep(0.2)
        assert sum("events" in line for line in lines) >= 3, "".join(lines)

        second = subprocess.run(
            [*command, server.url, "--workspace", "ws1"], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert second.returncode == 1 and "limit 1" in second.stderr

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        reader.join(timeout=5)
    output = "".join(lines)
    assert "stopping" in output and "stopped after" in output, output
    partition = output.split("stream ", 1)[1].split(" ", 1)[0]
    assert partition.startswith("ws1.")
    instance = DagsterInstance.from_config(str(tmp_path / "dagster_home"))
    records = instance.fetch_materializations(AssetKey("stream_segments"), limit=5).records
    assert records and records[0].asset_materialization.partition == partition
    assert records[0].asset_materialization.metadata["state"].value == "stopped"


def test_the_service_starts_a_recorder_process_and_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the review API does: start a stream (a `clipped stream --stream-id` process), watch its health, stop."""
    media = make_live_media(tmp_path / "media", duration_s=40)
    monkeypatch.setenv("CLIPPED_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("CLIPPED_TEST_LOOPBACK_STREAMS", "1")
    resources = build_resources("local")
    storage, streams = resources["storage"], resources["streams"]
    service = streams.service(storage)
    launcher = streams.launcher()
    with LiveHlsServer(media, ends=False) as server:
        status = service.start("ws1", server.url)
        record = service.record("ws1", status.stream_id)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            status = service.get("ws1", status.stream_id)
            if status.health is not None and status.health.segments >= 2:
                break
            assert launcher.is_running(record) is not False, "the recorder process died"
            time.sleep(0.5)
        assert status.state == "recording" and status.active and not status.stale
        assert status.health is not None and status.health.bitrate_kbps > 0 and status.last_segment_age_s < 10
        service.stop("ws1", status.stream_id)
        deadline = time.monotonic() + 45
        while launcher.is_running(record) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert launcher.is_running(record) is False
    stopped = service.get("ws1", status.stream_id)
    assert stopped.state == "stopped" and not stopped.active and not stopped.stale
