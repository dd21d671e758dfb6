"""Restarts stale live-stream recorders in the embedded default, where no Dagster sensor looks after them.

A recorder there is a local process (``clipped stream --stream-id``) that outlives the API; if it dies or hangs,
its heartbeat goes stale and :meth:`StreamService.supervise` starts it again, carrying on the same ring buffer and
stream clock (the outage shows as a gap). In production ``stream_recorder_sensor`` does this for recorder runs, so
the thread runs only for the ``local`` runner. One thread per API process: the embedded default is one process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from clipped.live.service import StreamService

log = logging.getLogger("clipped.api")


class StreamSupervisor:
    """Every ``interval_s``, :meth:`StreamService.supervise` each workspace that ``workspace_ids`` names."""

    def __init__(self, service: StreamService, workspace_ids: Callable[[], Iterable[str]], interval_s: float) -> None:
        self.service = service
        self.workspace_ids = workspace_ids
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[tuple[str, str]]:
        """One pass over the workspaces; the (workspace, stream) pairs whose recorder was started again."""
        restarted = []
        for workspace_id in self.workspace_ids():
            try:
                restarted += [(workspace_id, stream_id) for stream_id in self.service.supervise(workspace_id)]
            except Exception:  # one workspace's unreadable record must not leave the others unsupervised
                log.exception("supervising the live streams of workspace %s failed", workspace_id)
        for workspace_id, stream_id in restarted:
            log.warning("live stream %s/%s: heartbeat stale, recorder restarted", workspace_id, stream_id)
        return restarted

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="stream-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception:  # the database away for a moment: try again on the next tick
                log.exception("live stream supervision failed")
