"""A single background thread that runs submitted tasks one at a time, in order."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("clipped.api")


class BackgroundWorker:
    def __init__(self, name: str):
        self.name = name
        self._tasks: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, task: Callable[[], None]) -> None:
        with self._lock:
            self._idle.clear()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._tasks.put(task)

    def _loop(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            try:
                task()
            except Exception:  # one failing task must not stop the ones queued after it
                log.exception("background task failed in %s", self.name)
            finally:
                with self._lock:
                    if self._tasks.empty():
                        self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        return self._idle.wait(timeout)

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._tasks.put(None)
