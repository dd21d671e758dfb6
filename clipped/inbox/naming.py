"""Safe names for inbox files dropped under names the storage key rules refuse ("My Stream (Nov 20).mp4").

The safe name is an ASCII slug of the stem plus the lower-cased extension; a collision adds a short hash of the
original name. Nothing of the original name reaches a path except through the slug, which keeps ``[a-z0-9-]``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator

_MAX_STEM = 80
_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")
_FALLBACK_STEM = "video"


def ascii_fold(text: str) -> str:
    """Accents dropped (``Café`` -> ``Cafe``); characters with no ASCII form vanish."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits joined by single hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", ascii_fold(text).lower()).strip("-")[:_MAX_STEM].strip("-")


def name_hash(raw_name: str) -> str:
    """A short, stable hash of the original name (also of names that are not valid UTF-8)."""
    return hashlib.sha256(raw_name.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def printable_name(raw_name: str) -> str:
    """The name as text that JSON, logs and cursors can hold (undecodable bytes become U+FFFD)."""
    return raw_name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def safe_name(raw_name: str) -> str | None:
    """``my-stream-nov-20.mp4`` for ``My Stream (Nov 20).MP4``; None when nothing usable is left.

    An extension that slugs to nothing usable is folded into the stem; a stem with no ASCII letters or digits
    becomes ``video`` when there is an extension to keep. No extension and no stem: None (quarantine it).
    """
    stem, dot, extension = raw_name.rpartition(".")
    extension = ascii_fold(extension).lower()
    if not dot or not stem or not _EXTENSION.match(extension):
        stem, extension = raw_name, ""
    stem_slug = slug(stem)
    if not stem_slug and not extension:
        return None
    return f"{stem_slug or _FALLBACK_STEM}{'.' + extension if extension else ''}"


def candidate_names(raw_name: str, base_name: str) -> Iterator[str]:
    """``base_name``, then variants with a hash of the original name, for when earlier ones are taken."""
    stem, dot, extension = base_name.partition(".")
    suffix = dot + extension
    yield base_name
    digest = name_hash(raw_name)
    yield f"{stem}-{digest}{suffix}"
    for attempt in range(2, 10):
        yield f"{stem}-{digest}-{attempt}{suffix}"
