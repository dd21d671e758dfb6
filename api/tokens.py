"""Access tokens (HS256 JWT, algorithm pinned), opaque refresh tokens and API tokens (both stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
API_TOKEN_PREFIX = "clp_"


class InvalidTokenError(Exception):
    """Expired, tampered, wrong algorithm, wrong type: the caller learns only that it is invalid."""


def issue_access_token(user_id: str, secret: str, ttl_s: int, *, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    claims = {
        "sub": user_id,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_s)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def issue_purpose_token(subject: str, purpose: str, secret: str, ttl_s: int) -> str:
    """A short-lived signed token for one purpose (e.g. the local upload URL), useless for anything else."""
    now = datetime.now(UTC)
    claims = {"sub": subject, "typ": purpose, "exp": int((now + timedelta(seconds=ttl_s)).timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str, expected_type: str = "access") -> str:
    """The subject of a valid token of ``expected_type``; anything else raises InvalidTokenError."""
    try:
        # `algorithms` pins HS256: 'none', RS256/HS512 headers and key-confusion tricks are refused.
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "typ"]})
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc
    if claims.get("typ") != expected_type or not isinstance(claims.get("sub"), str):
        raise InvalidTokenError("wrong token type")
    return claims["sub"]


def new_opaque_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are 256 random bits, so a plain SHA-256 is enough (no KDF needed to resist guessing)."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_api_token(token: str) -> bool:
    return token.startswith(API_TOKEN_PREFIX)
