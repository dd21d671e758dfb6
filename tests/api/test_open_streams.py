"""Open event streams hold no database connection, so any number of them leaves the API answering.

bench/load_api.py: a request's session lived until its response body was sent, so each open event stream (and each
slow media download) kept one of the pool's 15 connections; past that every other request waited 30 s for one
and failed. Served by uvicorn on 127.0.0.1 (TestClient cannot keep streams open).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from tests.api.conftest import ApiHarness
from tests.api.world import add_job
from tests.support.ports import free_port, port_open, wait_until

STREAMS = 20  # more than the pool's 5 + 10 connections


@pytest.fixture
def served(sqlite_api: ApiHarness) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(sqlite_api.client.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: port_open(port), timeout_s=30, what="uvicorn")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_many_open_event_streams_leave_requests_answered(sqlite_api: ApiHarness, served: str) -> None:
    owner = sqlite_api.register()
    job_id = add_job(sqlite_api, owner, "waiting", ["run-not-started-yet"])  # queued: its stream stays open
    headers = owner.headers
    with httpx.Client(base_url=served, headers=headers, timeout=60) as client:
        links = [client.post(f"/api/jobs/{job_id}/stream-token").json()["url"] for _ in range(STREAMS)]
        streams = [client.stream("GET", link, headers={}) for link in links]
        opened = [stream.__enter__() for stream in streams]
        try:
            for response in opened:
                assert response.status_code == 200
                assert next(response.iter_lines()).startswith("event: job")
            started = time.monotonic()
            listed = client.get("/api/jobs")
            assert listed.status_code == 200 and listed.json()["total"] == 1
            assert time.monotonic() - started < 10
        finally:
            for stream in streams:
                stream.__exit__(None, None, None)
