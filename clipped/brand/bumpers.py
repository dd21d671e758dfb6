"""A workspace's intro and outro clips: uploaded into its brand folder (``{workspace}/brand/intro.mp4``,
``outro.mp4``), checked when stored, and handed to the renderer as local files (clipped.render.bumpers joins them)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from clipped.brand.kit import BUMPER_FILES, BrandKit, BrandKitError, brand_key, read_brand_kit, save_brand_kit
from clipped.render.bumpers import BumperError, Bumpers, check_bumper
from clipped.storage import Storage

BumperKind = Literal["intro", "outro"]
MAX_BUMPER_BYTES = 50_000_000


def save_bumper(storage: Storage, workspace_id: str, kind: BumperKind, video: Path) -> BrandKit:
    """Check and store an uploaded intro or outro; returns the kit, now with ``has_intro``/``has_outro``.
    A :class:`BrandKitError` says why a file cannot be used (nothing is stored then)."""
    if video.stat().st_size > MAX_BUMPER_BYTES:
        raise BrandKitError(f"the {kind} is {video.stat().st_size} bytes; at most {MAX_BUMPER_BYTES} are accepted")
    try:
        check_bumper(video)
    except BumperError as exc:
        raise BrandKitError(f"the {kind} cannot be used: {exc}") from exc
    with storage.writer(brand_key(workspace_id, BUMPER_FILES[kind])) as out:
        out.write_bytes(video.read_bytes())
    return save_brand_kit(storage, workspace_id, read_brand_kit(storage, workspace_id))


def delete_bumper(storage: Storage, workspace_id: str, kind: BumperKind) -> BrandKit:
    key = brand_key(workspace_id, BUMPER_FILES[kind])
    if storage.exists(key):
        storage.delete(key)
    return save_brand_kit(storage, workspace_id, read_brand_kit(storage, workspace_id))


@contextlib.contextmanager
def local_bumpers(storage: Storage, workspace_id: str, kit: BrandKit) -> Iterator[Bumpers]:
    """Local paths of the workspace's intro and outro for the renderer (none when the kit has none)."""
    with contextlib.ExitStack() as stack:
        paths = {
            kind: stack.enter_context(storage.local_path(brand_key(workspace_id, name)))
            for kind, name in BUMPER_FILES.items()
            if getattr(kit, f"has_{kind}") and storage.exists(brand_key(workspace_id, name))
        }
        yield Bumpers(intro=paths.get("intro"), outro=paths.get("outro"))
