"""An API app over a real database (SQLite file or the test PostgreSQL) with CLIPPED_HOME in tmp."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services.launcher import RunLauncher
from api.settings import ApiSettings
from api.state import AppState
from clipped.layout import ClipVersionRef, SourceRef

PASSWORD = "correct horse battery"
_emails = itertools.count()


@dataclass
class Account:
    user_id: str
    email: str
    workspace_id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class RecordingLauncher(RunLauncher):
    """Records launches without running the pipeline (for tests about the API, not the pipeline)."""

    def __init__(self) -> None:
        self.launched: list[tuple[str, str]] = []
        self.launched_versions: list[tuple[str, str]] = []  # (clip version partition key, run id)
        self.canceled: list[str] = []

    def launch(self, source: SourceRef) -> str:
        run_id = f"run-{len(self.launched) + 1:04d}"
        self.launched.append((source.partition_key, run_id))
        return run_id

    def launch_clip_version(self, version: ClipVersionRef) -> str:
        run_id = f"version-run-{len(self.launched_versions) + 1:04d}"
        self.launched_versions.append((version.partition_key, run_id))
        return run_id

    def cancel(self, run_id: str) -> None:
        self.canceled.append(run_id)


@dataclass
class ApiHarness:
    client: TestClient
    home: Path
    media: Path
    launcher: RunLauncher | None = None
    accounts: list[Account] = field(default_factory=list)

    @property
    def state(self) -> AppState:
        return self.client.app.state.clipped

    def register(self, email: str | None = None, password: str = PASSWORD) -> Account:
        email = email or f"user{next(_emails)}@example.com"
        registered = self.client.post("/api/auth/register", json={"email": email, "password": password})
        assert registered.status_code == 201, registered.text
        tokens = self.client.post("/api/auth/login", json={"email": email, "password": password})
        assert tokens.status_code == 200, tokens.text
        body, pair = registered.json(), tokens.json()
        account = Account(
            body["user"]["id"], email, body["workspace"]["id"], pair["access_token"], pair["refresh_token"]
        )
        self.accounts.append(account)
        return account


def use_api_env(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """CLIPPED_HOME and DAGSTER_HOME under ``root``, local sources allowed only in root/media; (home, media)."""
    home, media = root / "home", root / "media"
    media.mkdir()
    monkeypatch.setenv("CLIPPED_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    monkeypatch.setenv("CLIPPED_ALLOWED_ROOTS", str(media))
    monkeypatch.setenv("CLIPPED_PROFILE", "local")
    return home, media


@pytest.fixture
def api_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    return use_api_env(tmp_path, monkeypatch)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    return request.getfixturevalue("postgres_database").url


def make_harness(
    api_env: tuple[Path, Path], database_url: str, run_launcher: RunLauncher | None, **settings
) -> ApiHarness:
    """An app over ``database_url``; ``run_launcher`` None means the one the settings choose (embedded, GraphQL)."""
    home, media = api_env
    values = {"database_url": database_url, "auth_rate_per_minute": 1000.0, "auth_rate_burst": 1000, **settings}
    app = create_app(ApiSettings.from_env(**values), launcher=run_launcher)
    return ApiHarness(client=TestClient(app), home=home, media=media, launcher=run_launcher)


@pytest.fixture
def api(api_env: tuple[Path, Path], database_url: str) -> Iterator[ApiHarness]:
    """An app on SQLite and on PostgreSQL whose launcher records runs instead of executing them."""
    harness = make_harness(api_env, database_url, RecordingLauncher())
    with harness.client:
        yield harness


@pytest.fixture
def sqlite_api(api_env: tuple[Path, Path], tmp_path: Path) -> Iterator[ApiHarness]:
    """The same on SQLite only, for suites whose subject is not the database."""
    harness = make_harness(api_env, f"sqlite:///{tmp_path / 'app.db'}", RecordingLauncher())
    with harness.client:
        yield harness


def s3_harness(api_env: tuple[Path, Path], tmp_path: Path, s3_bucket, monkeypatch: pytest.MonkeyPatch) -> ApiHarness:
    """An app in the prod profile (media on the moto bucket, presigned uploads and downloads) over SQLite."""
    for name, value in s3_bucket.prod_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CLIPPED_API_JWT_SECRET", "s" * 48)
    return make_harness(api_env, f"sqlite:///{tmp_path / 'app.db'}", None)
