"""`clipped keys rotate`: every stored platform token is re-encrypted with the newest key, so the old one can go."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from clipped.publish.models import TokenGrant
from clipped.publish.records import Account
from clipped.publish.token_vault import TokenVault
from clipped_app.cli import app
from clipped_resources.publishing_store import SqlPublishingStore

GRANT = TokenGrant(access_token="access-value-1", refresh_token="refresh-value-1")


def test_rotate_reseals_every_token_with_the_new_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    old, new = TokenVault.new_key(), TokenVault.new_key()
    database = f"sqlite:///{tmp_path / 'app.db'}"
    store = SqlPublishingStore(database)
    for index in range(3):
        store.save_account(
            Account(
                workspace_id="ws1",
                platform="x",
                platform_account_id=str(index),
                display_name=f"a{index}",
                sealed_grant=TokenVault([old]).seal(GRANT),
            )
        )
    monkeypatch.setenv("CLIPPED_HOME", str(tmp_path))
    monkeypatch.setenv("CLIPPED_PUBLISH_DATABASE_URL", database)
    monkeypatch.setenv("CLIPPED_TOKEN_KEYS", f"{new},{old}")
    result = CliRunner().invoke(app, ["keys", "rotate", "--profile", "local"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 3 account tokens" in result.output
    assert "access-value-1" not in result.output
    only_new = TokenVault([new])
    assert all(only_new.open(account.sealed_grant) == GRANT for account in store.all_accounts())


def test_rotate_with_a_key_that_cannot_open_the_tokens_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    database = f"sqlite:///{tmp_path / 'app.db'}"
    SqlPublishingStore(database).save_account(
        Account(
            workspace_id="ws1",
            platform="x",
            platform_account_id="1",
            display_name="a",
            sealed_grant=TokenVault([TokenVault.new_key()]).seal(GRANT),
        )
    )
    monkeypatch.setenv("CLIPPED_HOME", str(tmp_path))
    monkeypatch.setenv("CLIPPED_PUBLISH_DATABASE_URL", database)
    monkeypatch.setenv("CLIPPED_TOKEN_KEYS", TokenVault.new_key())
    result = CliRunner().invoke(app, ["keys", "rotate", "--profile", "local"])
    assert result.exit_code == 1 and "cannot be decrypted" in result.output


def test_new_prints_a_usable_key():
    result = CliRunner().invoke(app, ["keys", "new"])
    assert result.exit_code == 0
    TokenVault([result.output.strip()])
