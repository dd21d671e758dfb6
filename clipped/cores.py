"""How many CPU cores this process may use: what every step sizes its threads by."""

from __future__ import annotations

import os


def available_cores() -> int:
    """The cores this process may run on (a container's CPU set), not the host's count."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
