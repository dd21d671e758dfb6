"""Interactive API docs (Swagger UI) served from an installed package, never a CDN, under a CSP that admits only
their one inline script by hash; and the object store's origins the web app's CSP must admit."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request

from api.middleware import content_security_policy
from clipped_resources.storage import StorageResource

DOCS_URL = "/api/docs"
ASSETS_URL = f"{DOCS_URL}/assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_PROBE_KEY = "csp-probe/probe.mp4"


def swagger_ui_dir() -> Path | None:
    """The Swagger UI files of the ``swagger-ui-bundle`` package, or None when it is not installed."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    path = Path(str(swagger_ui_path))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def install_docs(app: FastAPI, url: str = DOCS_URL) -> bool:
    """Serve Swagger UI at ``url`` from the installed package; without the package there is no docs page (the
    schema stays at ``app.openapi_url``). True when installed."""
    assets = swagger_ui_dir()
    if assets is None or app.openapi_url is None:
        return False
    app.mount(ASSETS_URL, StaticFiles(directory=assets), name="docs-assets")
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url,
        title=f"{app.title} - docs",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
    ).body
    hashes = tuple(
        base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        for script in _INLINE_SCRIPT.findall(page.decode())
    )
    # Swagger UI sets style attributes from its markup: inline styles on this page only, never inline scripts.
    csp = content_security_policy(script_hashes=hashes).replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

    async def docs(_request: Request) -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"})

    app.add_route(url, docs, include_in_schema=False)
    return True


def storage_origins(storage: StorageResource) -> tuple[str, ...]:
    """Origins of the presigned download and upload URLs ``storage`` hands out (none for local storage), which the
    browser loads media from and posts uploads to. Presigning is local (no request is made)."""
    urls: list[str] = []
    try:
        if (download := storage.presigned_get(_PROBE_KEY)) is not None:
            urls.append(download)
        if (upload := storage.presigned_put(_PROBE_KEY, "video/mp4", max_bytes=1)) is not None:
            urls.append(upload.url)
    except Exception:  # a store that cannot presign here: the web app then only loads from this origin
        return ()
    origins = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc and f"{parts.scheme}://{parts.netloc}" not in origins:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(origins)
