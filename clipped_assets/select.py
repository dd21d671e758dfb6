"""Selecting moments: `candidates` (scored windows) and `faces` (tracks inside the windows to render)."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, RetryPolicy, asset

from clipped.faces.windows import track_faces_in_windows
from clipped.select.candidates import select_candidates
from clipped.stage_record import StageRecord, fingerprint, load_complete_record, require_record, save_record
from clipped.types import AudioFeatures, Candidate, FacesResult, Scenes, Transcript
from clipped_assets.ingest import SOURCE_FILE
from clipped_assets.partitions import source_video_partitions
from clipped_assets.placement import GPU_OP_TAGS, GPU_POOL
from clipped_assets.step_context import failing_clearly, progress_for, request_of, source_of
from clipped_assets.understand import (
    AUDIO_FEATURES_FILE,
    RUNTIME_ONLY_FIELDS,
    SCENES_FILE,
    TRANSCRIPT_FILE,
    audio_features,
    scenes,
    transcript,
)
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import StorageResource
from clipped_resources.vision import VisionResource

CANDIDATES_FILE = "candidates.json"
FACES_FILE = "faces.json"


@asset(
    partitions_def=source_video_partitions,
    deps=[transcript, scenes, audio_features],
    group_name="select",
    code_version="1",
    retry_policy=RetryPolicy(max_retries=2, delay=10),
    kinds={"python"},
    description="Windows on sentence boundaries scored into hook, flow, value and energy; top 3× max clips kept.",
)
def candidates(context: AssetExecutionContext, storage: StorageResource) -> MaterializeResult:
    with failing_clearly():
        source = source_of(context)
        settings = request_of(storage, source).settings
        upstream = [
            require_record(storage, source, stage).fingerprint for stage in ("transcript", "scenes", "audio_features")
        ]
        expected = fingerprint("candidates", "1", upstream, settings.model_dump())
        key = source.key(CANDIDATES_FILE)
        if load_complete_record(storage, source, "candidates", expected) is None:
            chosen = select_candidates(
                storage.read_model(source.key(TRANSCRIPT_FILE), Transcript),
                storage.read_model(source.key(AUDIO_FEATURES_FILE), AudioFeatures),
                storage.read_model(source.key(SCENES_FILE), Scenes),
                settings,
            )
            storage.write_json(key, [candidate.model_dump(mode="json") for candidate in chosen])
            save_record(storage, source, StageRecord(stage="candidates", fingerprint=expected, outputs=[key]))
        chosen = load_candidates(storage, source.key(CANDIDATES_FILE))
        return MaterializeResult(
            metadata={
                "candidate_count": len(chosen),
                "top_score": MetadataValue.float(chosen[0].score if chosen else 0.0),
                "candidates": MetadataValue.md(candidates_table(chosen)),
            }
        )


@asset(
    partitions_def=source_video_partitions,
    deps=[candidates],
    group_name="select",
    code_version="1",
    retry_policy=RetryPolicy(max_retries=1, delay=30),
    op_tags=GPU_OP_TAGS,
    pool=GPU_POOL,
    kinds={"onnx"},
    description="Face boxes and track ids, sampled only inside the candidate windows that will be rendered.",
)
def faces(
    context: AssetExecutionContext, storage: StorageResource, vision: VisionResource, render: RenderOptions
) -> MaterializeResult:
    source = source_of(context)
    settings = request_of(storage, source).settings
    upstream = require_record(storage, source, "candidates").fingerprint
    expected = fingerprint(
        "faces", "1", upstream, vision.model_dump(exclude=RUNTIME_ONLY_FIELDS), render.sample_fps, settings.max_clips
    )
    key = source.key(FACES_FILE)
    if load_complete_record(storage, source, "faces", expected) is None:
        chosen = load_candidates(storage, source.key(CANDIDATES_FILE))[: settings.max_clips]
        windows = [(candidate.candidate_id, candidate.start_s, candidate.end_s) for candidate in chosen]
        with storage.local_path(source.key(SOURCE_FILE)) as video:
            result = track_faces_in_windows(
                video, windows, vision, sample_fps=render.sample_fps, on_progress=progress_for(context, "faces")
            )
        storage.write_model(key, result)
        save_record(storage, source, StageRecord(stage="faces", fingerprint=expected, outputs=[key]))
    result = storage.read_model(key, FacesResult)
    frames = [frame for window in result.windows for frame in window.frames]
    with_face = sum(1 for frame in frames if frame.faces)
    tracks = {
        (window.candidate_id, face.track_id) for window in result.windows for f in window.frames for face in f.faces
    }
    return MaterializeResult(
        metadata={
            "detector": result.detector,
            "windows": len(result.windows),
            "frames_sampled": len(frames),
            "frames_with_face_share": MetadataValue.float(round(with_face / len(frames), 3) if frames else 0.0),
            "track_count": len(tracks),
        }
    )


def load_candidates(storage: StorageResource, key: str) -> list[Candidate]:
    return [Candidate.model_validate(item) for item in storage.read_json(key)]


def candidates_table(chosen: list[Candidate]) -> str:
    """A markdown table a reviewer reads in the Dagster UI."""
    rows = ["| # | start–end | dur | score | hook | flow | value | energy | title | reason |", "|" + "---|" * 10]
    for rank, c in enumerate(chosen, start=1):
        s = c.scores
        rows.append(
            f"| {rank} | {c.start_s:.1f}–{c.end_s:.1f} | {c.duration_s:.0f}s | {c.score:.2f} | {s.get('hook', 0):.2f} "
            f"| {s.get('flow', 0):.2f} | {s.get('value', 0):.2f} | {s.get('energy', 0):.2f} "
            f"| {_cell(c.title)} | {_cell(c.reason)} |"
        )
    return "\n".join(rows)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
