"""Login throttling: exponential backoff per account and address and per account across addresses, the client
address from X-Forwarded-For only behind a configured proxy, attempts counted before the body is read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.rate_limit import LoginThrottle, address_key
from tests.api.conftest import PASSWORD, ApiHarness, make_harness
from tests.api.test_auth import assert_error

EMAIL = "victim@example.com"
WRONG = {"email": EMAIL, "password": "not-the-password"}
RIGHT = {"email": EMAIL, "password": PASSWORD}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _app(api_env, tmp_path: Path, **settings) -> tuple[ApiHarness, TestClient, FakeClock]:
    harness = make_harness(api_env, f"sqlite:///{tmp_path / 'throttle.db'}", None, **settings)
    clock = FakeClock()
    harness.state.login_throttle.clock = clock
    # A peer on the loopback address, as uvicorn sees a local reverse proxy or a local attacker.
    return harness, TestClient(harness.client.app, client=("127.0.0.1", 40000)), clock


@pytest.fixture
def local(api_env, tmp_path: Path) -> Iterator[tuple[TestClient, FakeClock]]:
    harness, client, clock = _app(api_env, tmp_path)
    with client:
        harness.client = client
        harness.register(EMAIL)
        yield client, clock


@pytest.fixture
def proxied(api_env, tmp_path: Path) -> Iterator[tuple[TestClient, FakeClock]]:
    harness, client, clock = _app(api_env, tmp_path, trusted_proxies=["127.0.0.1"])
    with client:
        harness.client = client
        harness.register(EMAIL)
        yield client, clock


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_backoff_doubles_and_the_right_password_works_after_the_window(local) -> None:
    client, clock = local
    assert [client.post("/api/auth/login", json=WRONG).status_code for _ in range(3)] == [401, 401, 401]
    held = client.post("/api/auth/login", json=RIGHT)  # even the right password waits: no oracle while held
    assert_error(held, 429, "rate_limited")
    assert held.headers["Retry-After"] == "2"
    clock.advance(2.1)
    assert client.post("/api/auth/login", json=WRONG).status_code == 401  # the 4th failure doubles the wait
    assert client.post("/api/auth/login", json=RIGHT).headers["Retry-After"] == "4"
    clock.advance(3.0)
    assert client.post("/api/auth/login", json=RIGHT).status_code == 429
    clock.advance(1.1)
    assert client.post("/api/auth/login", json=RIGHT).status_code == 200
    # A success clears the failures: the next mistake is an ordinary 401.
    assert client.post("/api/auth/login", json=WRONG).status_code == 401


def test_backoff_is_capped(api_env, tmp_path: Path) -> None:
    harness, client, clock = _app(api_env, tmp_path, login_backoff_cap_s=60.0)
    with client:
        harness.client = client
        harness.register(EMAIL)
        waits = []
        for _ in range(20):  # an attacker who waits out every window
            response = client.post("/api/auth/login", json=WRONG)
            if response.status_code == 429:
                waits.append(int(response.headers["Retry-After"]))
                clock.advance(waits[-1] + 0.1)
        assert waits[:6] == [2, 4, 8, 16, 32, 60] and set(waits[6:]) == {60}
        if client.post("/api/auth/login", json=WRONG).status_code == 429:
            clock.advance(60.1)
            assert client.post("/api/auth/login", json=WRONG).status_code == 401
        assert client.post("/api/auth/login", json=RIGHT).headers["Retry-After"] == "60"  # never longer
        clock.advance(60.1)
        assert client.post("/api/auth/login", json=RIGHT).status_code == 200


def test_rotating_forwarded_for_from_loopback_does_not_bypass(local) -> None:
    """No proxy is configured: X-Forwarded-For is the client's own claim and changes nothing."""
    client, _ = local
    statuses = [
        client.post("/api/auth/login", json=WRONG, headers=_from(f"203.0.113.{n}")).status_code for n in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]


def test_one_attacker_cannot_lock_out_the_owner(proxied) -> None:
    client, clock = proxied
    attacker, owner = _from("203.0.113.9"), _from("198.51.100.7")
    statuses = [client.post("/api/auth/login", json=WRONG, headers=attacker).status_code for _ in range(50)]
    assert statuses[:3] == [401, 401, 401] and set(statuses[3:]) == {429}
    assert client.post("/api/auth/login", json=RIGHT, headers=owner).status_code == 200
    # The attacker's own address is held back, then may try again, never more than the cap apart.
    assert client.post("/api/auth/login", json=RIGHT, headers=attacker).status_code == 429
    clock.advance(2.1)
    assert client.post("/api/auth/login", json=RIGHT, headers=attacker).status_code == 200


def test_many_addresses_back_off_the_whole_account(proxied) -> None:
    client, clock = proxied
    for n in range(9):  # nine addresses, two guesses each: none of them is held back on its own
        for _ in range(2):
            assert client.post("/api/auth/login", json=WRONG, headers=_from(f"203.0.113.{n}")).status_code == 401
    # The tenth failing address puts the account in backoff for every address.
    assert client.post("/api/auth/login", json=WRONG, headers=_from("203.0.113.99")).status_code == 401
    fresh = client.post("/api/auth/login", json=RIGHT, headers=_from("198.51.100.7"))
    assert_error(fresh, 429, "rate_limited")
    clock.advance(2.1)
    assert client.post("/api/auth/login", json=RIGHT, headers=_from("198.51.100.7")).status_code == 200


def test_ipv6_clients_are_counted_per_64() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(free_failures=3, base_s=2.0, account_addresses=10, clock=clock)
    for n in range(3):  # rotating inside one /64 does not make new addresses
        throttle.failed(EMAIL, address_key(f"2001:db8:1:2::{n + 1}"))
    assert throttle.wait(EMAIL, address_key("2001:db8:1:2::ff")) == pytest.approx(2.0)
    assert throttle.wait(EMAIL, address_key("2001:db8:1:3::1")) == 0.0
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1" and address_key(None) == "unknown"


def test_attempts_are_counted_before_the_body_is_read(api_env, tmp_path: Path) -> None:
    # 1 per minute per address + email; 10 per address: bodies that never validate spend the address's tokens.
    _, client, _ = _app(api_env, tmp_path, auth_rate_per_minute=1.0, auth_rate_burst=1)
    with client:
        junk = [b"{", b'{"email": 1}', b"x" * 200_000, b"[]"]
        statuses = [
            client.post("/api/auth/login", content=junk[n % 4], headers={"Content-Type": "application/json"})
            for n in range(10)
        ]
        assert {response.status_code for response in statuses} == {413, 422}
        assert_error(client.post("/api/auth/login", json=RIGHT), 429, "rate_limited")
        assert client.post("/api/auth/register", json=RIGHT).status_code == 201  # its own bucket per address
