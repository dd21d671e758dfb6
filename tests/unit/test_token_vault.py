from datetime import UTC, datetime

import pytest

from clipped.publish.models import TokenGrant
from clipped.publish.token_vault import TokenVault, VaultKeyError

GRANT = TokenGrant(access_token="at-secret-1", refresh_token="rt-secret-1", expires_at=datetime(2027, 1, 1, tzinfo=UTC))


def test_sealed_tokens_are_not_readable_and_open_to_the_same_grant():
    vault = TokenVault([TokenVault.new_key()])
    sealed = vault.seal(GRANT)
    assert "at-secret-1" not in sealed and "rt-secret-1" not in sealed
    assert vault.open(sealed) == GRANT


def test_rotation_re_encrypts_with_the_new_key_and_old_keys_keep_decrypting_until_removed():
    old, new = TokenVault.new_key(), TokenVault.new_key()
    sealed_old = TokenVault([old]).seal(GRANT)
    both = TokenVault([new, old])
    assert both.open(sealed_old) == GRANT  # still readable while the old key is listed
    rotated = both.rotate(sealed_old)
    assert TokenVault([new]).open(rotated) == GRANT
    with pytest.raises(VaultKeyError):
        TokenVault([new]).open(sealed_old)


def test_missing_or_malformed_keys_are_refused_without_echoing_them():
    with pytest.raises(VaultKeyError, match="no token encryption key"):
        TokenVault([])
    with pytest.raises(VaultKeyError) as error:
        TokenVault(["not-a-key-secret"])
    assert "not-a-key-secret" not in str(error.value)
