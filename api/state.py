"""What the app holds for its lifetime: settings, database, storage, Dagster instance, launcher, rate limiter."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.rate_limit import LoginThrottle, RateLimiter
from api.services.job_status import FinishedRunViews
from api.settings import ApiSettings
from clipped.live.service import StreamService
from clipped_app.instance import local_instance
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.publisher import PublisherResource
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import StorageResource
from clipped_resources.vector_store import VectorStoreResource
from clipped_resources.warehouse import WarehouseResource

if TYPE_CHECKING:
    from dagster import DagsterInstance

    from api.services.launcher import RunLauncher


@dataclass
class AppState:
    settings: ApiSettings
    engine: Engine
    sessions: sessionmaker[Session]
    storage: StorageResource
    ingest_policy: IngestPolicy
    render_options: RenderOptions
    publisher: PublisherResource
    warehouse: WarehouseResource  # the dbt marts the analytics routes read (read-only)
    rate_limiter: RateLimiter
    ip_rate_limiter: RateLimiter
    login_throttle: LoginThrottle
    invitation_limiter: RateLimiter  # invitations sent, per inviting user
    streams: StreamService  # the workspaces' live streams (recorders run as processes or Dagster runs)
    launcher: RunLauncher
    vector_store: VectorStoreResource  # moment search's index (read here; written by the moment_index asset)
    run_views: FinishedRunViews = field(default_factory=FinishedRunViews)
    _instance: DagsterInstance | None = None
    _instance_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def instance(self) -> DagsterInstance:
        """The Dagster instance of DAGSTER_HOME (the one the UI and the launcher use), opened on first use."""
        with self._instance_lock:
            if self._instance is None:
                self._instance = local_instance()
            return self._instance
