"""Where each platform's UI covers a vertical video, as fractions of the frame: captions and overlays stay inside.

Measured from the platforms' own safe-zone templates for 1080x1920 (TikTok's right-hand button column is the
widest, Reels' bottom caption and audio ticker the tallest); "generic" is the union, safe on all three.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SafeArea:
    """Margins covered by UI, each a fraction of the frame's height (top, bottom) or width (left, right)."""

    top: float
    bottom: float
    left: float
    right: float


VERTICAL_SAFE_AREAS: dict[str, SafeArea] = {
    "tiktok": SafeArea(top=0.09, bottom=0.25, left=0.06, right=0.15),
    "shorts": SafeArea(top=0.08, bottom=0.22, left=0.06, right=0.13),
    "reels": SafeArea(top=0.10, bottom=0.26, left=0.06, right=0.12),
}


def generic_safe_area(width: int, height: int) -> SafeArea:
    """The union of the platforms' margins for vertical frames; plain margins for square and landscape ones."""
    if height > width:
        areas = VERTICAL_SAFE_AREAS.values()
        return SafeArea(
            top=max(a.top for a in areas),
            bottom=max(a.bottom for a in areas),
            left=max(a.left for a in areas),
            right=max(a.right for a in areas),
        )
    if height == width:
        return SafeArea(top=0.06, bottom=0.11, left=0.06, right=0.06)
    return SafeArea(top=0.06, bottom=0.06, left=0.06, right=0.06)


def safe_area(platform: str, width: int, height: int) -> SafeArea:
    """The margins to keep clear for ``platform`` on a ``width`` x ``height`` frame.

    Platform UI templates are for vertical video; a square or landscape frame gets the generic margins.
    """
    if platform != "generic" and platform not in VERTICAL_SAFE_AREAS:
        raise ValueError(f"unknown platform {platform!r}; allowed: generic, {', '.join(VERTICAL_SAFE_AREAS)}")
    if height > width and platform in VERTICAL_SAFE_AREAS:
        return VERTICAL_SAFE_AREAS[platform]
    return generic_safe_area(width, height)
