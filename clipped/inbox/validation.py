"""What an inbox file must be before it becomes a source; a failure has a code and a one-line reason."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clipped.ingest.probe import InvalidMediaError, MediaLimits, probe_media, validate_media


@dataclass(frozen=True)
class Rejection:
    """Why a file went to quarantine: a stable ``code`` for tools, a ``reason`` for people."""

    code: str
    reason: str


def check_name_and_size(name: str, size: int, allowed_extensions: list[str], max_bytes: int) -> Rejection | None:
    """Cheap checks from the listing alone, before any byte is read."""
    extension = Path(name).suffix.lower()
    if extension not in {ext.lower() for ext in allowed_extensions}:
        allowed = ", ".join(sorted(allowed_extensions))
        return Rejection("bad_extension", f"extension {extension or '(none)'!r} is not a video ({allowed})")
    if size == 0:
        return Rejection("empty", "file is empty (0 bytes)")
    if size > max_bytes:
        return Rejection("too_large", f"file is {size / 1e9:.2f} GB, over the {max_bytes / 1e9:.2f} GB inbox limit")
    return None


def probe_upload(path: Path, limits: MediaLimits) -> Rejection | None:
    """A quick container probe (no full decode): not a video, no audio, over the limits, unreadable."""
    try:
        validate_media(probe_media(path), limits)
    except InvalidMediaError as exc:
        return Rejection("invalid_media", str(exc))
    return None
