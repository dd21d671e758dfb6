"""What every thin asset body needs: its source, its settings, and a progress callback."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from dagster import AssetExecutionContext, Failure

from clipped.errors import BAD_INPUT_ERRORS
from clipped.layout import SourceRef
from clipped.progress import ProgressCallback, publish_step_progress
from clipped.sources import REQUEST_FILE, SourceRequest
from clipped_resources.storage import StorageResource


def source_of(context: AssetExecutionContext) -> SourceRef:
    return SourceRef.from_partition_key(context.partition_key)


def request_of(storage: StorageResource, source: SourceRef) -> SourceRequest:
    key = source.key(REQUEST_FILE)
    if not storage.exists(key):
        raise FileNotFoundError(f"no source request for partition {source.partition_key} (register it first)")
    return storage.read_model(key, SourceRequest)


def progress_for(context: AssetExecutionContext, step: str) -> ProgressCallback:
    """A callback that feeds CLI progress bars and logs to Dagster at most every 10 % or 15 s."""
    last_logged = {"fraction": 0.0, "at": time.monotonic()}

    def report(fraction: float) -> None:
        fraction = min(1.0, max(0.0, fraction))
        publish_step_progress(step, fraction)
        now = time.monotonic()
        if fraction - last_logged["fraction"] >= 0.1 or now - last_logged["at"] >= 15:
            context.log.info(f"{step}: {fraction:.0%}")
            last_logged.update(fraction=fraction, at=now)

    return report


@contextlib.contextmanager
def failing_clearly() -> Iterator[None]:
    """Turn bad-input errors into a one-line, non-retried Dagster failure; real faults still retry."""
    try:
        yield
    except BAD_INPUT_ERRORS as exc:
        raise Failure(description=str(exc), allow_retries=False) from exc
