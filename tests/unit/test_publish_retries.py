"""The retry policy every platform adapter sends through: exponential backoff on 429, 5xx and dropped connections,
never shorter than the platform's ``Retry-After``; any other 4xx is raised after one request, never retried."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import formatdate

import httpx
import pytest

from clipped.publish.http import retry_after_seconds, send_with_retries
from clipped.publish.models import (
    NeedsReconnectError,
    PlatformRejectedError,
    PlatformUnavailableError,
    RateLimitedError,
)

REQUEST = httpx.Request("PUT", "https://upload.example.invalid/session/1")


def answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"error": {"message": "as the platform says"}}, request=REQUEST)


class ScriptedPlatform:
    """Answers requests from a script; counts them and records every wait instead of sleeping."""

    def __init__(self, *script: httpx.Response | Exception) -> None:
        self.script = list(script)
        self.requests = 0
        self.waits: list[float] = []

    def send(self) -> httpx.Response:
        self.requests += 1
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    def call(self, **options: object) -> httpx.Response:
        return send_with_retries(self.send, "test upload", sleep=self.waits.append, **options)  # type: ignore[arg-type]


def test_a_429_waits_at_least_its_retry_after_then_succeeds():
    platform = ScriptedPlatform(answer(429, **{"Retry-After": "7"}), answer(200))
    assert platform.call().status_code == 200
    assert platform.requests == 2 and len(platform.waits) == 1 and platform.waits[0] >= 7


def test_5xx_and_dropped_connections_back_off_exponentially():
    platform = ScriptedPlatform(answer(503), httpx.ConnectError("reset"), answer(502), answer(201))
    assert platform.call(base_delay_s=1.0).status_code == 201
    assert platform.requests == 4
    # Full jitter: each wait within [0, base × 2^attempt].
    assert [0 <= wait <= 2**attempt for attempt, wait in enumerate(platform.waits)] == [True, True, True]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, PlatformRejectedError),
        (403, PlatformRejectedError),
        (404, PlatformRejectedError),
        (413, PlatformRejectedError),
        (422, PlatformRejectedError),
        (401, NeedsReconnectError),
    ],
)
def test_other_4xx_are_raised_after_one_request_never_retried(status: int, error: type[Exception]):
    platform = ScriptedPlatform(answer(status, **{"Retry-After": "1"}), answer(200))
    with pytest.raises(error, match=f"test upload: HTTP {status}") as raised:
        platform.call()
    assert platform.requests == 1 and platform.waits == []
    assert not raised.value.retryable  # type: ignore[attr-defined]


def test_a_platform_that_keeps_refusing_gives_up_with_the_retryable_error_and_its_wait():
    platform = ScriptedPlatform(*[answer(429, **{"Retry-After": "30"})] * 3)
    with pytest.raises(RateLimitedError) as raised:
        platform.call(attempts=3)
    assert platform.requests == 3 and len(platform.waits) == 2
    assert raised.value.retryable and raised.value.retry_after_s == 30  # the attempt's caller defers that long
    outage = ScriptedPlatform(*[answer(500)] * 2)
    with pytest.raises(PlatformUnavailableError):
        outage.call(attempts=2)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # Headers are made when the test runs, not at collection: a suite can take longer than their 60-90 s.
        (lambda: {"Retry-After": "120"}, 120.0),
        (lambda: {"Retry-After": formatdate(time.time() + 90, usegmt=True)}, 90.0),
        (lambda: {"x-rate-limit-reset": str(int(time.time()) + 60)}, 60.0),  # X: epoch seconds of the reset
        (lambda: {}, None),
    ],
)
def test_retry_after_as_seconds_http_date_or_x_reset(
    headers: Callable[[], dict[str, str]], expected: float | None
) -> None:
    wait, want = retry_after_seconds(answer(429, **headers())), expected
    if want is None:
        assert wait is None
    else:
        assert wait is not None and abs(wait - want) <= 2
