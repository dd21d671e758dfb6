"""Brand kit validation and storage, hook placement against the face, and the logo overlay's filter."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from pydantic import ValidationError

from clipped.brand.kit import (
    BrandKit,
    BrandKitError,
    ass_colour,
    brand_fingerprint,
    brand_key,
    delete_logo,
    read_brand_kit,
    save_brand_kit,
    save_logo,
)
from clipped.render.captions_ass import hook_band
from clipped.render.crop_path import CropKeyframe, CropPath
from clipped.render.overlays import face_bands, hook_position, logo_filter
from clipped.render.safe_areas import safe_area
from clipped.types import FaceBox, FaceFrame
from clipped_resources.storage import LocalStorage


def png_bytes(size: tuple[int, int] = (64, 32), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def test_a_brand_kit_refuses_bad_colours_fonts_and_sizes() -> None:
    kit = BrandKit(caption_colour="#ff8800", profanity_words=[" Frob ", "frob", ""])
    assert kit.caption_colour == "#FF8800" and kit.profanity_words == ["frob"]
    assert ass_colour("#FF8800") == "&H000088FF" and ass_colour("#000000", alpha=0x30) == "&H30000000"
    for bad in (
        {"caption_colour": "red"},
        {"caption_font": "Comic Sans"},
        {"logo_opacity": 0},
        {"logo_width_frac": 0.9},
    ):
        with pytest.raises(ValidationError):
            BrandKit(**bad)
    with pytest.raises(ValidationError, match="DejaVu Sans"):
        BrandKit(caption_font="Arial")


def test_the_kit_and_logo_live_in_the_workspaces_storage(tmp_path: Path) -> None:
    storage = LocalStorage(root=str(tmp_path))
    assert read_brand_kit(storage, "acme") == BrandKit()  # nothing saved: the default look
    saved = save_brand_kit(storage, "acme", BrandKit(highlight_colour="#00FF00", has_logo=True))
    assert not saved.has_logo  # follows what is stored, not what was sent
    before = brand_fingerprint(storage, "acme")
    kit = save_logo(storage, "acme", png_bytes(fmt="JPEG"))
    assert kit.has_logo and kit.highlight_colour == "#00FF00"
    with Image.open(io.BytesIO(storage.read_bytes(brand_key("acme", "logo.png")))) as logo:
        assert (logo.format, logo.mode, logo.size) == ("PNG", "RGBA", (64, 32))
    assert brand_fingerprint(storage, "acme") != before  # a new logo renders again
    assert not delete_logo(storage, "acme").has_logo
    assert read_brand_kit(storage, "other") == BrandKit()  # workspaces never share a kit


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (b"not an image", "not a readable image"), (png_bytes((4, 4)), "sides must be")],
)
def test_an_unusable_logo_is_refused_with_its_reason(tmp_path: Path, data: bytes, reason: str) -> None:
    storage = LocalStorage(root=str(tmp_path))
    with pytest.raises(BrandKitError, match=reason):
        save_logo(storage, "acme", data)
    assert not storage.exists(brand_key("acme", "logo.png"))  # nothing half-saved


def still_path(x: int, y: int = 0) -> CropPath:
    """A 9:16 window of a 1920x1080 source, held still at (x, y) for 4 s."""
    frames = [CropKeyframe(t_s=i / 30, x=x, y=y) for i in range(120)]
    return CropPath(source_w=1920, source_h=1080, crop_w=606, crop_h=1080, fps=30, keyframes=frames)


def face_at(y: float, t_s: float = 10.5, x: float = 800) -> FaceFrame:
    return FaceFrame(t_s=t_s, faces=[FaceBox(x=x, y=y, w=200, h=220, score=0.9)])


def test_the_hook_avoids_a_face_near_the_top() -> None:
    hook = "Nobody tells you this"
    bands = hook_band(hook, 1080, 1920)
    high = face_bands([face_at(y=100)], still_path(700), 10.0, 3.0, 1080, 1920)
    middle = face_bands([face_at(y=420)], still_path(700), 10.0, 3.0, 1080, 1920)
    assert high and high[0][0] < bands["top"][1]  # the face reaches into the top band
    assert hook_position(bands, high) == "bottom"
    assert hook_position(bands, middle) == "top"
    assert hook_position(bands, []) == "top"
    # A face outside the crop window, or after the hook's seconds, does not move the hook.
    assert face_bands([face_at(y=100, x=100)], still_path(700), 10.0, 3.0, 1080, 1920) == []
    assert face_bands([face_at(y=100, t_s=14.0)], still_path(700), 10.0, 3.0, 1080, 1920) == []


def test_the_logo_is_scaled_faded_and_placed_inside_the_safe_area() -> None:
    safe = safe_area("tiktok", 1080, 1920)
    chain = logo_filter(Path("/tmp/my logo's.png"), "top_right", 0.2, 0.5, 1080, 1920, safe)
    assert "scale=216:-2" in chain and "colorchannelmixer=aa=0.500" in chain
    assert f"overlay=x=W-w-{round(safe.right * 1080)}:y={round(safe.top * 1920)}" in chain
    assert r"my logo\\\'s.png" in chain  # quoted for the graph parser
    bottom_left = logo_filter(Path("/l.png"), "bottom_left", 0.2, 0.5, 1080, 1920, safe)
    assert f"x={round(safe.left * 1080)}:y=H-h-{round(safe.bottom * 1920)}" in bottom_left
    with pytest.raises(ValueError, match="position"):
        logo_filter(Path("/l.png"), "centre", 0.2, 0.5, 1080, 1920, safe)
