"""A workspace's brand kit: logo watermark, caption font and colours, hook colours, and its own profanity words.

Stored as ``{workspace_id}/brand/brand_kit.json`` with the logo beside it (``{workspace_id}/brand/logo.png``),
always through the storage interface. The kit is validated when saved, so a render never meets a bad colour or a
font it cannot draw.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from clipped.layout import check_workspace_id
from clipped.storage import Storage

BRAND_FOLDER = "brand"
BRAND_KIT_FILE = "brand_kit.json"
LOGO_FILE = "logo.png"
BUMPER_FILES = {"intro": "intro.mp4", "outro": "outro.mp4"}  # played before and after every clip
MAX_LOGO_BYTES = 5_000_000
MAX_LOGO_SIDE = 4096

# Families libass can draw from clipped/render/fonts (the ass filter is given that folder only).
CAPTION_FONTS: dict[str, str] = {"DejaVu Sans": "DejaVuSans-Bold.ttf", "DejaVu Serif": "DejaVuSerif-Bold.ttf"}
LogoPosition = Literal["top_left", "top_right", "bottom_left", "bottom_right"]
_HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class BrandKitError(ValueError):
    """A brand kit or logo that cannot be used, with the reason a user can act on."""


class BrandKit(BaseModel):
    """How a workspace's clips look. The defaults are the look clips had before brand kits existed."""

    model_config = ConfigDict(extra="forbid")

    caption_font: str = "DejaVu Sans"
    caption_colour: str = "#FFFFFF"
    highlight_colour: str = "#FFFF00"  # the spoken word
    emphasis_colour: str = "#00E5FF"  # the keyword that carries a line's point
    hook_text_colour: str = "#FFFFFF"
    hook_box_colour: str = "#000000"
    has_logo: bool = False  # whether logo.png is stored beside the kit
    logo_position: LogoPosition = "top_right"
    logo_width_frac: float = Field(default=0.18, ge=0.05, le=0.5)  # of the frame's width
    logo_opacity: float = Field(default=0.8, ge=0.1, le=1.0)
    has_intro: bool = False  # whether intro.mp4 / outro.mp4 are stored beside the kit
    has_outro: bool = False
    # The workspace's own list on top of the maintained one, and words it does not want treated as profanity.
    profanity_words: list[str] = Field(default=[], max_length=500)
    profanity_allowed: list[str] = Field(default=[], max_length=500)

    @field_validator("caption_font")
    @classmethod
    def _known_font(cls, value: str) -> str:
        if value not in CAPTION_FONTS:
            raise ValueError(f"font {value!r} is not shipped; choose one of: {', '.join(CAPTION_FONTS)}")
        return value

    @field_validator("caption_colour", "highlight_colour", "emphasis_colour", "hook_text_colour", "hook_box_colour")
    @classmethod
    def _hex_colour(cls, value: str) -> str:
        if not _HEX_COLOUR.match(value):
            raise ValueError(f"colour {value!r} must be #RRGGBB")
        return value.upper()

    @field_validator("profanity_words", "profanity_allowed")
    @classmethod
    def _clean_words(cls, value: list[str]) -> list[str]:
        words = sorted({" ".join(word.split()).lower() for word in value if word.strip()})
        if any(len(word) > 60 for word in words):
            raise ValueError("a listed word is longer than 60 characters")
        return words


def ass_colour(hex_colour: str, alpha: int = 0) -> str:
    """``#RRGGBB`` as an ASS colour ``&HAABBGGRR`` (alpha 0 = opaque)."""
    red, green, blue = hex_colour[1:3], hex_colour[3:5], hex_colour[5:7]
    return f"&H{alpha:02X}{blue}{green}{red}".upper()


def brand_key(workspace_id: str, name: str) -> str:
    return f"{check_workspace_id(workspace_id)}/{BRAND_FOLDER}/{name}"


def read_brand_kit(storage: Storage, workspace_id: str) -> BrandKit:
    """The workspace's kit; the default kit when none was saved."""
    key = brand_key(workspace_id, BRAND_KIT_FILE)
    return storage.read_model(key, BrandKit) if storage.exists(key) else BrandKit()


def save_brand_kit(storage: Storage, workspace_id: str, kit: BrandKit) -> BrandKit:
    """Store ``kit``; ``has_logo``, ``has_intro`` and ``has_outro`` follow what is stored, whatever the caller sent."""
    stored = {f"has_{kind}": storage.exists(brand_key(workspace_id, name)) for kind, name in BUMPER_FILES.items()}
    kit = kit.model_copy(update={"has_logo": storage.exists(brand_key(workspace_id, LOGO_FILE)), **stored})
    storage.write_model(brand_key(workspace_id, BRAND_KIT_FILE), kit)
    return kit


def logo_png(data: bytes) -> bytes:
    """An uploaded logo (PNG, JPEG or WebP) as RGBA PNG bytes; :class:`BrandKitError` if it is not a usable image.

    Re-encoding drops anything but pixels (metadata, animation frames) and gives the renderer one format.
    """
    if not data:
        raise BrandKitError("the logo file is empty")
    if len(data) > MAX_LOGO_BYTES:
        raise BrandKitError(f"the logo is {len(data)} bytes; at most {MAX_LOGO_BYTES} are accepted")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in {"PNG", "JPEG", "WEBP"}:
                raise BrandKitError(f"the logo must be PNG, JPEG or WebP, not {image.format}")
            if max(image.size) > MAX_LOGO_SIDE or min(image.size) < 8:
                raise BrandKitError(f"the logo is {image.width}x{image.height}; sides must be 8 to {MAX_LOGO_SIDE} px")
            rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError) as exc:
        raise BrandKitError("the logo is not a readable image") from exc
    out = io.BytesIO()
    rgba.save(out, format="PNG")
    return out.getvalue()


def save_logo(storage: Storage, workspace_id: str, data: bytes) -> BrandKit:
    """Validate and store an uploaded logo; returns the kit, now with ``has_logo``."""
    storage.write_bytes(brand_key(workspace_id, LOGO_FILE), logo_png(data))
    return save_brand_kit(storage, workspace_id, read_brand_kit(storage, workspace_id))


def delete_logo(storage: Storage, workspace_id: str) -> BrandKit:
    key = brand_key(workspace_id, LOGO_FILE)
    if storage.exists(key):
        storage.delete(key)
    return save_brand_kit(storage, workspace_id, read_brand_kit(storage, workspace_id))


@contextlib.contextmanager
def local_logo(storage: Storage, workspace_id: str, kit: BrandKit) -> Iterator[Path | None]:
    """A local path of the workspace's logo for the renderer, or None when the kit has none."""
    key = brand_key(workspace_id, LOGO_FILE)
    if not kit.has_logo or not storage.exists(key):
        yield None
        return
    with storage.local_path(key) as path:
        yield path


def brand_fingerprint(storage: Storage, workspace_id: str) -> dict[str, object]:
    """What of the brand kit a render depends on (the kit and its logo's bytes): a stage input, so a changed kit
    renders again and an unchanged one is reused."""
    kit = read_brand_kit(storage, workspace_id)
    key = brand_key(workspace_id, LOGO_FILE)
    logo = hashlib.sha256(storage.read_bytes(key)).hexdigest() if kit.has_logo and storage.exists(key) else None
    bumpers = {
        f"{kind}_sha256": hashlib.sha256(storage.read_bytes(brand_key(workspace_id, name))).hexdigest()
        for kind, name in BUMPER_FILES.items()
        if getattr(kit, f"has_{kind}") and storage.exists(brand_key(workspace_id, name))
    }
    return {"kit": kit.model_dump(mode="json"), "logo_sha256": logo, **bumpers}
