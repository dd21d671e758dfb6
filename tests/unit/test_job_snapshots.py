"""Event streams of one job share one payload computation (api/services/job_snapshots.py)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from api.services.job_snapshots import SharedSnapshots


def test_streams_of_one_job_share_one_computation_at_a_time() -> None:
    snapshots, calls, lock = SharedSnapshots(max_age_s=5.0), [], threading.Lock()
    owner = object()

    def compute() -> tuple[str, bool]:
        with lock:
            calls.append(1)
        time.sleep(0.2)  # slow, as on a busy server: the others wait for this one instead of repeating it
        return '{"status": "running"}', False

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: snapshots.get(owner, "job_1", compute), range(20)))
    assert len(calls) == 1 and set(results) == {('{"status": "running"}', False)}

    snapshots.get(owner, "job_2", compute)  # another job is its own computation
    snapshots.get(object(), "job_1", compute)  # and so is another app's view of the same id
    assert len(calls) == 3


def test_a_snapshot_older_than_max_age_is_computed_again() -> None:
    snapshots, owner, values = SharedSnapshots(max_age_s=0.05), object(), iter(["a", "b"])
    first = snapshots.get(owner, "job", lambda: (next(values), False))
    time.sleep(0.1)
    second = snapshots.get(owner, "job", lambda: (next(values), True))
    assert first == ("a", False) and second == ("b", True)
