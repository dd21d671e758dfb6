"""Which URLs ingest may fetch: https on an allowlist of video sites, never a private address (SSRF)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
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
) -> str:
    """Return ``url`` if ingest may fetch it, else raise :class:`DisallowedUrlError` saying why.

    Checks the scheme, credentials, port, the domain allowlist, and that every address the host resolves to
    is public (a DNS name pointing at 127.0.0.1 or 169.254.169.254 is refused as well as a literal IP).
    """
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


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
