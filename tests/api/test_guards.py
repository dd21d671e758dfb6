"""What guards every request: the JSON body-size cap (by Content-Length and by counting a chunked body), security
headers (CSP, nosniff, framing, referrer, HSTS in prod), docs served from a package or not at all, and tokens kept
out of the access log."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

from api.access_log import ACCESS_LOGGER, REDACTED, RedactSecrets, redact_url
from tests.api.conftest import ApiHarness, make_harness, s3_harness
from tests.api.test_auth import assert_error
from tests.api.test_uploads import ticket
from tests.api.world import FAKE_MP4

CAP = 64 * 1024


def _chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    yield b'{"source_url": "'
    for _ in range(total // size):
        yield b"a" * size


def test_json_bodies_over_the_cap_are_refused_before_parsing(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    account = api.register()
    assert api.state.settings.max_json_body_bytes == CAP
    huge = b'{"email": "a@example.com", "password": "' + b"x" * (CAP + 1) + b'"}'
    declared = api.client.post("/api/auth/login", content=huge, headers={"Content-Type": "application/json"})
    assert_error(declared, 413, "payload_too_large")
    streamed = api.client.post(
        "/api/jobs", content=_chunks(4 * CAP), headers={**account.headers, "Content-Type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in streamed.request.headers}  # chunked: counted as read
    assert_error(streamed, 413, "payload_too_large")
    # Under the cap, bodies go through as before.
    small = api.client.post("/api/jobs", headers=account.headers, json={"source_url": "https://10.0.0.1/a.mp4"})
    assert_error(small, 422, "url_not_allowed")


def test_uploads_keep_their_own_larger_limit(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    account = api.register()
    body = FAKE_MP4 + b"\x00" * (2 * CAP)
    upload = ticket(api, account, size=len(body)).json()
    stored = api.client.put(upload["url"], content=body, headers=upload["headers"])
    assert stored.status_code == 200 and stored.json()["size"] == len(body)


def _assert_security_headers(response, *, hsts: bool) -> str:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert ("Strict-Transport-Security" in headers) is hsts
    csp = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == "'none'"
    return csp


def test_security_headers_on_api_web_and_errors(sqlite_api: ApiHarness) -> None:
    api = sqlite_api
    account = api.register()
    for response in (
        api.client.get("/api/me", headers=account.headers),
        api.client.get("/"),
        api.client.get("/app.js"),
        api.client.get("/api/no-such-route"),
        api.client.post("/api/auth/login", content=b"x" * (CAP + 1)),
    ):
        csp = _assert_security_headers(response, hsts=False)
        assert "http" not in csp  # local storage: everything comes from this origin
    # The web app has no inline script or style for the policy to block.
    page = api.client.get("/").text
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [] and "<style" not in page
    assert " style=" not in page and "onclick=" not in page


def test_hsts_in_prod_and_object_storage_in_the_policy(api_env, tmp_path: Path, s3_bucket, monkeypatch) -> None:
    harness = s3_harness(api_env, tmp_path, s3_bucket, monkeypatch)
    assert harness.state.settings.hsts
    with harness.client:
        csp = _assert_security_headers(harness.client.get("/api/health"), hsts=True)
    origin = s3_bucket.endpoint_url.rstrip("/")
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    for name in ("media-src", "img-src", "connect-src"):  # presigned media and uploads
        assert origin in directives[name].split(), (name, directives[name])
    assert origin not in directives["script-src"]


def test_no_docs_page_without_the_swagger_package(sqlite_api: ApiHarness, monkeypatch) -> None:
    import api.docs

    monkeypatch.setattr(api.docs, "swagger_ui_dir", lambda: None)
    harness = make_harness((sqlite_api.home, sqlite_api.media), sqlite_api.state.settings.database_url, None)
    with harness.client as client:
        assert client.get("/api/docs").status_code == 404
        assert "/api/jobs" in client.get("/api/openapi.json").json()["paths"]


def test_docs_page_is_served_from_the_package(sqlite_api: ApiHarness, tmp_path: Path, monkeypatch) -> None:
    import api.docs

    bundle = tmp_path / "swagger-ui"
    bundle.mkdir()
    (bundle / "swagger-ui-bundle.js").write_text("window.SwaggerUIBundle = function () {};")
    (bundle / "swagger-ui.css").write_text("body {}")
    monkeypatch.setattr(api.docs, "swagger_ui_dir", lambda: bundle)
    harness = make_harness((sqlite_api.home, sqlite_api.media), sqlite_api.state.settings.database_url, None)
    with harness.client as client:
        docs = client.get("/api/docs")
        assert docs.status_code == 200
        assert re.findall(r"(?:src|href)=\"([^\"]+)\"", docs.text) == [
            "/api/docs/assets/swagger-ui.css",
            "/api/docs/assets/favicon-32x32.png",
            "/api/docs/assets/swagger-ui-bundle.js",
        ]
        assert "https://" not in docs.text and "http://" not in docs.text
        inline = re.search(r"<script>(.*?)</script>", docs.text, re.DOTALL).group(1)
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        script_src = next(p for p in docs.headers["Content-Security-Policy"].split(";") if "script-src" in p)
        assert script_src.split()[1:] == ["'self'", f"'sha256-{digest}'"]
        assert client.get("/api/docs/assets/swagger-ui-bundle.js").text.startswith("window.SwaggerUIBundle")
        assert "/api/docs" not in client.get("/api/openapi.json").json()["paths"]


def test_the_installed_swagger_package_is_found_when_present() -> None:
    from api.docs import swagger_ui_dir

    try:
        import swagger_ui_bundle  # noqa: F401
    except ImportError:
        assert swagger_ui_dir() is None
    else:
        assert (swagger_ui_dir() / "swagger-ui-bundle.js").is_file()


def test_access_log_lines_lose_their_tokens() -> None:
    assert redact_url("/api/clips/c/video?version=2&token=eyJ.a.b") == f"/api/clips/c/video?version=2&token={REDACTED}"
    callback = redact_url("/api/oauth/x/callback?state=s1&code=c2")
    assert callback == f"/api/oauth/x/callback?state={REDACTED}&code={REDACTED}"
    assert redact_url("/api/jobs?page=2") == "/api/jobs?page=2"
    record = logging.LogRecord(
        ACCESS_LOGGER, logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "PUT", "/api/uploads/up_1/content?token=secret-upload-token", "1.1", 200), None,
    )  # fmt: skip
    assert RedactSecrets().filter(record)
    assert "secret-upload-token" not in record.getMessage() and REDACTED in record.getMessage()


def test_the_app_installs_the_redaction_on_uvicorns_access_logger(sqlite_api: ApiHarness) -> None:
    filters = logging.getLogger(ACCESS_LOGGER).filters
    assert sum(isinstance(existing, RedactSecrets) for existing in filters) == 1


def test_the_installed_swagger_package_is_found() -> None:
    import api.docs

    bundle = api.docs.swagger_ui_dir()
    assert bundle is not None and (bundle / "swagger-ui-bundle.js").is_file()
