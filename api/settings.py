"""Settings of the review service, read once from the environment when the app is created (never at import)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

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
    # Login/register: a burst of `auth_rate_burst`, refilled at `auth_rate_per_minute`, per client IP + email;
    # ten times that per client IP alone, counted before the body is read.
    auth_rate_per_minute: float = 10.0
    auth_rate_burst: int = 10
    # Failed logins (api.rate_limit.LoginThrottle): free failures per account and address, then waits doubling
    # from the base up to the cap; every address backs off once this many addresses failed for one account.
    login_free_failures: int = Field(default=3, ge=1)
    login_backoff_base_s: float = Field(default=2.0, gt=0)
    login_backoff_cap_s: float = Field(default=900.0, gt=0)
    login_account_addresses: int = Field(default=10, ge=2)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs); none by default, so a client
    # cannot pick its own address for the rate limits by sending the header.
    trusted_proxies: list[str] = Field(default_factory=list)
    # JSON bodies are refused above this before they are read (uploads have max_upload_bytes instead).
    max_json_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Workspace invitations: lifetime of the token, and how many one user may send per hour.
    invitation_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)
    invitations_per_hour: int = Field(default=20, ge=1)
    # Strict-Transport-Security on every response (the prod profile, served over https).
    hsts: bool = False
    # Origins besides this one the web app may load media from and upload to (a CDN in front of the bucket);
    # the object store's own origin is found from its presigned URLs.
    media_origins: list[str] = Field(default_factory=list)
    max_upload_bytes: int = 4 * 1024**3
    upload_ttl_s: int = 3600
    launcher: Literal["embedded", "graphql"] = "embedded"
    # How often stale local live-stream recorders are restarted (api.services.stream_supervisor); 0 = never.
    stream_supervise_s: float = Field(default=15.0, ge=0)
    dagster_graphql_url: str = "http://127.0.0.1:3000"
    web_dir: Path = WEB_DIR

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ValueError(f"trusted proxy {proxy!r} is not an IP address or CIDR network") from exc
        return proxies

    @classmethod
    def from_env(cls, **overrides: object) -> ApiSettings:
        """Settings from ``CLIPPED_API_*`` variables; in the prod profile the JWT secret must be given."""
        env = os.environ
        home = clipped_home()
        values: dict[str, object] = {
            "database_url": env.get("CLIPPED_API_DATABASE_URL") or f"sqlite:///{home / 'app.db'}",
            "cors_origins": _csv(env.get("CLIPPED_API_CORS_ORIGINS", "")),
            "launcher": env.get("CLIPPED_API_LAUNCHER", "embedded"),
            "dagster_graphql_url": env.get("CLIPPED_DAGSTER_GRAPHQL_URL", "http://127.0.0.1:3000"),
            "trusted_proxies": _csv(env.get("CLIPPED_API_TRUSTED_PROXIES", "")),
            "media_origins": _csv(env.get("CLIPPED_API_MEDIA_ORIGINS", "")),
            "hsts": active_profile() == "prod",
        }
        if "CLIPPED_API_MAX_JSON_KB" in env:
            values["max_json_body_bytes"] = int(float(env["CLIPPED_API_MAX_JSON_KB"]) * 1024)
        if "CLIPPED_API_RATE_LIMIT_PER_MINUTE" in env:
            values["auth_rate_per_minute"] = float(env["CLIPPED_API_RATE_LIMIT_PER_MINUTE"])
            values["auth_rate_burst"] = max(1, int(values["auth_rate_per_minute"]))
        for name, field in (("MEDIA_LINK_TTL_S", "media_link_ttl_s"), ("STREAM_TOKEN_TTL_S", "stream_token_ttl_s")):
            if f"CLIPPED_API_{name}" in env:
                values[field] = int(env[f"CLIPPED_API_{name}"])
        if "CLIPPED_API_STREAM_SUPERVISE_S" in env:
            values["stream_supervise_s"] = float(env["CLIPPED_API_STREAM_SUPERVISE_S"])
        if "CLIPPED_API_MAX_UPLOAD_MB" in env:
            values["max_upload_bytes"] = int(float(env["CLIPPED_API_MAX_UPLOAD_MB"]) * 1024**2)
        values.update(overrides)
        if "jwt_secret" not in values:
            values["jwt_secret"] = env.get("CLIPPED_API_JWT_SECRET") or _local_secret(home)
        return cls.model_validate(values)


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


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
