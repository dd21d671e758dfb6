"""HTTP Range checks for media responses (the file response then serves the same range)."""

from __future__ import annotations

import re

from api.errors import ApiError

_SINGLE = re.compile(r"^bytes=(\d*)-(\d*)$")


def check_range(header: str, size: int) -> tuple[int, int]:
    """The (start, end inclusive) of a single ``bytes=`` range, or 416 in the error schema when unusable."""
    match = _SINGLE.match(header.strip())
    unsatisfiable = ApiError(
        416, f"range {header!r} is not satisfiable for {size} bytes", headers={"Content-Range": f"bytes */{size}"}
    )
    if match is None or (not match[1] and not match[2]):
        raise unsatisfiable
    if not match[1]:  # suffix: the last N bytes
        length = int(match[2])
        if length == 0:
            raise unsatisfiable
        return max(0, size - length), size - 1
    start = int(match[1])
    end = int(match[2]) if match[2] else size - 1
    if start >= size or end < start:
        raise unsatisfiable
    return start, min(end, size - 1)
