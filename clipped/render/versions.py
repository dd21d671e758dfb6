"""Versions of a rendered clip: the same window of the source rendered again with other settings (a caption style).

A version is asked for by writing its request into its own folder (``{workspace}/clips/{clip_id}-v{n}/``); the
``clip_version`` asset then renders it there, beside the request, and checks it against the delivery contract.
Old versions are never touched: each has its own folder.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from clipped.brand.bumpers import local_bumpers
from clipped.brand.kit import local_logo, read_brand_kit
from clipped.editing import retext_words, snap_window
from clipped.effects import ClipEffects
from clipped.layout import (
    CLIP_FILES,
    RENDERED_CLIPS_FILE,
    SOURCE_FILE,
    TRANSCRIPT_FILE,
    VERSION_CLIP_FILE,
    VERSION_REQUEST_FILE,
    ClipVersionRef,
    SourceRef,
)
from clipped.progress import ProgressCallback, no_progress
from clipped.render.clip_checks import failing_clip_ranks
from clipped.render.clip_set import ClipEncoder, render_and_inspect
from clipped.render.inputs import load_render_inputs
from clipped.render_manifest import RenderedClipsManifest
from clipped.stage_outputs import read_request
from clipped.stage_record import Stage
from clipped.stages import CLIP_VERSION
from clipped.storage import Storage
from clipped.types import Aspect, Candidate, ClipSettings, RenderedClip, Transcript

MAX_VARIATIONS = 4  # each variant is a full encode

# The delivery contract of rendered_clips, checked on one version; each name maps to the rendered_clips check.
_CONTRACT = {
    "clip_version_has_target_resolution": "rendered_clips_have_target_resolution",
    "clip_version_within_duration_bounds": "rendered_clips_within_duration_bounds",
    "clip_version_has_audio": "rendered_clips_have_audio",
    "clip_version_free_of_black_or_frozen_stretches": "rendered_clips_free_of_black_or_frozen_stretches",
    "clip_version_has_burned_captions": "rendered_clips_have_burned_captions",
    "clip_version_opens_without_profanity": "rendered_clips_open_without_profanity",
}
VERSION_CHECKS = {
    "clip_version_has_target_resolution": "The version has the output size of its aspect (1080×1920 for 9:16)",
    "clip_version_within_duration_bounds": "The version lasts between the source's minimum and maximum duration",
    "clip_version_has_audio": "The version has an audio stream",
    "clip_version_free_of_black_or_frozen_stretches": "No black stretch ≥ 1 s and no frozen stretch ≥ 2 s",
    "clip_version_has_burned_captions": "A version with speech shows captions in the caption band",
    "clip_version_opens_without_profanity": "No listed profanity is heard in the version's first 3 s",
}


class ClipVersionError(LookupError):
    """Something a version needs is not there (its request, or its clip in the manifest): retrying the same
    request cannot help."""


class ClipVersionRequest(BaseModel):
    """What one version of a clip is rendered with. Its files' keys follow from the clip id and number alone
    (:func:`version_keys`), so a stored request can never point a render outside the version's folder."""

    clip_id: str
    version: int = Field(ge=1)
    caption_style: str
    aspect: Aspect = "9:16"
    # Finishing options (clipped.effects); None: the job's settings.
    effects: ClipEffects | None = None
    # An editor's changes (clipped.editing): a trim on the source's transcript, snapped to its words, and the
    # caption text with misheard words fixed. None: the original clip's window and words.
    start_s: float | None = Field(default=None, ge=0)
    end_s: float | None = Field(default=None, gt=0)
    caption_text: str | None = Field(default=None, max_length=20_000)
    # Render this many variations of the clip's moment instead (clipped.render.variation_set): variant i becomes
    # version ``version - i``, so variant 0, the moment as ranked, is the newest.
    variations: int | None = Field(default=None, ge=2, le=MAX_VARIATIONS)

    def ref(self, source: SourceRef) -> ClipVersionRef:
        return ClipVersionRef(source, self.clip_id, self.version)


def version_keys(ref: ClipVersionRef) -> dict[str, str]:
    """Storage keys of a version's files by name (``clip.mp4``, ``thumbnail.jpg``, ``captions.ass``)."""
    return {name: ref.key(name) for name in CLIP_FILES}


def version_output_keys(ref: ClipVersionRef) -> list[str]:
    """Every key a rendered version writes: what must exist for it to count as complete."""
    return [*version_keys(ref).values(), ref.key(VERSION_CLIP_FILE)]


def version_stage(ref: ClipVersionRef) -> Stage:
    """The stage whose record marks this one version complete.

    Stage records are kept per stage name and source, and a source has many versions: each gets its own name
    under ``clip_version/``, so completing one version never invalidates another's record.
    """
    return Stage(f"{CLIP_VERSION.name}/{ref.folder}", CLIP_VERSION.code_version)


def save_version_request(storage: Storage, source: SourceRef, request: ClipVersionRequest) -> ClipVersionRef:
    """Store ``request`` in its version's folder, where the ``clip_version`` run reads it; returns the version."""
    ref = request.ref(source)
    storage.write_model(ref.key(VERSION_REQUEST_FILE), request)
    return ref


def read_version_request(storage: Storage, ref: ClipVersionRef) -> ClipVersionRequest:
    """The stored request of ``ref``; a :class:`ClipVersionError` when there is none or it names another version."""
    key = ref.key(VERSION_REQUEST_FILE)
    if not storage.exists(key):
        raise ClipVersionError(f"no request stored for clip version {ref.folder} of {ref.source.partition_key}")
    request = storage.read_model(key, ClipVersionRequest)
    if request.ref(ref.source) != ref:
        raise ClipVersionError(f"the request stored at {key} is for version {request.ref(ref.source).folder}")
    return request


def rendered_clip(storage: Storage, source: SourceRef, clip_id: str) -> RenderedClip:
    """Clip ``clip_id`` of the source's rendered_clips manifest (its window, words and scores)."""
    manifest = storage.read_model(source.key(RENDERED_CLIPS_FILE), RenderedClipsManifest)
    for clip in manifest.clips:
        if clip.clip_id == clip_id:
            return clip
    raise ClipVersionError(f"clip {clip_id} is no longer in the rendered clips manifest")


def edited_clip(
    storage: Storage, source: SourceRef, original: RenderedClip, request: ClipVersionRequest
) -> RenderedClip:
    """``original`` with the request's edits applied: its window trimmed (or widened) on the source's transcript
    and snapped to words, and its captions' text corrected; unchanged when the request has no edits."""
    clip = original
    if request.start_s is not None or request.end_s is not None:
        transcript = storage.read_model(source.key(TRANSCRIPT_FILE), Transcript)
        start_s, end_s, words = snap_window(
            transcript.words,
            original.start_s if request.start_s is None else request.start_s,
            original.end_s if request.end_s is None else request.end_s,
        )
        clip = clip.model_copy(update={"start_s": start_s, "end_s": end_s, "words": words, "kept_spans_s": []})
    if request.caption_text is not None:
        clip = clip.model_copy(update={"words": retext_words(clip.words, request.caption_text)})
    return clip


def render_clip_version(
    storage: Storage,
    encoder: ClipEncoder,
    source: SourceRef,
    request: ClipVersionRequest,
    on_progress: ProgressCallback = no_progress,
) -> RenderedClip:
    """Render the window of clip ``request.clip_id`` again with the request's settings into the version's folder,
    inspect the result, and write its description (``clip.json``) last; returns that description."""
    ref = request.ref(source)
    original = edited_clip(storage, source, rendered_clip(storage, source, request.clip_id), request)
    inputs = load_render_inputs(storage, source)
    # The rendered clip carries everything its candidate had; rendering and inspecting take a candidate.
    candidate = Candidate(
        candidate_id=original.candidate_id,
        start_s=original.start_s,
        end_s=original.end_s,
        score=original.score,
        scores=original.scores,
        reason=original.reason,
        title=original.title,
        text=" ".join(word.word for word in original.words),
        words=original.words,
        writing=original.writing,
    )
    job_settings = read_request(storage, source).settings
    effects = request.effects or job_settings.effects
    brand = read_brand_kit(storage, source.workspace_id)
    with (
        storage.local_path(source.key(SOURCE_FILE)) as video,
        local_logo(storage, source.workspace_id, brand) as logo,
        local_bumpers(storage, source.workspace_id, brand) as bumpers,
    ):
        spec = inputs.spec(
            video,
            start_s=original.start_s,
            end_s=original.end_s,
            words=original.words,
            candidate_id=original.candidate_id,
            aspect=request.aspect,
            caption_style=request.caption_style,
            hook=original.writing.hook,
            effects=effects,
            brand=brand,
            logo_path=logo,
            min_duration_s=job_settings.min_duration_s,
            title=original.title,
        )
        clip = render_and_inspect(
            storage, encoder, source, ref.folder, original.rank, candidate, spec, on_progress, bumpers
        )
    storage.write_model(ref.key(VERSION_CLIP_FILE), clip)
    return clip


def version_check_results(clip: RenderedClip, settings: ClipSettings) -> dict[str, bool]:
    """Whether the rendered version passes each check of :data:`VERSION_CHECKS` (the rendered_clips contract)."""
    failing = failing_clip_ranks(
        RenderedClipsManifest(partition="", duration_s=0.0, language="", clips=[clip]), settings
    )
    return {name: not failing[contract] for name, contract in _CONTRACT.items()}
