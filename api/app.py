"""The review service app: `create_app(settings)` wires the database, storage, launcher and routes."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.access_log import redact_access_log
from api.db import make_engine, migrate, session_factory
from api.docs import DOCS_URL, install_docs, storage_origins
from api.errors import install_error_handlers
from api.middleware import AttemptLimit, BodySizeLimit, SecurityHeaders, content_security_policy, security_headers
from api.models import Workspace
from api.rate_limit import LoginThrottle, RateLimiter
from api.routes import (
    accounts,
    analytics,
    auth,
    brand,
    clips,
    exports,
    health,
    invitations,
    jobs,
    open_links,
    publications,
    search,
    streams,
    uploads,
    workspaces,
)
from api.services.jobs import relaunch_unstarted
from api.services.launcher import EmbeddedLauncher, GraphQLLauncher, RunLauncher
from api.services.rendering import resume_rerenders
from api.services.stream_supervisor import StreamSupervisor
from api.settings import ApiSettings
from api.state import AppState
from clipped_resources.gpu_runs import clip_job_uses_gpu
from clipped_resources.profiles import active_profile, build_resources

API_VERSION = "1.0.0"
IP_BUCKET_FACTOR = 10


def build_state(settings: ApiSettings, launcher: RunLauncher | None = None) -> AppState:
    engine = make_engine(settings.database_url)
    migrate(engine)
    resources = build_resources()
    state_ref: dict[str, AppState] = {}
    if launcher is None:
        if settings.launcher == "graphql":
            # Runs go through the webserver's instance, so the profile's executor runs their steps.
            uses_gpu = clip_job_uses_gpu(resources["asr"], profile=active_profile())
            launcher = GraphQLLauncher(settings.dagster_graphql_url, uses_gpu=uses_gpu)
        else:
            launcher = EmbeddedLauncher(lambda: state_ref["state"].instance)
    state = AppState(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        storage=resources["storage"],
        ingest_policy=resources["ingest"],
        render_options=resources["render"],
        publisher=resources["publisher"],
        warehouse=resources["warehouse"],
        rate_limiter=RateLimiter(settings.auth_rate_per_minute, settings.auth_rate_burst),
        ip_rate_limiter=RateLimiter(
            settings.auth_rate_per_minute * IP_BUCKET_FACTOR, settings.auth_rate_burst * IP_BUCKET_FACTOR
        ),
        login_throttle=LoginThrottle(
            free_failures=settings.login_free_failures,
            base_s=settings.login_backoff_base_s,
            cap_s=settings.login_backoff_cap_s,
            account_addresses=settings.login_account_addresses,
        ),
        invitation_limiter=RateLimiter(settings.invitations_per_hour / 60.0, settings.invitations_per_hour),
        streams=resources["streams"].service(resources["storage"], resources["ingest"].allowed_domains),
        launcher=launcher,
        vector_store=resources["vector_store"],
    )
    state_ref["state"] = state
    return state


def create_app(settings: ApiSettings | None = None, *, launcher: RunLauncher | None = None) -> FastAPI:
    """The app for ``settings`` (default: from the environment); migrations run here, before the first request."""
    settings = settings or ApiSettings.from_env()
    state = build_state(settings, launcher)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if isinstance(state.launcher, EmbeddedLauncher):
            relaunch_unstarted(state)  # runs queued in memory by a previous process
        resume_rerenders(state)  # re-renders that were in flight when the previous process stopped
        supervisor = stream_supervisor(state)
        if supervisor is not None:
            supervisor.start()
        yield
        if supervisor is not None:
            supervisor.stop()
        state.engine.dispose()

    app = FastAPI(
        title="Clipped review API",
        version=API_VERSION,
        description="Jobs, clips and reviews over the Clipped pipeline. Errors: {error: {code, message, trace_id}}.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served from the installed Swagger UI package, not a CDN (api/docs.py)
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.clipped = state
    # Innermost, next to the routes: its refusal is raised where a route reads the body, and a middleware built on
    # BaseHTTPMiddleware (the trace id's) in between would turn it into a 400.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_json_body_bytes)
    install_error_handlers(app)
    install_docs(app, DOCS_URL)
    for module in (
        health,
        auth,
        workspaces,
        invitations,
        jobs,
        uploads,
        clips,
        exports,
        accounts,
        publications,
        analytics,
        streams,
        search,
        open_links,
        brand,
    ):
        app.include_router(module.router)
    if settings.web_dir.is_dir():
        app.mount("/", StaticFiles(directory=settings.web_dir, html=True), name="web")
    install_guards(app, state)
    redact_access_log()
    return app


def stream_supervisor(state: AppState) -> StreamSupervisor | None:
    """The thread that restarts stale local recorders; none where Dagster runs them (its sensor does) or when
    ``stream_supervise_s`` is 0."""
    if state.streams.runner != "local" or state.settings.stream_supervise_s <= 0:
        return None

    def workspace_ids() -> list[str]:
        with state.sessions() as session:
            return list(session.scalars(select(Workspace.id)))

    return StreamSupervisor(state.streams, workspace_ids, state.settings.stream_supervise_s)


def install_guards(app: FastAPI, state: AppState) -> None:
    """Middleware around every route, outermost first: the client address (X-Forwarded-For only from trusted
    proxies), security headers, CORS, login/register attempts per address; then the trace id and the body-size cap
    (added in create_app)."""
    settings = state.settings
    attempts = {("POST", "/api/auth/login"): "login", ("POST", "/api/auth/register"): "register"}
    app.add_middleware(AttemptLimit, limiter=state.ip_rate_limiter, paths=attempts)
    if settings.cors_origins:  # outside the limits, so their refusals carry CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Workspace-Id", "Range"],
            expose_headers=["X-Trace-Id", "Content-Range", "Accept-Ranges", "Retry-After"],
        )
    csp = content_security_policy((*storage_origins(state.storage), *settings.media_origins))
    app.add_middleware(SecurityHeaders, headers=security_headers(csp, hsts=settings.hsts))
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
