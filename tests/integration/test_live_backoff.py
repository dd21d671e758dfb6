"""A stream that cannot be opened is retried with exponential backoff (capped), then given up with its reason:
streamlink against a local server whose playlist is missing, the retries timed from the server's request log."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clipped.live.layout import StreamRef
from clipped.live.models import RecorderSettings, StreamSettings
from clipped.live.recorder import Recorder
from clipped.live.source import StreamlinkOpener
from clipped_resources.storage import LocalStorage

# Long enough to see several retries when a busy machine takes a second or two for each failed open.
INITIAL_S, MAX_S, GIVE_UP_S = 0.25, 1.0, 8.0
OPEN_S = 2.5  # the most one failed open (streamlink asking the server) may add to a wait


class _Offline(BaseHTTPRequestHandler):
    asked: list[float]

    def do_GET(self) -> None:
        if self.path.endswith(".m3u8"):
            self.asked.append(time.monotonic())
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def offline() -> Iterator[tuple[str, list[float]]]:
    asked: list[float] = []
    handler = type("Offline", (_Offline,), {"asked": asked})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/live/index.m3u8", asked
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_stream_is_retried_with_growing_waits_then_given_up(
    offline: tuple[str, list[float]], tmp_path: Path
) -> None:
    url, asked = offline
    settings = StreamSettings(recorder=RecorderSettings(
        reconnect_initial_s=INITIAL_S, reconnect_max_s=MAX_S, give_up_after_s=GIVE_UP_S,
    ))  # fmt: skip
    storage = LocalStorage(root=str(tmp_path / "storage"))
    recorder = Recorder(storage, StreamRef("ws1", "offline"), url, settings,
                        opener=StreamlinkOpener(allow_loopback=True), work_dir=tmp_path / "work")  # fmt: skip
    health = recorder.run()

    assert health.state == "failed" and health.segments == 0
    assert health.error is not None and health.error.startswith(f"no media for {GIVE_UP_S:g} s") and url in health.error
    attempts = [at for previous, at in zip([-1.0, *asked], asked, strict=False) if at - previous > 0.1]
    waits = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert len(waits) >= 3, waits
    # Each wait is the backoff plus one failed open: it doubles from INITIAL_S and stops growing at MAX_S.
    assert waits[0] < INITIAL_S + OPEN_S and waits[1] >= 2 * INITIAL_S and waits[2] >= 4 * INITIAL_S, waits
    assert all(wait < MAX_S + OPEN_S for wait in waits), waits
