"""Re-rendering a clip with other settings (a new version beside the old ones) and caption-style preview frames.

A re-render is a run of ``clip_version_job`` for the version's partition, launched like any job: the API stores the
version's request, adds its partition and launches the run, and a version's status follows its run's from then on.
No re-render is encoded in this process; only the one-frame caption preview is.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable
from pathlib import Path

from dagster import DagsterEventType, DagsterRun, DagsterRunStatus, RunsFilter
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Clip, ClipVersion, Job
from api.services.job_status import RUN_LEVEL_REPORTS, failure_reason, run_level_reason
from api.state import AppState
from clipped.brand.kit import read_brand_kit
from clipped.effects import ClipEffects
from clipped.layout import CLIP_VERSION_PARTITIONS, SOURCE_FILE, VERSION_CLIP_FILE, ClipVersionRef, SourceRef
from clipped.media.ffmpeg import run_ffmpeg
from clipped.render.captions_ass import build_ass
from clipped.render.crop_path import plan_crop_path
from clipped.render.filtergraph import ass_filter
from clipped.render.finishing import caption_look, caption_options
from clipped.render.inputs import RenderInputs, load_render_inputs
from clipped.render.render_clip import OUTPUT_FPS, output_size
from clipped.render.variation_set import MomentVariations, variation_plans, variations_key
from clipped.render.versions import (
    ClipVersionError,
    ClipVersionRequest,
    edited_clip,
    read_version_request,
    rendered_clip,
    save_version_request,
    version_keys,
)
from clipped.search.moment_clip import MOMENT_CLIP_PREFIX, save_moment_version
from clipped.stage_outputs import read_request
from clipped.types import RenderedClip

log = logging.getLogger("clipped.api")
ClipEdits = dict[str, object]  # start_s, end_s, caption_text, effects: ClipVersionRequest's optional fields
EDIT_FIELDS = ("start_s", "end_s", "caption_text", "effects")
RUN_FAILED = {DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
ERROR_MAX_CHARS = 500


def version_ref(job: Job, clip: Clip, number: int) -> ClipVersionRef:
    """Version ``number`` of ``clip``: its own folder under the job's workspace, old files untouched."""
    return ClipVersionRef(SourceRef.from_partition_key(job.partition_key), clip.manifest_clip_id, number)


def preview_frame(state: AppState, job: Job, clip: Clip, caption_style: str) -> bytes:
    """One JPEG frame of the clip as it is framed (its own face-following crop at that moment, at the delivery
    size) with ``caption_style`` captions drawn.

    The frame is taken where a word starts about a third into the clip, so there is always a caption to see.
    """
    storage, source = state.storage, SourceRef.from_partition_key(job.partition_key)
    rendered = rendered_clip(storage, source, clip.manifest_clip_id)
    aspect = job.settings.get("aspect", "9:16")
    width, height = output_size(aspect)
    words = [w for w in rendered.words if rendered.start_s <= w.start_s < rendered.end_s]
    at_s = words[len(words) // 3].start_s + 0.05 if words else rendered.start_s
    # The job's finishing options and the workspace's brand kit, as the render would draw them.
    effects = ClipEffects.model_validate(job.settings.get("effects") or {})
    look = caption_look(read_brand_kit(storage, source.workspace_id))
    options = caption_options(effects, width, height)
    script = build_ass(rendered.words, at_s, rendered.end_s, width, height, caption_style, options=options, look=look)
    window = crop_window_at(load_render_inputs(storage, source), rendered, aspect, at_s)
    with (
        tempfile.TemporaryDirectory(prefix="clipped-preview-") as scratch,
        storage.local_path(source.key(SOURCE_FILE)) as video,
    ):
        ass_path, out = Path(scratch) / "captions.ass", Path(scratch) / "preview.jpg"
        ass_path.write_text(script)
        crop = "crop={}:{}:{}:{}".format(*window)
        args = ["-ss", f"{at_s:.3f}", "-i", str(video), "-frames:v", "1"]
        args += ["-vf", f"{crop},scale={width}:{height},setsar=1,{ass_filter(ass_path)}", "-q:v", "4", str(out)]
        run_ffmpeg(args)
        return out.read_bytes()


def crop_window_at(inputs: RenderInputs, clip: RenderedClip, aspect: str, at_s: float) -> tuple[int, int, int, int]:
    """(width, height, x, y) of the crop the render uses at source time ``at_s``: the same face-following path
    (:func:`clipped.render.crop_path.plan_crop_path`, from the clip's faces and the scene cuts) the clip was
    rendered with, so the preview shows the person the clip shows."""
    path = plan_crop_path(
        inputs.faces_by_window.get(clip.candidate_id, []),
        clip.start_s,
        clip.end_s,
        inputs.media.width,
        inputs.media.height,
        aspect,
        inputs.cuts_s,
        fps=OUTPUT_FPS,
    )
    index = min(len(path.keyframes) - 1, max(0, round((at_s - clip.start_s) * path.fps)))
    frame = path.keyframes[index]
    return path.crop_w, path.crop_h, frame.x, frame.y


def check_edits(state: AppState, job: Job, clip: Clip, edits: ClipEdits) -> None:
    """Refuse edits that cannot apply (a trim with no words in it, empty caption text) before a version is
    queued: raises :class:`clipped.editing.ClipEditError` saying why."""
    if not edits:
        return
    source = SourceRef.from_partition_key(job.partition_key)
    request = ClipVersionRequest(clip_id=clip.manifest_clip_id, version=1, caption_style=clip.caption_style, **edits)
    edited_clip(state.storage, source, rendered_clip(state.storage, source, clip.manifest_clip_id), request)


def queue_rerender(
    state: AppState, session: Session, job: Job, clip: Clip, caption_style: str, edits: ClipEdits | None = None
) -> ClipVersion:
    """Add the next version of ``clip`` ("rendering") and launch its run; the version is returned at once.

    ``edits`` (a trim, corrected caption text: :class:`ClipVersionRequest`'s editing fields) go into the version's
    request, so the run renders them."""
    latest = max((v.version for v in session.query(ClipVersion).filter(ClipVersion.clip_id == clip.id)), default=0)
    keys = version_keys(version_ref(job, clip, latest + 1))
    version = ClipVersion(
        clip_id=clip.id,
        version=latest + 1,
        caption_style=caption_style,
        status="rendering",
        video_key=keys["clip.mp4"],
        thumbnail_key=keys["thumbnail.jpg"],
    )
    session.add(version)
    session.commit()  # the number is taken (unique per clip) before anything is written under it
    launch_version(state, session, job, clip, version, edits or {})
    return version


def queue_variations(state: AppState, session: Session, job: Job, clip: Clip, count: int) -> list[ClipVersion]:
    """Add ``count`` versions of ``clip`` ("rendering"), one per variant of its moment, and launch the one run that
    renders them all (:func:`clipped.render.variation_set.render_variation_versions`); variant 0, the moment as
    ranked, is the newest version. Raises :class:`ClipVersionError` for a clip with no rendered original."""
    if clip.manifest_clip_id.startswith(MOMENT_CLIP_PREFIX):
        raise ClipVersionError("a clip made from a searched moment has no ranked moment to vary")
    source = SourceRef.from_partition_key(job.partition_key)
    original = rendered_clip(state.storage, source, clip.manifest_clip_id)
    # The same plans the run makes (the job's stored settings), so each version's caption style is known now.
    min_duration_s = read_request(state.storage, source).settings.min_duration_s
    plans = variation_plans(original, clip.caption_style, min_duration_s, count)
    latest = max((v.version for v in session.query(ClipVersion).filter(ClipVersion.clip_id == clip.id)), default=0)
    newest = latest + count
    versions = []
    for plan in plans:
        keys = version_keys(version_ref(job, clip, newest - plan.index))
        versions.append(
            ClipVersion(
                clip_id=clip.id,
                version=newest - plan.index,
                caption_style=plan.caption_style,
                status="rendering",
                video_key=keys["clip.mp4"],
                thumbnail_key=keys["thumbnail.jpg"],
            )
        )
    session.add_all(versions)
    session.commit()  # the numbers are taken before anything is written under them
    request = ClipVersionRequest(
        clip_id=clip.manifest_clip_id,
        version=newest,
        caption_style=clip.caption_style,
        aspect=job.settings.get("aspect", "9:16"),
        variations=count,
    )
    try:
        ref = save_version_request(state.storage, source, request)
    except Exception as exc:
        log.exception("could not store the variations request of clip %s", clip.id)
        for version in versions:
            version.status, version.error = "failed", f"the variations could not start: {_one_line(exc)}"
        session.commit()
        return versions
    launch_variation_set(state, session, ref, versions)
    return versions


def launch_variation_set(state: AppState, session: Session, ref: ClipVersionRef, versions: list[ClipVersion]) -> None:
    """Launch the one run of a variations set whose request is stored at ``ref`` (its newest version) for all of
    ``versions``; a launch that fails fails them all with the reason."""
    try:
        if not state.instance.has_dynamic_partition(CLIP_VERSION_PARTITIONS, ref.folder):
            state.instance.add_dynamic_partitions(CLIP_VERSION_PARTITIONS, [ref.folder])
        run_id = state.launcher.launch_clip_version(ref)
        for version in versions:
            version.run_id = run_id
    except Exception as exc:
        log.exception("could not launch the variations %s", ref.folder)
        for version in versions:
            version.status, version.error = "failed", f"the variations could not start: {_one_line(exc)}"
    session.commit()


def stored_variations(state: AppState, job: Job, clip: Clip) -> MomentVariations | None:
    """The latest rendered set of variations of ``clip``, or None before the first."""
    key = variations_key(SourceRef.from_partition_key(job.partition_key), clip.manifest_clip_id)
    return state.storage.read_model(key, MomentVariations) if state.storage.exists(key) else None


def launch_version(
    state: AppState, session: Session, job: Job, clip: Clip, version: ClipVersion, edits: ClipEdits | None = None
) -> None:
    """Store the version's request, add its partition and launch its run; a launch that fails fails the version
    (with the reason) rather than leaving it "rendering" with no run. Without ``edits`` (a relaunch after a
    restart), the edits of the request already stored for the version are kept."""
    source = SourceRef.from_partition_key(job.partition_key)
    if edits is None:
        edits = stored_edits(state, version_ref(job, clip, version.version))
    request = ClipVersionRequest(
        clip_id=clip.manifest_clip_id,
        version=version.version,
        caption_style=version.caption_style,
        aspect=job.settings.get("aspect", "9:16"),
        **edits,
    )
    try:
        if request.clip_id.startswith(MOMENT_CLIP_PREFIX):  # its window lives in its first version's request
            ref = save_moment_version(state.storage, source, request)
        else:
            ref = save_version_request(state.storage, source, request)
        if not state.instance.has_dynamic_partition(CLIP_VERSION_PARTITIONS, ref.folder):
            state.instance.add_dynamic_partitions(CLIP_VERSION_PARTITIONS, [ref.folder])
        version.run_id = state.launcher.launch_clip_version(ref)
    except Exception as exc:
        log.exception("could not launch the re-render of clip %s v%s", clip.id, version.version)
        version.status, version.error = "failed", f"the re-render could not start: {_one_line(exc)}"
    session.commit()


def stored_edits(state: AppState, ref: ClipVersionRef) -> ClipEdits:
    """The editing fields of the request stored for ``ref`` (none when there is no request yet)."""
    try:
        stored = read_version_request(state.storage, ref)
    except (ClipVersionError, FileNotFoundError):
        return {}
    return {name: getattr(stored, name) for name in EDIT_FIELDS if getattr(stored, name) is not None}


def settle_versions(state: AppState, session: Session, clips: Iterable[Clip]) -> None:
    """Bring the versions of ``clips`` still "rendering" up to date with their runs.

    A finished run makes its version "ready" (and the clip's current one, when it is the newest) or "failed" with
    the failing step's reason. Runs the instance does not know yet, or that are still going, change nothing.
    """
    by_id = {clip.id: clip for clip in clips}
    if not by_id:
        return
    pending = session.scalars(
        select(ClipVersion).where(
            ClipVersion.clip_id.in_(by_id), ClipVersion.status == "rendering", ClipVersion.run_id.is_not(None)
        )
    ).all()
    if not pending:
        return
    runs = {run.run_id: run for run in state.instance.get_runs(RunsFilter(run_ids=[v.run_id for v in pending]))}
    settled = False
    for version in sorted(pending, key=lambda v: v.version):
        run = runs.get(version.run_id)
        if run is None:
            continue
        if run.status == DagsterRunStatus.SUCCESS:
            version.status = "ready"
            clip = by_id[version.clip_id]
            if version.version > clip.version:
                clip.version, clip.caption_style = version.version, version.caption_style
                _take_window(state, clip, version)
        elif run.status in RUN_FAILED:
            version.status, version.error = "failed", run_failure(state, run)
        else:
            continue
        settled = True
    if settled:
        session.commit()


def _take_window(state: AppState, clip: Clip, version: ClipVersion) -> None:
    """The clip's times become those of its newest version (an edited one may have been trimmed)."""
    try:
        rendered = state.storage.read_model(version.video_key.rsplit("/", 1)[0] + "/" + VERSION_CLIP_FILE, RenderedClip)
    except (FileNotFoundError, ValueError):
        return
    clip.start_s, clip.end_s = rendered.start_s, rendered.end_s


def run_failure(state: AppState, run: DagsterRun) -> str:
    """One line on why ``run`` did not succeed: its failing step's reason, read as job status reads it."""
    if run.status == DagsterRunStatus.CANCELED:
        return "the re-render was canceled"
    for entry in state.instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE):
        if entry.dagster_event is not None:
            return failure_reason(entry.dagster_event)[:ERROR_MAX_CHARS]
    return run_level_reason(state.instance.all_logs(run.run_id, of_type=RUN_LEVEL_REPORTS))[:ERROR_MAX_CHARS]


def resume_rerenders(state: AppState) -> list[str]:
    """Launch again every version still "rendering" whose run never reached the instance; returns their ids.

    The embedded launcher queues runs in memory, and a version may predate runs (rendered in this process): after
    a restart nothing else would finish them. A run the instance knows is left alone; its status settles on read.
    """
    resumed: list[str] = []
    with state.sessions() as session:
        pending = session.scalars(select(ClipVersion).where(ClipVersion.status == "rendering")).all()
        handled: set[str] = set()
        for version in sorted(pending, key=lambda v: -v.version):  # a variations set's request is on its newest
            if version.id in handled:
                continue
            if version.run_id is not None and state.instance.get_run_by_id(version.run_id) is not None:
                continue
            clip = session.get(Clip, version.clip_id)
            job = session.get(Job, clip.job_id) if clip is not None else None
            if clip is None or job is None:
                continue
            log.info("relaunching re-render of clip %s v%s: its run never started", clip.id, version.version)
            ref = version_ref(job, clip, version.version)
            count = _stored_variations_count(state, ref)
            if count:  # the whole set again, in one run, for the versions it renders
                rows = [
                    p
                    for p in pending
                    if p.clip_id == clip.id and version.version - count < p.version <= version.version
                ]
                launch_variation_set(state, session, ref, rows)
                handled.update(p.id for p in rows)
                resumed.extend(p.id for p in rows)
                continue
            launch_version(state, session, job, clip, version)
            resumed.append(version.id)
    return resumed


def _stored_variations_count(state: AppState, ref: ClipVersionRef) -> int:
    try:
        return read_version_request(state.storage, ref).variations or 0
    except (ClipVersionError, FileNotFoundError):
        return 0


def _one_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[-1] if lines else type(exc).__name__)[:ERROR_MAX_CHARS]
