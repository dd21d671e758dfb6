"""Registration refuses short, common and breached passwords (an offline list) and the email as password; the
app database is private to its owner."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from api.db import make_engine
from api.passwords import common_passwords, password_problem
from tests.api.conftest import PASSWORD, ApiHarness
from tests.api.test_auth import assert_error


@pytest.mark.parametrize("password", ["password", "Password", "12345678", "qwerty123", "iloveyou", "PASSWORD1 "])
def test_common_passwords_are_refused(sqlite_api: ApiHarness, password: str) -> None:
    refused = sqlite_api.client.post("/api/auth/register", json={"email": "c@example.com", "password": password})
    error = assert_error(refused, 422, "validation_error")
    assert error["message"].startswith("password:") and "too common" in error["message"]


def test_short_and_email_passwords_are_refused_and_a_good_one_passes(sqlite_api: ApiHarness) -> None:
    post = sqlite_api.client.post
    short = assert_error(post("/api/auth/register", json={"email": "s@example.com", "password": "Zq9!x"}), 422)
    assert "at least 8" in short["message"]
    same = post("/api/auth/register", json={"email": "someone.long@example.com", "password": "Someone.Long"})
    assert "email" in assert_error(same, 422)["message"]
    assert post("/api/auth/register", json={"email": "s@example.com", "password": PASSWORD}).status_code == 201


def test_the_list_is_large_and_lowercase() -> None:
    listed = common_passwords()
    assert len(listed) > 10_000 and all(entry == entry.lower() and len(entry) >= 8 for entry in listed)
    assert password_problem("correct horse battery") is None
    assert password_problem("football1") is not None


def test_sqlite_database_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "app.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        connection.commit()
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for sidecar in path.parent.glob("app.db-*"):
        assert stat.S_IMODE(sidecar.stat().st_mode) & 0o077 == 0, sidecar
    path.chmod(0o644)  # a database created by an older version is narrowed
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
