"""The project's persistent local Dagster instance (SQLite under ``$CLIPPED_HOME/dagster_home``)."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import DagsterInstance

from clipped_resources.profiles import clipped_home

_INSTANCE_YAML = """\
# Written by clipped: SQLite storage under this folder, runs launched in-process by `clipped run`.
telemetry:
  enabled: false
"""


def dagster_home() -> Path:
    """``$DAGSTER_HOME`` if set, else ``$CLIPPED_HOME/dagster_home`` (created with a dagster.yaml)."""
    configured = os.environ.get("DAGSTER_HOME")
    home = Path(configured).resolve() if configured else clipped_home() / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(_INSTANCE_YAML)
    return home


def local_instance() -> DagsterInstance:
    """The persistent instance that `clipped run` writes to and `clipped ui` shows."""
    return DagsterInstance.from_config(str(dagster_home()))
