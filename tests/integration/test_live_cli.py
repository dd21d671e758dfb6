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
