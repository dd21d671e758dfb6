"""Platform tokens at rest: encrypted with MultiFernet, so keys rotate without a window where tokens cannot be read.

The first key encrypts; every key decrypts. Rotating = put a new key first, re-encrypt every stored token
(:meth:`TokenVault.rotate`), then remove the old key once nothing needs it.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from clipped.publish.models import TokenGrant


class VaultKeyError(ValueError):
    """No key, a malformed key, or a token that none of the configured keys can decrypt."""


class TokenVault:
    """Encrypts token grants with the first of ``keys`` and decrypts with any of them."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise VaultKeyError("no token encryption key configured (CLIPPED_TOKEN_KEYS)")
        try:
            self._fernet = MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
        except (ValueError, TypeError) as exc:
            raise VaultKeyError("a token encryption key is not a valid Fernet key (32 url-safe base64 bytes)") from exc

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def seal(self, grant: TokenGrant) -> str:
        return self._fernet.encrypt(grant.model_dump_json().encode()).decode()

    def open(self, sealed: str) -> TokenGrant:
        try:
            return TokenGrant.model_validate_json(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise VaultKeyError("a stored token cannot be decrypted with the configured keys") from None

    def seal_text(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open_text(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise VaultKeyError("a stored secret cannot be decrypted with the configured keys") from None

    def rotate(self, sealed: str) -> str:
        """``sealed`` re-encrypted with the first key (whatever key it was sealed with)."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise VaultKeyError("a stored token cannot be decrypted with the configured keys") from None
