"""Upload checks: names that never become paths, and the video type read from the bytes themselves."""

from __future__ import annotations

import re
import unicodedata

# ftyp brands of QuickTime; any other ftyp box is an ISO-BMFF (mp4 family) file.
_QUICKTIME_BRANDS = {b"qt  "}
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
SNIFF_BYTES = 64
EXTENSIONS = {"video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm", "video/x-matroska": ".mkv"}


def display_name_for(filename: str) -> str:
    """A readable label for a user-supplied file name: last path part, safe characters only, bounded length.

    It is only ever shown; storage keys are made from the upload id, so '../../etc/passwd' stays a label.
    """
    name = re.split(r"[\\/]", filename)[-1]
    name = unicodedata.normalize("NFKC", name)
    name = "".join(ch for ch in name if ch.isalnum() or ch in " ._-()")
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return stem[:120] or "upload"


def sniff_video_type(head: bytes) -> str | None:
    """The container type from the first bytes (mp4/mov 'ftyp' box, webm/mkv EBML header), else None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] in _QUICKTIME_BRANDS else "video/mp4"
    if head.startswith(_EBML_MAGIC):
        return "video/webm" if b"webm" in head[:SNIFF_BYTES] else "video/x-matroska"
    return None


def same_family(declared: str, sniffed: str) -> bool:
    """mp4 and mov share a container, as do webm and mkv; a declared type of the other family is a lie."""
    families = [{"video/mp4", "video/quicktime"}, {"video/webm", "video/x-matroska"}]
    return any(declared in family and sniffed in family for family in families)
