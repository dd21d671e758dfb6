"""ASGI middleware that acts before a request reaches the routes: the client address behind trusted proxies,
security headers on every response, attempts counted per address before a body is read, and a body-size cap.

Pure ASGI (not ``BaseHTTPMiddleware``) so a refused request is answered without reading its body.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import TRACE_HEADER
from api.rate_limit import RateLimiter, address_key

KIB = 1024
# Routes that take a media body and count its bytes themselves against their own (larger) cap as they arrive:
# upload content (the declared size), a brand kit's intro and outro (50 MB) and its logo (5 MB).
UPLOAD_CONTENT = re.compile(r"^/api/(uploads/[^/]+/content|workspaces/[^/]+/brand-kit/(intro|outro|logo))$")


async def send_error(
    send: Send, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> None:
    """The app's error schema, answered from middleware (before any route or exception handler runs)."""
    trace_id = uuid.uuid4().hex
    body = json.dumps({"error": {"code": code, "message": message, "trace_id": trace_id}}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (TRACE_HEADER.lower().encode(), trace_id.encode()),
        *((name.lower().encode(), value.encode()) for name, value in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def is_upload_content(method: str, path: str) -> bool:
    return method == "PUT" and UPLOAD_CONTENT.match(path) is not None


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413: at once by Content-Length, and by counting the bytes of a
    chunked body as they are read (so nothing larger is ever buffered or parsed). ``exempt(method, path)`` routes
    enforce their own limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, exempt: Callable[[str, str], bool] = is_upload_content):
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        message = f"request body is larger than {self.max_bytes // KIB} KiB"
        length = _header(scope, b"content-length")
        if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
            await send_error(send, 413, "payload_too_large", message)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > self.max_bytes:
                    # Raised where the route reads its body: FastAPI passes HTTPException through to the app's
                    # handler, which answers with the error schema.
                    raise HTTPException(413, message)
            return event

        await self.app(scope, counted, send)


class AttemptLimit:
    """Spend one token of ``limiter`` per client address for each request to ``paths`` ({(method, path): action}),
    before its body is read or validated: a flood of huge or malformed bodies is counted like any attempt."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, paths: Mapping[tuple[str, str], str]):
        self.app = app
        self.limiter = limiter
        self.paths = dict(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        action = self.paths.get((scope.get("method", ""), scope.get("path", ""))) if scope["type"] == "http" else None
        if action is not None:
            client = scope.get("client")
            wait = self.limiter.take(f"{action}:{address_key(client[0] if client else None)}")
            if wait > 0:
                retry = {"Retry-After": str(int(wait) + 1)}
                await send_error(send, 429, "rate_limited", "too many attempts; try again later", retry)
                return
        await self.app(scope, receive, send)


def content_security_policy(extra_media_origins: tuple[str, ...] = (), script_hashes: tuple[str, ...] = ()) -> str:
    """Same-origin everything, no inline script (except the given hashes), no plugins, never framed.

    ``extra_media_origins``: where presigned media and uploads go (object storage), for <video>, <img> and the
    upload request.
    """
    media = " ".join(("'self'", *extra_media_origins))
    scripts = " ".join(("'self'", *(f"'sha256-{digest}'" for digest in script_hashes)))
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self'",
            f"img-src {media} data: blob:",
            f"media-src {media} blob:",
            f"connect-src {media}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(csp: str, *, hsts: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if hsts:  # only where the service is reached over https (the prod profile, behind TLS)
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


class SecurityHeaders:
    """Add ``headers`` to every HTTP response that does not set its own (the docs page has its own CSP)."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]):
        self.app = app
        self.headers = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                missing = [(name, value) for name, value in self.headers if name not in present]
                message = {**message, "headers": [*message.get("headers", ()), *missing]}
            await send(message)

        await self.app(scope, receive, with_headers)
