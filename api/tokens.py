"""Access tokens (HS256 JWT, algorithm pinned), opaque refresh tokens and API tokens (both stored as SHA-256),
and link tokens: signed, short-lived, scoped to one resource, for URLs that cannot carry a header."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import uuid
from dataclasses import dataclass
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


def decode_access_token(token: str, secret: str) -> str:
    """The user id of a valid access token; anything else (a link token included) raises InvalidTokenError."""
    try:
        # `algorithms` pins HS256: 'none', RS256/HS512 headers and key-confusion tricks are refused.
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "typ"]})
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc
    if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
        raise InvalidTokenError("wrong token type")
    return claims["sub"]


@dataclass(frozen=True)
class LinkGrant:
    """What a valid link token grants: ``resource`` only, on behalf of the user (and API token) that asked for it."""

    resource: str
    user_id: str
    api_token_id: str | None = None


def _link_key(secret: str, purpose: str) -> bytes:
    # Each purpose signs with its own derived key (and names its own audience), so a link token can never pass
    # as an access token, nor a media link as an event-stream or upload link, even if a type check were missed.
    return hmac.new(secret.encode(), f"clipped-link/{purpose}".encode(), hashlib.sha256).digest()


def _audience(purpose: str) -> str:
    return f"clipped:{purpose}"


def issue_link_token(
    grant: LinkGrant, purpose: str, secret: str, ttl_s: int, *, round_s: int = 1, now: datetime | None = None
) -> str:
    """A link token for ``grant.resource``, valid ``ttl_s`` (rounded up to a multiple of ``round_s``).

    Rounding the expiry makes the same link (so the same URL, which browsers cache) come back for a while.
    """
    now = now or datetime.now(UTC)
    expires = math.ceil((now.timestamp() + ttl_s) / round_s) * round_s
    claims: dict[str, object] = {
        "sub": grant.resource,
        "typ": purpose,
        "aud": _audience(purpose),
        "uid": grant.user_id,
        "exp": int(expires),
    }
    if grant.api_token_id is not None:
        claims["tok"] = grant.api_token_id
    return jwt.encode(claims, _link_key(secret, purpose), algorithm=ALGORITHM)


def decode_link_token(token: str, purpose: str, secret: str) -> LinkGrant:
    """The grant of a valid, unexpired link token of ``purpose``; anything else raises InvalidTokenError."""
    try:
        claims = jwt.decode(
            token,
            _link_key(secret, purpose),
            algorithms=[ALGORITHM],
            audience=_audience(purpose),
            options={"require": ["exp", "sub", "typ", "aud", "uid"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc
    resource, user_id, api_token_id = claims.get("sub"), claims.get("uid"), claims.get("tok")
    if claims.get("typ") != purpose or not isinstance(resource, str) or not isinstance(user_id, str):
        raise InvalidTokenError("wrong token type")
    if api_token_id is not None and not isinstance(api_token_id, str):
        raise InvalidTokenError("malformed link token")
    return LinkGrant(resource=resource, user_id=user_id, api_token_id=api_token_id)


def new_opaque_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are 256 random bits, so a plain SHA-256 is enough (no KDF needed to resist guessing)."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_api_token(token: str) -> bool:
    return token.startswith(API_TOKEN_PREFIX)
