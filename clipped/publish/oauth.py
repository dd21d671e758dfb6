"""OAuth 2 authorization-code helpers shared by the platforms: PKCE (S256), state values, expiry from ``expires_in``."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta


def new_code_verifier() -> str:
    """A PKCE code verifier (RFC 7636: 43–128 characters from the unreserved set)."""
    return secrets.token_urlsafe(64)[:96]


def code_challenge_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    return secrets.token_urlsafe(32)


def expires_at(expires_in: object, now: datetime | None = None) -> datetime | None:
    """Absolute expiry from a token response's ``expires_in`` seconds (None when absent or not a number)."""
    try:
        seconds = float(expires_in)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return (now or datetime.now(UTC)) + timedelta(seconds=seconds)
