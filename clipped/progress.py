"""Progress reporting that long steps call into, whoever is listening (CLI bar, Dagster log, nothing)."""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[float], None]
"""Called with the fraction done, 0.0..1.0; may be called often, so listeners throttle themselves."""

StepListener = Callable[[str, float], None]
"""Receives (step name, fraction done) from every step running in this process."""

_listeners: list[StepListener] = []


def no_progress(_fraction: float) -> None:
    """The listener used when nobody listens."""


def add_step_listener(listener: StepListener) -> Callable[[], None]:
    """Register a listener (the CLI's progress bars); returns a function that removes it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def publish_step_progress(step: str, fraction: float) -> None:
    for listener in list(_listeners):
        listener(step, fraction)
