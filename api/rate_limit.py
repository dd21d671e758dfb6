"""In-process throttles for login and register: a token bucket per key (client address, address + email), and
exponential backoff after failed logins per account (:class:`LoginThrottle`)."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable

MAX_KEYS = 100_000  # bounded memory under a flood of distinct keys


def address_key(host: str | None) -> str:
    """The key of a client address: an IPv6 client is its /64 (one subscriber holds a whole /64, and rotating
    within it must not buy fresh buckets); anything else as it is."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if isinstance(address, ipaddress.IPv6Address) else str(address)


class RateLimiter:
    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token; returns 0 if allowed, else the seconds until one is available."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                if len(self._buckets) > MAX_KEYS:
                    self._buckets.clear()
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate if self.rate > 0 else 60.0


class LoginThrottle:
    """Exponential backoff after failed logins, per account (email) and address, and per account across addresses.

    - One address: after ``free_failures`` failures for an account, each further try waits ``base_s``, then twice
      that, up to ``cap_s``. Only that address is held back: the account's owner elsewhere signs in as usual, so one
      attacker cannot lock anyone out.
    - Many addresses: when ``account_addresses`` distinct addresses have failed for one account, every address
      backs off the same way (a distributed guess), still capped at ``cap_s``.

    A refused try is not checked and not counted, so once a window ends the right password works; a success clears
    that address's failures, and failures older than ``forget_s`` are forgotten.
    """

    def __init__(
        self,
        *,
        free_failures: int = 3,
        base_s: float = 2.0,
        cap_s: float = 900.0,
        account_addresses: int = 10,
        forget_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.free_failures = free_failures
        self.base_s = base_s
        self.cap_s = cap_s
        self.account_addresses = account_addresses
        self.forget_s = forget_s
        self.clock = clock
        self._failures: dict[str, dict[str, tuple[int, float]]] = {}  # email -> address -> (count, last failure)
        self._lock = threading.Lock()

    def _delay(self, excess: int) -> float:
        return min(self.cap_s, self.base_s * 2.0 ** min(excess, 64))

    def _recent(self, email: str, now: float) -> dict[str, tuple[int, float]]:
        failures = {
            address: entry
            for address, entry in self._failures.get(email, {}).items()
            if now - entry[1] <= self.forget_s
        }
        if failures:
            self._failures[email] = failures
        else:
            self._failures.pop(email, None)
        return failures

    def wait(self, email: str, address: str) -> float:
        """Seconds before ``address`` may try a password for ``email`` (0: now)."""
        with self._lock:
            now = self.clock()
            failures = self._recent(email, now)
            waits = [0.0]
            count, last = failures.get(address, (0, now))
            if count >= self.free_failures:
                waits.append(last + self._delay(count - self.free_failures) - now)
            if len(failures) >= self.account_addresses:
                latest = max(entry[1] for entry in failures.values())
                waits.append(latest + self._delay(len(failures) - self.account_addresses) - now)
            return max(waits)

    def failed(self, email: str, address: str) -> None:
        with self._lock:
            now = self.clock()
            failures = self._recent(email, now)
            count = failures.get(address, (0, now))[0]
            self._failures.setdefault(email, {})[address] = (count + 1, now)
            if len(self._failures) > MAX_KEYS:
                self._failures = {email: self._failures[email]}

    def succeeded(self, email: str, address: str) -> None:
        with self._lock:
            self._failures.get(email, {}).pop(address, None)
