"""Event streams of one job share one payload computation (api/services/job_snapshots.py)."""

from __future__ import annotations

import asyncio
import threading
import time

from api.services.job_snapshots import SharedSnapshots


def test_streams_of_one_job_share_one_computation_and_hold_no_thread_while_waiting() -> None:
    snapshots, calls, threads = SharedSnapshots(max_age_s=5.0), [], set()
    owner = object()

    def compute() -> tuple[str, bool]:
        calls.append(1)
        threads.add(threading.current_thread().name)
        time.sleep(0.2)  # slow, as on a busy server: the others wait for this one instead of repeating it
        return '{"status": "running"}', False

    async def hundred_streams() -> list[tuple[str, bool]]:
        return await asyncio.gather(*(snapshots.get(owner, "job_1", compute) for _ in range(100)))

    results = asyncio.run(hundred_streams())
    assert len(calls) == 1 and set(results) == {('{"status": "running"}', False)}
    assert len(threads) == 1  # one worker thread computed; the 99 others waited on the event loop

    async def others() -> None:
        await snapshots.get(owner, "job_2", compute)  # another job is its own computation
        await snapshots.get(object(), "job_1", compute)  # and so is another app's view of the same id

    asyncio.run(others())
    assert len(calls) == 3


def test_a_snapshot_older_than_max_age_is_computed_again() -> None:
    snapshots, owner, values = SharedSnapshots(max_age_s=0.05), object(), iter(["a", "b"])

    async def twice() -> tuple[tuple[str, bool], tuple[str, bool]]:
        first = await snapshots.get(owner, "job", lambda: (next(values), False))
        await asyncio.sleep(0.1)
        return first, await snapshots.get(owner, "job", lambda: (next(values), True))

    assert asyncio.run(twice()) == (("a", False), ("b", True))


def test_a_failed_computation_is_raised_to_its_waiters_and_tried_again_next_time() -> None:
    snapshots, owner = SharedSnapshots(), object()

    def broken() -> tuple[str, bool]:
        raise RuntimeError("instance unavailable")

    async def attempt() -> list[object]:
        return await asyncio.gather(*(snapshots.get(owner, "job", broken) for _ in range(3)), return_exceptions=True)

    assert all(isinstance(result, RuntimeError) for result in asyncio.run(attempt()))
    assert asyncio.run(snapshots.get(owner, "job", lambda: ("ok", True))) == ("ok", True)
