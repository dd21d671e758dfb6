"""Sending platform requests: retries with exponential backoff on 429 and 5xx honouring ``Retry-After``, never on
other 4xx; errors mapped to the publishing error types; nothing secret in an error message."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx

from clipped.publish.models import (
    NeedsReconnectError,
    PlatformRejectedError,
    PlatformUnavailableError,
    PublishError,
    RateLimitedError,
)

MAX_BACKOFF_S = 300.0


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (delta or HTTP date), else ``x-rate-limit-reset`` (X: epoch seconds)."""
    value = response.headers.get("retry-after")
    if value:
        if value.strip().isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
    reset = response.headers.get("x-rate-limit-reset")
    if reset and reset.isdigit():
        return max(0.0, float(reset) - time.time())
    return None


def error_for(response: httpx.Response, what: str) -> PublishError:
    """The publishing error for a failed response; the message names the call and status, never a token or URL
    query (platform error bodies echo no secrets, but only their short error code/message is kept)."""
    detail = _short_detail(response)
    message = f"{what}: HTTP {response.status_code}{f' ({detail})' if detail else ''}"
    if response.status_code == 429:
        return RateLimitedError(message, retry_after_s=retry_after_seconds(response))
    if response.status_code >= 500:
        return PlatformUnavailableError(message, retry_after_s=retry_after_seconds(response))
    if response.status_code == 401:
        return NeedsReconnectError(message)
    return PlatformRejectedError(message)


def _short_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "")[:200]
    if isinstance(error, str):
        return str(body.get("error_description") or error)[:200]
    return str(body.get("detail") or body.get("title") or "")[:200]


def send_with_retries(
    send: Callable[[], httpx.Response],
    what: str,
    *,
    attempts: int = 5,
    base_delay_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    ok: Callable[[httpx.Response], bool] = lambda response: response.is_success,
) -> httpx.Response:
    """Call ``send`` until ``ok`` says the response is good; retry 429/5xx/connection errors with exponential backoff
    (full jitter, at least ``Retry-After``), raise the mapped error at once on other statuses."""
    for attempt in range(attempts):
        try:
            response = send()
        except httpx.TransportError as exc:
            error: PublishError = PlatformUnavailableError(f"{what}: {type(exc).__name__}")
        else:
            if ok(response):
                return response
            error = error_for(response, what)
            if not error.retryable:
                raise error
        if attempt == attempts - 1:
            raise error
        backoff = random.uniform(0, min(MAX_BACKOFF_S, base_delay_s * 2**attempt))
        sleep(max(backoff, error.retry_after_s or 0.0))
    raise AssertionError("unreachable")
