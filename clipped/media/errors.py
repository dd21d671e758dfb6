"""How a failed ffmpeg run is reported: one exception type and one line of reason."""

from __future__ import annotations

import re


class MediaToolError(RuntimeError):
    """ffmpeg failed; the message carries the last meaningful stderr line."""


# Lines ffmpeg prints after the real error, whichever went wrong (5.1 and 7+ word them differently).
_GENERIC = (
    "Conversion failed",
    "Exiting with exit code",
    "Error opening output file",
    "Error reinitializing filters",
    "Failed to inject frame into filter network",
    "Error while processing the decoded data",
    "Error while filtering",
    "Error sending frames to consumers",
    "Task finished with error code",
    "Terminating thread with return code",
)
_COMPONENT_PREFIX = re.compile(r"^(\[[^\]]* @ [^\]]*\]\s*)+")
_SAYS_WHAT_FAILED = re.compile(
    r"error|unable|undefined|unknown|invalid|no such|not found|failed|cannot|could not|not implemented|denied", re.I
)


def last_error_line(stderr: str) -> str:
    """The most informative line of ffmpeg's stderr: the last one that names a failure, skipping the generic
    lines ffmpeg ends with and the summaries some filters print on the way out (ebur128 prints its own even
    when its options were refused)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    meaningful = [line for line in lines if not _COMPONENT_PREFIX.sub("", line).startswith(_GENERIC)]
    failures = [line for line in meaningful if _SAYS_WHAT_FAILED.search(line)]
    return (failures or meaningful or lines or ["no output"])[-1][:300]
