"""A job's event-stream payload, computed once per moment however many streams watch that job.

Each open event stream polls its job every second. Computing the payload reads the app database and the Dagster
instance (the run and its events), and the server is one Python process: a hundred streams each computing their own
copy saturated it and left ordinary requests waiting. Streams of the same job now share one computation, at most
``max_age_s`` old; the first caller computes it while the others wait for it instead of repeating it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Snapshot = tuple[str, bool]  # (the job as JSON, whether it is finished)


@dataclass
class _Entry:
    owner: object  # the app state it was computed for (tests run several apps in one process)
    taken_at: float
    snapshot: Snapshot


class SharedSnapshots:
    def __init__(self, max_age_s: float = 0.5, forget_after_s: float = 60.0):
        self.max_age_s = max_age_s
        self.forget_after_s = forget_after_s
        self._entries: dict[str, _Entry] = {}
        self._job_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, owner: object, job_id: str, compute: Callable[[], Snapshot]) -> Snapshot:
        """The job's snapshot for ``owner``: a fresh enough shared one, else ``compute()`` (once for all waiters)."""
        with self._lock:
            job_lock = self._job_locks.setdefault(job_id, threading.Lock())
        with job_lock:
            now = time.monotonic()
            with self._lock:
                entry = self._entries.get(job_id)
            if entry is not None and entry.owner is owner and now - entry.taken_at < self.max_age_s:
                return entry.snapshot
            snapshot = compute()
            with self._lock:
                self._entries[job_id] = _Entry(owner, time.monotonic(), snapshot)
                self._forget_old(now)
            return snapshot

    def _forget_old(self, now: float) -> None:
        for job_id in [key for key, entry in self._entries.items() if now - entry.taken_at > self.forget_after_s]:
            del self._entries[job_id]
            lock = self._job_locks.get(job_id)
            if lock is not None and not lock.locked():
                del self._job_locks[job_id]
