"""SSRF after validation: the downloader may only connect to public addresses, hop by hop. A redirect stand-in (a
127.0.0.1 server that redirects to 127.0.0.2 or 169.254.169.254) and a resolver stand-in (a name that validates as
public and then resolves to a private address) must reach nothing; the generic extractor is off."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from yt_dlp import YoutubeDL
from yt_dlp.networking.exceptions import TransportError

from clipped.ingest.fetch import SourceAccessError, download_url
from clipped.ingest.url_policy import BlockedConnectionError, public_connections_only


class _Recorder(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        target = self.server.redirects.get(self.path)
        if target:
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()
            return
        body = b"internal secret"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@contextmanager
def _server(host: str, redirects: dict[str, str] | None = None) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer((host, 0), _Recorder)
    server.hits, server.redirects = [], redirects or {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _url(server: ThreadingHTTPServer, path: str) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{path}"


@pytest.fixture
def internal() -> Iterator[ThreadingHTTPServer]:
    """What an attacker wants to reach: a service on another loopback address (as a metadata endpoint would be)."""
    with _server("127.0.0.2") as server:
        yield server


def _open(url: str) -> bytes:
    with YoutubeDL({"quiet": True, "no_warnings": True}) as ydl:
        return ydl.urlopen(url).read()


def test_a_redirect_to_an_internal_address_is_refused_at_the_socket(internal: ThreadingHTTPServer) -> None:
    redirects = {"/video": _url(internal, "/secret"), "/metadata": "http://169.254.169.254/latest/meta-data/"}
    with _server("127.0.0.1", redirects) as entry:
        # The stand-ins work: unguarded, yt-dlp's own networking follows the redirect to the internal service.
        assert _open(_url(entry, "/video")) == b"internal secret" and internal.hits == ["/secret"]
        internal.hits.clear()
        with public_connections_only(allow_loopback=True):
            assert _open(_url(entry, "/plain")) == b"internal secret"  # the allowed first hop itself works
            for path in ("/video", "/metadata"):
                with pytest.raises(TransportError) as caught:
                    _open(_url(entry, path))
                assert "not a public address" in str(caught.value)
        assert entry.hits == ["/video", "/plain", "/video", "/metadata"]
    assert internal.hits == []


def test_a_name_that_resolves_privately_after_validation_is_refused(
    internal: ThreadingHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: vimeo.com validates as public, then resolves to the internal address when yt-dlp connects."""
    real_getaddrinfo = socket.getaddrinfo
    internal_port = internal.server_address[1]

    def rebinding(host, port, *args, **kwargs):
        if str(host).endswith("vimeo.com"):
            return real_getaddrinfo("127.0.0.2", internal_port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(SourceAccessError, match="not a public address"):
        download_url(
            "https://vimeo.com/76979871", tmp_path, max_filesize_bytes=10**6, resolver=lambda _host: ["151.101.0.217"]
        )
    assert internal.hits == [] and list(tmp_path.iterdir()) == []


def test_the_generic_extractor_is_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL no site extractor claims is refused without a single look-up or connection."""

    def no_network(*_args, **_kwargs):
        raise AssertionError("the generic extractor went to the network")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.raises(SourceAccessError, match="No suitable extractor"):
        download_url(
            "https://media.example.com/talk.mp4",
            tmp_path,
            max_filesize_bytes=10**6,
            allowed_domains=("example.com",),
            resolver=lambda _host: ["93.184.216.34"],
        )


def test_the_guard_holds_only_in_its_own_context(internal: ThreadingHTTPServer) -> None:
    with public_connections_only():
        # Another thread (the API's database, a worker) is not restricted.
        results: list[bytes] = []
        worker = threading.Thread(target=lambda: results.append(_open(_url(internal, "/from-thread"))))
        worker.start()
        worker.join(10)
        assert results == [b"internal secret"]
        # Here, names are refused too: connect would resolve them after any check.
        with socket.socket() as sock, pytest.raises(BlockedConnectionError):
            sock.connect(("localhost", internal.server_address[1]))
        with socket.socket() as sock, pytest.raises(BlockedConnectionError):
            sock.connect_ex(internal.server_address)
    assert _open(_url(internal, "/after")) == b"internal secret"
    assert internal.hits == ["/from-thread", "/after"]
