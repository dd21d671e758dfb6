"""The API keeps answering when many clients come at once: no request holds a pooled connection while it waits.

bench/load_api.py found two ways to lose the pool. A request's session lived until its response body was sent, so
each open event stream (and each slow media download) kept one of the pool's 15 connections. And a connection taken
by the auth dependency was kept while the request waited for a worker thread for its next step, while every
thread waited for a connection: with 200 clients nothing was answered. Served by uvicorn on 127.0.0.1 (TestClient
cannot keep streams open, nor send requests at once).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine

from api.db import session_factory
from api.routing import SessionReleasingRoute
from tests.api.conftest import ApiHarness
from tests.api.routes_table import api_routes
from tests.api.world import add_job
from tests.support.ports import free_port, port_open, wait_until

STREAMS = 20  # more than the pool's 5 + 10 connections
AT_ONCE = 80  # twice the 40 worker threads FastAPI runs sync dependencies and routes in


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


def test_requests_at_once_never_deadlock_the_pool_against_the_worker_threads(
    sqlite_api: ApiHarness, served: str
) -> None:
    owner = sqlite_api.register()
    add_job(sqlite_api, owner, "listed", ["run-not-started-yet"])
    # One connection, and a short wait for it: a connection held between a request's steps stalls everything.
    one_connection = create_engine(
        sqlite_api.state.engine.url, pool_size=1, max_overflow=0, pool_timeout=5, connect_args={"timeout": 30}
    )
    sqlite_api.state.sessions = session_factory(one_connection)

    async def list_jobs_at_once() -> list[int]:
        async with httpx.AsyncClient(base_url=served, headers=owner.headers, timeout=60) as client:
            responses = await asyncio.gather(*(client.get("/api/jobs") for _ in range(AT_ONCE)))
        return [response.status_code for response in responses]

    try:
        started = time.monotonic()
        statuses = asyncio.run(list_jobs_at_once())
        assert statuses == [200] * AT_ONCE
        assert time.monotonic() - started < 30
    finally:
        one_connection.dispose()


def test_every_route_gives_its_connection_back_before_its_response(sqlite_api: ApiHarness) -> None:
    routes = api_routes(sqlite_api.client.app.routes)
    assert len(routes) > 50
    assert [route.path for route in routes if not isinstance(route, SessionReleasingRoute)] == []
