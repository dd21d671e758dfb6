"""Starts racing in one process never exceed the workspace's stream limit nor lose a stream from its registry."""

from __future__ import annotations

import threading
from pathlib import Path

from clipped.live.service import StreamLimitError, StreamService
from clipped_resources.storage import LocalStorage


class _NoRecorder:
    def launch(self, record) -> None:  # the test is about registration only
        pass

    def is_running(self, record) -> bool | None:
        return True


def test_concurrent_starts_respect_the_limit_and_keep_every_stream(tmp_path: Path):
    service = StreamService(
        LocalStorage(root=str(tmp_path)), _NoRecorder(), check_url=lambda url: url, max_concurrent=3
    )
    started, refused = [], []
    barrier = threading.Barrier(8)

    def start(index: int) -> None:
        barrier.wait()
        try:
            started.append(service.start("ws1", f"https://example.com/live{index}.m3u8").stream_id)
        except StreamLimitError:
            refused.append(index)

    threads = [threading.Thread(target=start, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(started) == 3 and len(refused) == 5
    assert sorted(status.stream_id for status in service.list("ws1")) == sorted(started)
