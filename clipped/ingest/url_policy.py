"""Which URLs ingest may fetch: https on an allowlist of video sites, never a private address (SSRF).

Validating the first URL is not enough: a downloader resolves the name again (DNS rebinding) and follows redirects
(an open redirect on an allowed site). :func:`public_connections_only` guards every connection made inside it, at
the socket, against the same rules.

Live streams (:func:`validate_stream_url`) also accept an http(s) HLS playlist on any public host. Loopback
addresses are refused everywhere unless a caller passes ``allow_loopback=True``: a test-only allowance (the tests'
local HLS server), which no profile turns on.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from urllib.parse import urlsplit

ALLOWED_VIDEO_DOMAINS = (
    "youtube.com",
    "youtu.be",
    "twitch.tv",
    "vimeo.com",
    "tiktok.com",
    "instagram.com",
    "x.com",
)

Resolver = Callable[[str], Iterable[str]]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})
HLS_SUFFIXES = (".m3u8", ".m3u")


class DisallowedUrlError(ValueError):
    """A URL that ingest refuses to fetch."""


def resolve_host(host: str) -> list[str]:
    """All addresses ``host`` resolves to (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise DisallowedUrlError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
    return sorted({str(info[4][0]) for info in infos})


def host_is_allowed(host: str, allowed_domains: Iterable[str] = ALLOWED_VIDEO_DOMAINS) -> bool:
    """True for an allowed domain or one of its subdomains (``m.youtube.com``), never a look-alike."""
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in allowed_domains)


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def validate_video_url(
    url: str,
    *,
    allowed_domains: Iterable[str] = ALLOWED_VIDEO_DOMAINS,
    resolver: Resolver = resolve_host,
    allow_loopback: bool = False,
) -> str:
    """Return ``url`` if ingest may fetch it, else raise :class:`DisallowedUrlError` saying why.

    Checks the scheme, credentials, port, the domain allowlist, and that every address the host resolves to
    is public (a DNS name pointing at 127.0.0.1 or 169.254.169.254 is refused as well as a literal IP).
    ``allow_loopback`` (tests only) lets a literal 127.0.0.1 / ::1 URL through, on any port, http or https.
    """
    if allow_loopback and is_loopback_url(url):
        return url.strip()
    parts = urlsplit(url.strip())
    if parts.scheme != "https":
        raise DisallowedUrlError(f"only https URLs are allowed, got {parts.scheme or 'no'} scheme")
    if parts.username or parts.password:
        raise DisallowedUrlError("URLs with credentials are not allowed")
    host = parts.hostname
    if not host:
        raise DisallowedUrlError(f"URL has no host: {url!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise DisallowedUrlError(f"URL has an invalid port: {url!r}") from exc
    if port not in (None, 443):
        raise DisallowedUrlError(f"port {port} is not allowed, only 443")
    if _is_ip_literal(host):
        if not is_public_address(host):
            raise DisallowedUrlError(f"address {host} is private, loopback or link-local")
        raise DisallowedUrlError(f"host {host} is not on the allowlist ({', '.join(allowed_domains)})")
    if not host_is_allowed(host, allowed_domains):
        raise DisallowedUrlError(f"host {host} is not on the allowlist ({', '.join(allowed_domains)})")
    addresses = list(resolver(host))
    if not addresses:
        raise DisallowedUrlError(f"host {host} resolves to no address")
    for address in addresses:
        if not is_public_address(address):
            raise DisallowedUrlError(f"host {host} resolves to {address}, a private, loopback or link-local address")
    return url.strip()


def is_loopback_url(url: str) -> bool:
    """True for an http(s) URL whose host is the literal loopback address (what the test allowance admits)."""
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and not parts.username and (parts.hostname or "") in LOOPBACK_HOSTS


def check_public_host(host: str, *, resolver: Resolver = resolve_host, allow_loopback: bool = False) -> None:
    """Raise :class:`DisallowedUrlError` unless every address ``host`` resolves to is public.

    For each request a stream reader makes (playlists, segments, redirects), not just the first URL: a playlist
    may point its segments anywhere. ``allow_loopback`` (tests only) admits the literal loopback addresses.
    """
    host = host.lower().strip("[]")
    if allow_loopback and host in LOOPBACK_HOSTS:
        return
    addresses = [host] if _is_ip_literal(host) else list(resolver(host))
    if not addresses:
        raise DisallowedUrlError(f"host {host} resolves to no address")
    for address in addresses:
        if not is_public_address(address):
            raise DisallowedUrlError(f"host {host} resolves to {address}, a private, loopback or link-local address")


def validate_stream_url(
    url: str,
    *,
    allowed_domains: Iterable[str] = ALLOWED_VIDEO_DOMAINS,
    resolver: Resolver = resolve_host,
    allow_loopback: bool = False,
) -> str:
    """Return ``url`` if it may be recorded as a live stream, else raise :class:`DisallowedUrlError`.

    A page on an allowlisted site (https, as for ingest; streamlink's plugin for the site reads it) or an http(s)
    HLS playlist (path ending in ``.m3u8``) on any host whose addresses are all public, on the default port.
    ``allow_loopback`` (tests only) admits ``http://127.0.0.1:<port>/...`` playlists.
    """
    url = url.strip()
    if allow_loopback and is_loopback_url(url):
        return url
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https"):
        raise DisallowedUrlError(f"only http(s) stream URLs are allowed, got {parts.scheme or 'no'} scheme")
    if parts.username or parts.password:
        raise DisallowedUrlError("URLs with credentials are not allowed")
    if not host:
        raise DisallowedUrlError(f"URL has no host: {url!r}")
    if host_is_allowed(host, allowed_domains):
        return validate_video_url(url, allowed_domains=allowed_domains, resolver=resolver)
    if not parts.path.lower().endswith(HLS_SUFFIXES):
        raise DisallowedUrlError(
            f"host {host} is not on the allowlist ({', '.join(allowed_domains)}) and {parts.path or '/'} is not an "
            "HLS playlist (.m3u8)"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise DisallowedUrlError(f"URL has an invalid port: {url!r}") from exc
    if port not in (None, 80, 443):
        raise DisallowedUrlError(f"port {port} is not allowed, only 80 and 443")
    check_public_host(host, resolver=resolver)
    return url


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class BlockedConnectionError(ConnectionRefusedError):
    """A connection to a non-public address, refused inside :func:`public_connections_only` before it is made.

    An ``OSError``, so a downloader reports it like any failed connection (and tries no other way around it).
    """


# The rule for connections made in this context (thread or task); None: not guarded.
_connection_rule: ContextVar[tuple[bool] | None] = ContextVar("clipped_connection_rule", default=None)
_install_lock = threading.Lock()
_installed = False


def _check_connect(sock: socket.socket, address: object) -> None:
    rule = _connection_rule.get()
    if rule is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    (allow_loopback,) = rule
    host = str(address[0]) if isinstance(address, tuple) and address else str(address)
    try:
        public = is_public_address(host)
    except ValueError:  # a name: connect would resolve it after this check, so it could differ; refuse it
        public = False
    if not public and not (allow_loopback and host.strip("[]") in LOOPBACK_HOSTS):
        raise BlockedConnectionError(f"connection to {host} refused: not a public address")


def _install_connect_guard() -> None:
    """Wrap ``socket.socket.connect``/``connect_ex`` once per process; they only check inside a guarded context, so
    every other connection of the process (databases, the API's own clients) is untouched."""
    global _installed
    with _install_lock:
        if _installed:
            return
        connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

        def guarded_connect(self: socket.socket, address: object) -> None:
            _check_connect(self, address)
            return connect(self, address)

        def guarded_connect_ex(self: socket.socket, address: object) -> int:
            _check_connect(self, address)
            return connect_ex(self, address)

        socket.socket.connect = guarded_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
        _installed = True


@contextlib.contextmanager
def public_connections_only(*, allow_loopback: bool = False) -> Iterator[None]:
    """Inside this block, in this thread, every TCP connection must go to a public address: each one (every
    redirect hop, every fragment, a name that resolves differently now than when it was validated) is checked at
    the socket with the address actually being connected to, else :class:`BlockedConnectionError`.

    Threads started inside do not inherit the guard: run the downloader single-threaded within it.
    ``allow_loopback`` (tests only) admits the literal loopback addresses, as for :func:`validate_video_url`.
    """
    _install_connect_guard()
    token = _connection_rule.set((allow_loopback,))
    try:
        yield
    finally:
        _connection_rule.reset(token)
