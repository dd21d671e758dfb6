"""What rendering any window of a source needs from its upstream stages, read once from storage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clipped.brand.kit import BrandKit
from clipped.effects import ClipEffects
from clipped.ingest.prepare import PreparedSource
from clipped.ingest.probe import MediaInfo
from clipped.layout import FACES_FILE, INFO_FILE, SCENES_FILE, SourceRef
from clipped.render.render_clip import RenderSpec
from clipped.storage import Storage
from clipped.types import FaceFrame, FacesResult, Scenes, Word


@dataclass(frozen=True)
class RenderInputs:
    """Media info, scene cuts and face tracks of one source."""

    media: MediaInfo
    cuts_s: list[float]
    faces_by_window: dict[str, list[FaceFrame]]

    def spec(
        self,
        video: Path,
        *,
        start_s: float,
        end_s: float,
        words: list[Word],
        candidate_id: str,
        aspect: str,
        caption_style: str,
        hook: str = "",
        effects: ClipEffects | None = None,
        brand: BrandKit | None = None,
        logo_path: Path | None = None,
        min_duration_s: float = 0.0,
        title: str = "",
    ) -> RenderSpec:
        """The render of ``[start_s, end_s]`` of ``video`` (the source's local copy), faces from that window."""
        return RenderSpec(
            source_path=video,
            start_s=start_s,
            end_s=end_s,
            words=words,
            face_frames=self.faces_by_window.get(candidate_id, []),
            scene_cuts_s=self.cuts_s,
            source_width=self.media.width,
            source_height=self.media.height,
            aspect=aspect,
            caption_style=caption_style,
            hook=hook,
            effects=effects or ClipEffects(),
            brand=brand or BrandKit(),
            logo_path=logo_path,
            min_duration_s=min_duration_s,
            title=title,
        )


def load_render_inputs(storage: Storage, source: SourceRef) -> RenderInputs:
    """Media info, scene cuts and face tracks of ``source``, read from the stages' stored outputs."""
    faces_result = storage.read_model(source.key(FACES_FILE), FacesResult)
    return RenderInputs(
        media=storage.read_model(source.key(INFO_FILE), PreparedSource).media,
        cuts_s=storage.read_model(source.key(SCENES_FILE), Scenes).cuts_s,
        faces_by_window={window.candidate_id: window.frames for window in faces_result.windows},
    )
