"""A job's event-stream payload, computed once per moment however many streams watch that job.

Each open event stream polls its job every second. Computing the payload reads the app database and the Dagster
instance (the run and its events), and the server is one Python process: a hundred streams each computing their own
copy saturated it and left ordinary requests waiting. Streams of the same job now share one computation, at most
``max_age_s`` old; the first caller starts it in a worker thread and the others await the same result on the event
loop. Waiting holds no worker thread: with a hundred streams parked in the thread pool (40 threads), every ordinary
route, which runs there too, waited behind them and timed out (bench/load_api.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

Snapshot = tuple[str, bool]  # (the job as JSON, whether it is finished)


@dataclass
class _Entry:
    owner: object  # the app state it was computed for (tests run several apps in one process)
    taken_at: float
    snapshot: Snapshot


class SharedSnapshots:
    """Used from one event loop (the server's): its bookkeeping needs no lock, only the computation leaves it."""

    def __init__(self, max_age_s: float = 0.5, forget_after_s: float = 60.0):
        self.max_age_s = max_age_s
        self.forget_after_s = forget_after_s
        self._entries: dict[str, _Entry] = {}
        self._pending: dict[str, tuple[object, asyncio.Future[Snapshot]]] = {}

    async def get(self, owner: object, job_id: str, compute: Callable[[], Snapshot]) -> Snapshot:
        """The job's snapshot for ``owner``: a fresh enough shared one, else ``compute()`` run once in a worker
        thread for every caller waiting at that moment."""
        entry = self._entries.get(job_id)
        if entry is not None and entry.owner is owner and time.monotonic() - entry.taken_at < self.max_age_s:
            return entry.snapshot
        pending = self._pending.get(job_id)
        if pending is None or pending[0] is not owner:
            pending = (owner, asyncio.ensure_future(self._compute(owner, job_id, compute)))
            self._pending[job_id] = pending
        # shield: a stream that disconnects while waiting must not cancel the computation the others await.
        return await asyncio.shield(pending[1])

    async def _compute(self, owner: object, job_id: str, compute: Callable[[], Snapshot]) -> Snapshot:
        try:
            snapshot = await run_in_threadpool(compute)
        finally:
            if self._pending.get(job_id, (None,))[0] is owner:
                del self._pending[job_id]
        now = time.monotonic()
        self._entries[job_id] = _Entry(owner, now, snapshot)
        self._forget_old(now)
        return snapshot

    def _forget_old(self, now: float) -> None:
        for job_id in [key for key, entry in self._entries.items() if now - entry.taken_at > self.forget_after_s]:
            del self._entries[job_id]
