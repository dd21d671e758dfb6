"""Chat replay: a stream's chat as timestamped JSON lines, counted per segment against its running rate.

Each line is one message: ``{"t_s": 12.5, "user": "...", "text": "..."}`` with ``t_s`` in stream seconds, or
``{"ts": 1767225600.5, ...}`` (also ``timestamp``) in Unix seconds, placed on the stream clock by the wall time of
its first frame. Lines that are not JSON objects with a time are skipped.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field


@dataclass
class ChatReplay:
    """Message times of a chat replay: stream seconds, and Unix times still to be placed."""

    stream_times: list[float] = field(default_factory=list)
    unix_times: list[float] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> ChatReplay:
        replay = cls()
        for line in text.splitlines():
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(message, dict):
                continue
            for name, target in (("t_s", replay.stream_times), ("offset_s", replay.stream_times),
                                 ("ts", replay.unix_times), ("timestamp", replay.unix_times)):  # fmt: skip
                value = message.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    target.append(float(value))
                    break
        replay.stream_times.sort()
        replay.unix_times.sort()
        return replay

    def count(self, start_s: float, end_s: float, origin_at: float | None) -> int:
        """Messages in ``[start_s, end_s)`` of the stream; ``origin_at`` is the Unix time of stream time 0."""
        total = bisect.bisect_left(self.stream_times, end_s) - bisect.bisect_left(self.stream_times, start_s)
        if origin_at is not None and self.unix_times:
            total += bisect.bisect_left(self.unix_times, origin_at + end_s) - bisect.bisect_left(
                self.unix_times, origin_at + start_s
            )
        return total
