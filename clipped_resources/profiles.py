"""The one place that picks resource implementations for a profile (``local`` or ``prod``), at call time."""

from __future__ import annotations

import os
from pathlib import Path

from clipped_resources.asr_backends import asr_from_env
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import LocalStorage
from clipped_resources.vision import RetinaFaceVision

PROFILES = ("local", "prod")


def clipped_home() -> Path:
    """Project-local state (storage, Dagster instance, model cache): ``$CLIPPED_HOME`` or ``./.clipped``."""
    return Path(os.environ.get("CLIPPED_HOME", ".clipped")).resolve()


def default_allowed_roots() -> list[str]:
    """Where local sources may be read from: ``$CLIPPED_ALLOWED_ROOTS`` (``:``-separated) or cwd and home."""
    configured = os.environ.get("CLIPPED_ALLOWED_ROOTS")
    if configured:
        return [root for root in configured.split(os.pathsep) if root]
    return [str(Path.cwd()), str(Path.home())]


def build_resources(profile: str | None = None) -> dict[str, object]:
    """Resources for ``profile`` (default ``$CLIPPED_PROFILE`` or ``local``)."""
    profile = profile or os.environ.get("CLIPPED_PROFILE", "local")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    home = clipped_home()
    if profile == "prod":
        raise NotImplementedError("the prod profile (S3 storage, Postgres instance) is not available yet")
    return {
        "storage": LocalStorage(root=str(home / "storage")),
        "asr": asr_from_env(),  # CLIPPED_ASR_BACKEND/_DEVICE/_MODEL/_BATCH_SIZE, CLIPPED_MODEL_CACHE
        "vision": RetinaFaceVision(),
        "ingest": IngestPolicy(allowed_roots=default_allowed_roots()),
        "render": RenderOptions(),
    }
