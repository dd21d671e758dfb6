"""Browser-test fixtures: the real review API under uvicorn in its own process, and headless Debian Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ports import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class ApiServer:
    base_url: str
    home: Path
    media: Path
    log: Path


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def serve_api(root: Path, extra_env: dict[str, str] | None = None, port: int | None = None) -> Iterator[ApiServer]:
    """`uvicorn api.app:create_app` on a loopback port (``port`` or a free one) with CLIPPED_HOME (and
    DAGSTER_HOME) under ``root`` and ``extra_env`` on top of this process's environment."""
    home, media = root / "home", root / "media"
    media.mkdir()
    port = port or free_port()
    env = {
        **os.environ,
        "CLIPPED_PROFILE": "local",
        "CLIPPED_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"),
        "CLIPPED_ALLOWED_ROOTS": str(media),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **(extra_env or {}),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "e2e-api-server.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: process.poll() is not None or _healthy(base_url), timeout_s=90, what="the review API")
            if process.poll() is not None:
                pytest.fail(f"the review API exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            yield ApiServer(base_url=base_url, home=home, media=media, log=log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """`uvicorn api.app:create_app` on a free loopback port with CLIPPED_HOME (and DAGSTER_HOME) in tmp.

    A separate process, like `clipped api`: the browser talks to it over real HTTP, and its embedded launcher
    starts pipeline runs in child processes of its own.
    """
    with serve_api(tmp_path_factory.mktemp("e2e")) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium. Missing Chromium fails loudly: a skipped browser test would hide a broken UI."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium package "
            "(`make test` installs it; by hand: `sudo apt-get install -y chromium`)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
