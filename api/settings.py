"""Settings of the review service, read once from the environment when the app is created (never at import)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from clipped_resources.profiles import active_profile, clipped_home

SECRET_FILE = "api_jwt_secret"
WEB_DIR = Path(__file__).resolve().parent / "web"


class ApiSettings(BaseModel):
    database_url: str
    jwt_secret: str = Field(min_length=32)
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 7 * 24 * 3600
    # Signed links in URLs (video/thumbnail src, EventSource): scoped to one resource, short-lived.
    media_link_ttl_s: int = Field(default=3600, ge=60, le=24 * 3600)
    stream_token_ttl_s: int = Field(default=300, ge=10, le=3600)
    cors_origins: list[str] = Field(default_factory=list)
    # Login/register: a burst of `auth_rate_burst`, refilled at `auth_rate_per_minute`, per client IP + email.
    auth_rate_per_minute: float = 10.0
    auth_rate_burst: int = 10
    max_upload_bytes: int = 4 * 1024**3
    upload_ttl_s: int = 3600
    launcher: Literal["embedded", "graphql"] = "embedded"
    dagster_graphql_url: str = "http://127.0.0.1:3000"
    web_dir: Path = WEB_DIR

    @classmethod
    def from_env(cls, **overrides: object) -> ApiSettings:
        """Settings from ``CLIPPED_API_*`` variables; in the prod profile the JWT secret must be given."""
        env = os.environ
        home = clipped_home()
        values: dict[str, object] = {
            "database_url": env.get("CLIPPED_API_DATABASE_URL") or f"sqlite:///{home / 'app.db'}",
            "cors_origins": [o.strip() for o in env.get("CLIPPED_API_CORS_ORIGINS", "").split(",") if o.strip()],
            "launcher": env.get("CLIPPED_API_LAUNCHER", "embedded"),
            "dagster_graphql_url": env.get("CLIPPED_DAGSTER_GRAPHQL_URL", "http://127.0.0.1:3000"),
        }
        if "CLIPPED_API_RATE_LIMIT_PER_MINUTE" in env:
            values["auth_rate_per_minute"] = float(env["CLIPPED_API_RATE_LIMIT_PER_MINUTE"])
            values["auth_rate_burst"] = max(1, int(values["auth_rate_per_minute"]))
        for name, field in (("MEDIA_LINK_TTL_S", "media_link_ttl_s"), ("STREAM_TOKEN_TTL_S", "stream_token_ttl_s")):
            if f"CLIPPED_API_{name}" in env:
                values[field] = int(env[f"CLIPPED_API_{name}"])
        if "CLIPPED_API_MAX_UPLOAD_MB" in env:
            values["max_upload_bytes"] = int(float(env["CLIPPED_API_MAX_UPLOAD_MB"]) * 1024**2)
        values.update(overrides)
        if "jwt_secret" not in values:
            values["jwt_secret"] = env.get("CLIPPED_API_JWT_SECRET") or _local_secret(home)
        return cls.model_validate(values)


def _local_secret(home: Path) -> str:
    """A secret generated on the first local start and kept under CLIPPED_HOME; prod must configure one."""
    if active_profile() == "prod":
        raise RuntimeError("CLIPPED_API_JWT_SECRET must be set in the prod profile")
    path = home / SECRET_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
