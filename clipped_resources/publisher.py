"""The publisher role: the publishing store, the token vault and one adapter per platform, configured per profile.

Secrets are never resource config values (Dagster shows resource config in its UI): the resource holds the *names*
of the environment variables that carry them and reads them when it builds a vault or an adapter.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet
from dagster import Config, ConfigurableResource
from pydantic import Field

from clipped.publish.adapter import PlatformAdapter
from clipped.publish.instagram import InstagramAdapter
from clipped.publish.models import PLATFORMS, Platform
from clipped.publish.tiktok import TikTokAdapter
from clipped.publish.token_vault import TokenVault
from clipped.publish.x import XAdapter
from clipped.publish.youtube import YouTubeAdapter
from clipped_resources.publishing_store import SqlPublishingStore

ADAPTER_CLASSES = {"youtube": YouTubeAdapter, "tiktok": TikTokAdapter, "instagram": InstagramAdapter, "x": XAdapter}


class PlatformApp(Config):
    """Our registered app on one platform: its client id, where its secret is, and URL overrides (local fakes)."""

    client_id: str = ""
    client_secret_env: str = Field(default="", description="Environment variable holding the client secret")
    urls: dict[str, str] = Field(default_factory=dict, description="Adapter URL keyword → URL (tests, proxies)")
    options: dict[str, float] = Field(default_factory=dict, description="Numeric adapter options (chunk sizes, polls)")
    flags: dict[str, bool] = Field(default_factory=dict, description="Adapter switches (e.g. TikTok `audited`)")


class PublisherResource(ConfigurableResource):
    database_url: str = Field(description="The publishing store (the review service's database by default)")
    token_keys_env: str = Field(default="CLIPPED_TOKEN_KEYS", description="Comma-separated Fernet keys, newest first")
    token_keys_file: str = Field(default="", description="Local profile only: a key file created on first use")
    redirect_base_url: str = Field(default="http://127.0.0.1:8000", description="Where OAuth callbacks come back")
    youtube: PlatformApp = Field(default_factory=PlatformApp)
    tiktok: PlatformApp = Field(default_factory=PlatformApp)
    instagram: PlatformApp = Field(default_factory=PlatformApp)
    x: PlatformApp = Field(default_factory=PlatformApp)

    def store(self) -> SqlPublishingStore:
        return SqlPublishingStore(self.database_url)

    def vault(self) -> TokenVault:
        return TokenVault(self.token_keys())

    def app(self, platform: Platform) -> PlatformApp:
        return getattr(self, platform)

    def configured_platforms(self) -> list[Platform]:
        """Platforms with a client id: the ones people can connect accounts on."""
        return [platform for platform in PLATFORMS if self.app(platform).client_id]

    def adapter(self, platform: Platform) -> PlatformAdapter:
        app = self.app(platform)
        if not app.client_id:
            raise LookupError(f"no {platform} app is configured (CLIPPED_{platform.upper()}_CLIENT_ID)")
        secret = os.environ.get(app.client_secret_env, "") if app.client_secret_env else ""
        numbers = {name: int(value) if float(value).is_integer() else value for name, value in app.options.items()}
        return ADAPTER_CLASSES[platform](app.client_id, secret, **app.urls, **numbers, **app.flags)

    def adapters(self) -> dict[Platform, PlatformAdapter]:
        return {platform: self.adapter(platform) for platform in self.configured_platforms()}

    def redirect_uri(self, platform: Platform) -> str:
        return f"{self.redirect_base_url.rstrip('/')}/api/oauth/{platform}/callback"

    def token_keys(self) -> list[str]:
        """The configured keys, newest first; the local profile's key file when none are configured."""
        configured = [key.strip() for key in os.environ.get(self.token_keys_env, "").split(",") if key.strip()]
        if configured or not self.token_keys_file:
            return configured
        return [local_key(Path(self.token_keys_file))]


def local_key(path: Path) -> str:
    """The embedded default's token key: generated once, readable only by its owner."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    return path.read_text().strip()
