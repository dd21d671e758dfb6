"""The delivery contract every rendered clip is checked against before anyone may publish it."""

from __future__ import annotations

from collections.abc import Callable

from clipped.render.inspect_clip import ClipInspection
from clipped.render_manifest import RenderedClipsManifest
from clipped.types import ClipSettings, RenderedClip

CLIP_CHECKS = {
    "rendered_clips_have_target_resolution": "Every clip has the output size of its aspect (1080×1920 for 9:16)",
    "rendered_clips_within_duration_bounds": "Every clip lasts between the minimum and maximum duration",
    "rendered_clips_have_audio": "Every clip has an audio stream",
    "rendered_clips_free_of_black_or_frozen_stretches": "No black stretch ≥ 1 s and no frozen stretch ≥ 2 s",
    "rendered_clips_have_burned_captions": "Clips with speech show captions in the caption band",
    "rendered_clips_open_without_profanity": "No listed profanity is heard in a clip's first 3 s",
}
DURATION_TOLERANCE_S = 0.25


def failing_clip_ranks(manifest: RenderedClipsManifest, settings: ClipSettings) -> dict[str, list[int]]:
    """For each check of :data:`CLIP_CHECKS`, the ranks of the clips that fail it (empty when all pass)."""

    def failing(predicate: Callable[[RenderedClip, ClipInspection], bool]) -> list[int]:
        return [
            clip.rank for clip in manifest.clips if not predicate(clip, ClipInspection.model_validate(clip.inspection))
        ]

    return {
        "rendered_clips_have_target_resolution": failing(
            lambda clip, seen: (seen.width, seen.height) == (clip.width, clip.height)
        ),
        "rendered_clips_within_duration_bounds": failing(
            lambda clip, seen: (
                settings.min_duration_s - DURATION_TOLERANCE_S
                <= seen.duration_s
                <= settings.max_duration_s + DURATION_TOLERANCE_S
            )
        ),
        "rendered_clips_have_audio": failing(lambda clip, seen: seen.has_audio),
        "rendered_clips_free_of_black_or_frozen_stretches": failing(
            lambda clip, seen: not seen.black_stretches and not seen.frozen_stretches
        ),
        "rendered_clips_have_burned_captions": failing(lambda clip, seen: captions_burned(clip)),
        # Recorded by the render with the workspace's word list; clips rendered before the gate existed pass.
        "rendered_clips_open_without_profanity": failing(
            lambda clip, seen: not clip.inspection.get("profanity_in_opening", False)
        ),
    }


def captions_burned(clip: RenderedClip) -> bool:
    """Most sampled caption moments show the caption where libass draws it (a clip without words passes)."""
    samples = int(clip.inspection.get("caption_samples", 0))
    matched = int(clip.inspection.get("caption_samples_matched", 0))
    if not clip.words:
        return True
    return samples > 0 and matched >= 0.8 * samples
