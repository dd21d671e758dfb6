"""An API app over a real database (SQLite file or the test PostgreSQL) with CLIPPED_HOME in tmp."""

from __future__ import annotations

import itertools
import json
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
from clipped.media.ffmpeg import run_ffmpeg
from clipped.publish.records import Publication
from tests.support.fake_instagram import CLIENT_ID as INSTAGRAM_CLIENT_ID
from tests.support.fake_instagram import CLIENT_SECRET as INSTAGRAM_CLIENT_SECRET

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
        self.launched_publications: list[tuple[str, str]] = []  # (publication partition key, run id)
        self.canceled: list[str] = []

    def launch(self, source: SourceRef) -> str:
        run_id = f"run-{len(self.launched) + 1:04d}"
        self.launched.append((source.partition_key, run_id))
        return run_id

    def launch_clip_version(self, version: ClipVersionRef) -> str:
        run_id = f"version-run-{len(self.launched_versions) + 1:04d}"
        self.launched_versions.append((version.partition_key, run_id))
        return run_id

    def launch_publication(self, publication: Publication) -> str:
        run_id = f"publication-run-{len(self.launched_publications) + 1:04d}"
        self.launched_publications.append((publication.partition_key, run_id))
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


def fake_platform_env(public_url: str, *, tiktok=None, x=None, youtube=None, instagram=None) -> dict[str, str]:
    """The ``CLIPPED_*`` variables that point the publisher at the local fakes of TikTok, X, YouTube and Instagram
    given (tests/support), with OAuth callbacks to ``public_url``; the fakes learn that callback as a registered
    redirect URI."""
    env = {"CLIPPED_PUBLIC_URL": public_url}
    if tiktok is not None:
        tiktok.audited = True  # an audited app may post publicly, so posts get public URLs
        tiktok.redirect_uris = {*(tiktok.redirect_uris or ()), f"{public_url}/api/oauth/tiktok/callback"}
        env |= {
            "CLIPPED_TIKTOK_CLIENT_ID": tiktok.client_key,
            "CLIPPED_TIKTOK_CLIENT_SECRET": tiktok.client_secret,
            "CLIPPED_TIKTOK_URLS": json.dumps({"auth_base_url": tiktok.base_url, "api_base_url": tiktok.base_url}),
            "CLIPPED_TIKTOK_OPTIONS": json.dumps({"poll_interval_s": 0.2, "audited": True}),
        }
    if x is not None:
        x.redirect_uris.add(f"{public_url}/api/oauth/x/callback")
        env |= {
            "CLIPPED_X_CLIENT_ID": x.client_id,
            "CLIPPED_X_CLIENT_SECRET": x.client_secret,
            "CLIPPED_X_URLS": json.dumps({"authorize_url": f"{x.url}/i/oauth2/authorize", "api_url": x.url}),
            "CLIPPED_X_OPTIONS": json.dumps({"poll_interval_s": 0.2}),
        }
    if youtube is not None:
        youtube.registered_redirect_uris.add(f"{public_url}/api/oauth/youtube/callback")
        env |= {
            "CLIPPED_YOUTUBE_CLIENT_ID": youtube.client_id,
            "CLIPPED_YOUTUBE_CLIENT_SECRET": youtube.client_secret,
            "CLIPPED_YOUTUBE_URLS": json.dumps(youtube.adapter_urls()),
            "CLIPPED_YOUTUBE_OPTIONS": json.dumps({"chunk_size": 256 * 1024, "poll_interval_s": 0.2}),
        }
    if instagram is not None:
        instagram.redirect_uris.add(f"{public_url}/api/oauth/instagram/callback")
        env |= {
            "CLIPPED_INSTAGRAM_CLIENT_ID": INSTAGRAM_CLIENT_ID,
            "CLIPPED_INSTAGRAM_CLIENT_SECRET": INSTAGRAM_CLIENT_SECRET,
            "CLIPPED_INSTAGRAM_URLS": json.dumps(instagram.adapter_urls()),
            "CLIPPED_INSTAGRAM_OPTIONS": json.dumps({"poll_interval_s": 0.2}),
        }
    return env


def make_test_video(path: Path, seconds: float = 2.0) -> Path:
    """A small real H.264/AAC MP4 (vertical), which every fake platform accepts."""
    run_ffmpeg(
        [
            *("-f", "lavfi", "-i", f"testsrc=size=180x320:rate=25:duration={seconds}"),
            *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"),
            *("-movflags", "+faststart", "-y", str(path)),
        ]
    )
    return path
