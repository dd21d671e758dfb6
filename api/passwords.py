"""Password hashing with argon2id (argon2-cffi defaults, RFC 9106 low-memory profile), and the password policy:
at least ``MIN_PASSWORD_LENGTH`` characters, not a common or breached password, not the email itself."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
# The 8+ character entries of zxcvbn's 30,000 most common passwords (from leaked credential dumps), lowercased;
# source and licence in common_passwords.LICENSE. Offline: registering never sends a password anywhere.
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "common_passwords.txt.gz"

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a login takes the same time either way.
_DUMMY_HASH = _hasher.hash("clipped-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common and breached passwords (lowercase), read once."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why ``password`` may not be used (for ``email``), or None when it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    folded = password.strip().lower()
    if folded in common_passwords():
        return "this password is too common (it appears in lists of leaked passwords); choose another"
    if email and folded in (email.lower(), email.lower().partition("@")[0]):
        return "the password must not be your email address"
    return None
