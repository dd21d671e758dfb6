"""`clipped api` as a real server, and the GraphQL launcher against a real dagster-webserver."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import ApiHarness, make_harness
from tests.api.test_uploads import ticket
from tests.api.world import FAKE_MP4
from tests.support.ports import free_port, port_open, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _serve(
    args: list[str], env: dict[str, str], port: int, what: str, timeout_s: float, log: Path | None = None
) -> subprocess.Popen:
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: port_open(port) or process.poll() is not None, timeout_s=timeout_s, what=what)
    except TimeoutError:
        process.kill()
        raise
    assert process.poll() is None, f"{what} exited with {process.returncode}"
    return process


def _health_over(connection: socket.socket) -> bytes:
    connection.sendall(b"GET /api/health HTTP/1.1\r\nHost: test\r\n\r\n")
    response = b""
    while b"\r\n\r\n" not in response or not response.endswith(b"}"):
        chunk = connection.recv(65536)
        if not chunk:
            break
        response += chunk
    return response


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_clipped_api_serves_health_openapi_and_web(api_env, tmp_path: Path) -> None:
    port = free_port()
    clipped = Path(sys.executable).with_name("clipped")
    log = tmp_path / "api.log"
    # One login attempt per address + email, ten per address: what X-Forwarded-For must not multiply.
    env = {**os.environ, "CLIPPED_API_RATE_LIMIT_PER_MINUTE": "1"}
    process = _serve([str(clipped), "api", "--port", str(port)], env, port, "clipped api", 90, log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(f"{base}/api/health").status_code == 200, timeout_s=30, what="health")
        assert httpx.get(f"{base}/api/health").json() == {"status": "ok"}
        assert "/api/jobs" in httpx.get(f"{base}/api/openapi.json").json()["paths"]
        assert httpx.get(f"{base}/api/jobs").json()["error"]["code"] == "unauthorized"
        home = Path(os.environ["CLIPPED_HOME"])
        assert (home / "app.db").exists() and (home / "api_jwt_secret").stat().st_mode & 0o077 == 0
        assert (home / "app.db").stat().st_mode & 0o077 == 0
        health = httpx.get(f"{base}/api/health")
        assert health.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in health.headers["Content-Security-Policy"]
        # No proxy is configured: uvicorn must not take a client's X-Forwarded-For from 127.0.0.1 as its address.
        statuses = [
            httpx.post(
                f"{base}/api/auth/login",
                json={"email": f"spray{n}@example.com", "password": "guess-guess"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(11)
        ]
        assert statuses == [401] * 10 + [429], statuses
        # Signed link tokens in query strings never reach the access log.
        assert httpx.get(f"{base}/api/clips/c1/video?version=1&token=LEAKME-0123456789").status_code == 401
        # An idle connection outlives a client's own keep-alive (httpx: 5 s), so a reuse never meets a close.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            assert _health_over(connection).startswith(b"HTTP/1.1 200")
            time.sleep(6)
            assert _health_over(connection).startswith(b"HTTP/1.1 200")
    finally:
        _stop(process)
    written = log.read_text()
    assert "/api/clips/c1/video?version=1&token=[redacted]" in written, written[-2000:]
    assert "LEAKME" not in written


@pytest.fixture
def webserver(api_env) -> Iterator[str]:
    from clipped_app.instance import dagster_home

    dagster_home()  # the webserver needs the instance folder to exist; the app shares it
    port = free_port()
    args = [sys.executable, "-m", "dagster_webserver", "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1"]
    process = _serve([*args, "-p", str(port)], dict(os.environ), port, "dagster-webserver", 180)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def test_graphql_launcher_submits_to_the_webserver_queue(api_env, tmp_path: Path, webserver: str) -> None:
    harness: ApiHarness = make_harness(
        api_env, f"sqlite:///{tmp_path / 'app.db'}", None, launcher="graphql", dagster_graphql_url=webserver
    )
    with harness.client:
        account = harness.register()
        upload = ticket(harness, account).json()
        assert harness.client.put(upload["url"], content=FAKE_MP4, headers=upload["headers"]).status_code == 200
        assert harness.client.post(f"/api/uploads/{upload['upload_id']}/confirm", headers=account.headers).is_success
        created = harness.client.post("/api/jobs", headers=account.headers, json={"upload_id": upload["upload_id"]})
        assert created.status_code == 201, created.text
        job = created.json()
        run = harness.state.instance.get_run_by_id(job["run_id"])
        # The webserver queued it (no daemon here dequeues it): the run queue and its launcher own it now.
        assert run is not None and run.job_name == "clip_job" and job["status"] == "queued"
        assert run.tags["dagster/partition"].startswith(account.workspace_id + ".")
        assert run.tags["clipped/trigger"] == "api" and run.tags["clipped/workspace"] == account.workspace_id
        canceled = harness.client.post(f"/api/jobs/{job['id']}/cancel", headers=account.headers)
        assert canceled.status_code == 200
        assert harness.client.get(f"/api/jobs/{job['id']}", headers=account.headers).json()["status"] == "canceled"
