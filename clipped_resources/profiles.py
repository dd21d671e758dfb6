"""The one place that picks resource implementations for a profile (``local`` or ``prod``), at call time."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from dagster_dbt import DbtCliResource

from clipped.publish.models import PLATFORMS
from clipped_resources.asr_backends import asr_from_env
from clipped_resources.inbox import inbox_from_env
from clipped_resources.ingest_policy import IngestPolicy
from clipped_resources.publisher import PlatformApp, PublisherResource
from clipped_resources.ranker import ClaudeRanker, HeuristicRanker, RankerResource
from clipped_resources.render_options import RenderOptions
from clipped_resources.s3_storage import S3Storage
from clipped_resources.storage import LocalStorage, StorageResource
from clipped_resources.streams import DagsterStreams, LocalStreams, StreamsResource
from clipped_resources.vector_store import VectorStoreResource
from clipped_resources.vision import RetinaFaceVision
from clipped_resources.warehouse import DBT_PROJECT_DIR, WarehouseResource, dbt_executable

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


def active_profile(profile: str | None = None) -> str:
    """``profile`` if given, else ``$CLIPPED_PROFILE``, else ``local``: the one place that reads CLIPPED_PROFILE."""
    chosen = profile or os.environ.get("CLIPPED_PROFILE", "local")
    if chosen not in PROFILES:
        raise ValueError(f"unknown profile {chosen!r}; expected one of {', '.join(PROFILES)}")
    return chosen


def build_resources(
    profile: str | None = None,
    *,
    asr_model: str | None = None,
    extra_allowed_roots: Sequence[str] = (),
    home: Path | None = None,
) -> dict[str, object]:
    """Resources for ``profile`` (see :func:`active_profile`).

    ``asr_model`` overrides ``CLIPPED_ASR_MODEL``; ``extra_allowed_roots`` adds folders local sources may be read
    from (the CLI adds the folder of the file it was given); ``home`` overrides :func:`clipped_home` for the
    local storage.
    """
    profile = active_profile(profile)
    home = home or clipped_home()
    storage = s3_storage_from_env() if profile == "prod" else LocalStorage(root=str(home / "storage"), **review_app())
    asr_env = {**os.environ, "CLIPPED_ASR_MODEL": asr_model} if asr_model else None
    return {
        "storage": storage,
        "asr": asr_from_env(asr_env),  # CLIPPED_ASR_BACKEND/_DEVICE/_MODEL/_BATCH_SIZE, CLIPPED_MODEL_CACHE
        "vision": RetinaFaceVision(),
        "ingest": IngestPolicy(allowed_roots=[*default_allowed_roots(), *extra_allowed_roots]),
        "render": RenderOptions(),
        "inbox": inbox_from_env(),
        "publisher": publisher_from_env(profile, home),
        "warehouse": warehouse_from_env(profile, home),
        "dbt": dbt_resource(profile),
        "streams": streams_from_env(profile, home),
        "vector_store": vector_store_from_env(profile, home),
        "ranker": ranker_from_env(profile),
    }


def ranker_from_env(profile: str) -> RankerResource:
    """``CLIPPED_RANKER``: ``heuristic`` (the local default: offline, no key) or ``claude`` (the prod default; the key
    is read from ``ANTHROPIC_API_KEY``, which the Helm chart mounts from the ``clipped-anthropic`` secret, at call
    time; without it every source falls back to the heuristic and says so). ``CLIPPED_CLAUDE_MODEL`` and
    ``CLIPPED_ANTHROPIC_BASE_URL`` override the model and the endpoint."""
    env = os.environ
    chosen = env.get("CLIPPED_RANKER", "").strip() or ("claude" if profile == "prod" else "heuristic")
    if chosen == "heuristic":
        return HeuristicRanker()
    if chosen != "claude":
        raise ValueError(f"CLIPPED_RANKER must be 'heuristic' or 'claude', not {chosen!r}")
    options = {
        "model": env.get("CLIPPED_CLAUDE_MODEL", "").strip(),
        "base_url": env.get("CLIPPED_ANTHROPIC_BASE_URL", ""),
    }
    return ClaudeRanker(**{name: value.strip() for name, value in options.items() if value.strip()})


def vector_store_from_env(profile: str, home: Path) -> VectorStoreResource:
    """Moment search's LanceDB root: ``CLIPPED_VECTOR_STORE_URI``, else the storage's own root, so each workspace's
    index sits beside its media under ``{workspace}/moments/``: ``{home}/storage`` (local) or
    ``s3://$CLIPPED_S3_BUCKET`` (prod; endpoint and region as the storage's, credentials from the standard AWS
    variables). ``CLIPPED_SEARCH_OCR_FRAMES`` caps the frames read for on-screen text (0: none);
    ``CLIPPED_CLIP_MODEL`` and ``CLIPPED_CLIP_MODEL_PATH`` name a CLIP model and its baked checkpoint."""
    env = os.environ
    uri = env.get("CLIPPED_VECTOR_STORE_URI", "").strip()
    options: dict[str, str] = {}
    if profile == "prod":
        bucket = env.get("CLIPPED_S3_BUCKET", "").strip()
        if not uri and not bucket:
            raise ValueError("the prod profile needs CLIPPED_S3_BUCKET (or CLIPPED_VECTOR_STORE_URI) for moment search")
        uri = uri or f"s3://{bucket}"
        endpoint = env.get("CLIPPED_S3_ENDPOINT_URL", "").strip()
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        options |= {"aws_endpoint": endpoint} if endpoint else {}
        options |= {"allow_http": "true"} if endpoint.startswith("http://") else {}
        options |= {"aws_region": region} if region else {}
    extra: dict[str, object] = {}
    ocr_frames = env.get("CLIPPED_SEARCH_OCR_FRAMES", "").strip()
    if ocr_frames:
        if not ocr_frames.isdigit():
            raise ValueError(f"CLIPPED_SEARCH_OCR_FRAMES must be a whole number, not {ocr_frames!r}")
        extra["ocr_frames"] = int(ocr_frames)
    return VectorStoreResource(
        uri=uri or str(home / "storage"),
        storage_options=options,
        image_model=env.get("CLIPPED_CLIP_MODEL", "").strip(),
        image_model_path=env.get("CLIPPED_CLIP_MODEL_PATH", "").strip(),
        **extra,
    )


def s3_storage_from_env() -> StorageResource:
    """The prod storage: ``CLIPPED_S3_BUCKET`` (required), ``CLIPPED_S3_ENDPOINT_URL`` for MinIO/R2, AWS region."""
    bucket = os.environ.get("CLIPPED_S3_BUCKET", "").strip()
    if not bucket:
        raise ValueError("the prod profile needs CLIPPED_S3_BUCKET (the bucket that holds media and stage outputs)")
    return S3Storage(
        bucket=bucket,
        endpoint_url=os.environ.get("CLIPPED_S3_ENDPOINT_URL") or None,
        region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None,
        work_dir=os.environ.get("CLIPPED_WORK_DIR") or None,
        **review_app(),
    )


def review_app() -> dict[str, str]:
    """``CLIPPED_REVIEW_APP_URL``: where people open the review app (Dagster UI links go there); unset, the
    storage's default, `clipped api`'s local address."""
    url = os.environ.get("CLIPPED_REVIEW_APP_URL", "").strip()
    return {"review_app_url": url} if url else {}


def streams_from_env(profile: str, home: Path) -> StreamsResource:
    """Live streams: recorders as local processes (``local``) or long-running Dagster runs (``prod``); the
    per-workspace limit from ``CLIPPED_STREAMS_PER_WORKSPACE`` (default 3); ``CLIPPED_STREAMS_TRACK_FACES=0`` keeps
    clips' crops in the centre. ``CLIPPED_TEST_LOOPBACK_STREAMS=1`` lets the local profile record http://127.0.0.1
    playlists: the tests' HLS server, never on by default."""
    limit = os.environ.get("CLIPPED_STREAMS_PER_WORKSPACE", "").strip()
    if limit and not limit.isdigit():
        raise ValueError(f"CLIPPED_STREAMS_PER_WORKSPACE must be a whole number, not {limit!r}")
    options: dict[str, object] = {"max_concurrent_per_workspace": int(limit)} if limit else {}
    if profile != "prod" and os.environ.get("CLIPPED_TEST_LOOPBACK_STREAMS") == "1":
        options["allow_loopback_sources"] = True
    if os.environ.get("CLIPPED_STREAMS_TRACK_FACES") == "0":  # the crop holds the centre: less CPU per segment
        options["track_faces"] = False
    if profile == "prod":
        return DagsterStreams(**options)
    return LocalStreams(work_dir=str(home / "live"), profile=profile, **options)


def warehouse_from_env(profile: str, home: Path) -> WarehouseResource:
    """The analytics warehouse: the DuckDB file (``CLIPPED_WAREHOUSE_PATH``, default ``{home}/warehouse.duckdb``)
    built from the raw Parquet in local storage, or in prod in the storage bucket (same variables as the storage)."""
    env = os.environ
    database_path = env.get("CLIPPED_WAREHOUSE_PATH") or str(home / "warehouse.duckdb")
    if profile != "prod":
        return WarehouseResource(database_path=database_path, storage_root=str(home / "storage"))
    bucket = env.get("CLIPPED_S3_BUCKET", "").strip()
    if not bucket:
        raise ValueError("the prod profile needs CLIPPED_S3_BUCKET (the bucket that holds the raw analytics Parquet)")
    return WarehouseResource(
        database_path=database_path,
        s3_bucket=bucket,
        s3_endpoint_url=env.get("CLIPPED_S3_ENDPOINT_URL") or None,
        s3_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
    )


def dbt_resource(profile: str) -> DbtCliResource:
    """dbt on the dbt_analytics project with its committed profiles.yml; the dbt target is named after the profile
    (``local``: raw Parquet from disk, ``prod``: from S3; the same models)."""
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        target=profile,
        dbt_executable=dbt_executable(),
    )


def publisher_from_env(profile: str, home: Path) -> PublisherResource:
    """The publisher: store URL, token keys and each platform's app from ``CLIPPED_*`` variables (docs: README
    "Publishing"). Secrets stay in the environment; the resource only names the variables."""
    env = os.environ
    database_url = (
        env.get("CLIPPED_PUBLISH_DATABASE_URL") or env.get("CLIPPED_API_DATABASE_URL") or f"sqlite:///{home / 'app.db'}"
    )
    apps = {}
    for platform in PLATFORMS:
        prefix = f"CLIPPED_{platform.upper()}"
        apps[platform] = PlatformApp(
            client_id=env.get(f"{prefix}_CLIENT_ID", ""),
            client_secret_env=f"{prefix}_CLIENT_SECRET",
            urls=_json_object(env, f"{prefix}_URLS"),
            options={k: v for k, v in _json_object(env, f"{prefix}_OPTIONS").items() if not isinstance(v, bool)},
            flags={k: v for k, v in _json_object(env, f"{prefix}_OPTIONS").items() if isinstance(v, bool)},
        )
    return PublisherResource(
        database_url=database_url,
        token_keys_file="" if profile == "prod" else str(home / "token_keys"),
        redirect_base_url=env.get("CLIPPED_PUBLIC_URL", "http://127.0.0.1:8000"),
        **apps,
    )


def _json_object(env: Mapping[str, str], name: str) -> dict:
    raw = env.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} must be a JSON object: {exc.msg}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object")
    return value
