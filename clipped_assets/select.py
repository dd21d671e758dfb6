"""Selecting moments: `candidates` (scored windows) and `faces` (tracks inside the windows to render)."""

from dagster import AssetExecutionContext, DataVersion, MaterializeResult, MetadataValue, RetryPolicy

from clipped.faces.windows import track_faces_in_windows
from clipped.layout import (
    AUDIO_FEATURES_FILE,
    CANDIDATES_FILE,
    FACES_FILE,
    RANKING_FILE,
    SCENES_FILE,
    SOURCE_FILE,
    TRANSCRIPT_FILE,
)
from clipped.learn.versions import latest_key, read_latest_weights
from clipped.select.candidates import select_candidates
from clipped.stage_outputs import read_candidates, read_request
from clipped.stage_record import StageOutputs, upstream_fingerprint
from clipped.stages import AUDIO_FEATURES, CANDIDATES, FACES, SCENES, TRANSCRIPT
from clipped.types import AudioFeatures, Candidate, FacesResult, Scenes, Transcript
from clipped.understand.sentence_embedding import SentenceEmbedder
from clipped.writing.ranking import RankingReport
from clipped_assets.placement import GPU_OP_TAGS, GPU_POOL
from clipped_assets.step_context import materialize_stage, progress_for, source_of, stage_asset
from clipped_assets.understand import RUNTIME_ONLY_FIELDS, audio_features, scenes, transcript
from clipped_resources.ranker import RankerResource
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import StorageResource
from clipped_resources.vision import VisionResource


@stage_asset(
    CANDIDATES,
    deps=[transcript, scenes, audio_features],
    group_name="select",
    retry_policy=RetryPolicy(max_retries=2, delay=10),
    kinds={"python"},
    description=(
        "Windows on sentence boundaries scored into hook, flow, value and energy; top 3× max clips kept. "
        "Ranked with the workspace's latest accepted ranking_weights, when it has any; then re-ranked and written "
        "(title, hook, hashtags, captions per platform) by the ranker resource: heuristic, or Claude when configured."
    ),
)
def candidates(context: AssetExecutionContext, storage: StorageResource, ranker: RankerResource) -> MaterializeResult:
    source = source_of(context)
    settings = read_request(storage, source).settings
    key = source.key(CANDIDATES_FILE)
    report_key = source.key(RANKING_FILE)
    weights = read_latest_weights(storage, source.workspace_id)
    ranking = weights if weights.version else None  # version 0: the built-in weights, exactly as before

    def compute() -> StageOutputs:
        chosen = select_candidates(
            storage.read_model(source.key(TRANSCRIPT_FILE), Transcript),
            storage.read_model(source.key(AUDIO_FEATURES_FILE), AudioFeatures),
            storage.read_model(source.key(SCENES_FILE), Scenes),
            settings,
            ranking=ranking,
            embedder=SentenceEmbedder(),  # MiniLM: novelty, topic shifts and duplicates by meaning
        )
        ranked, report = ranker.rank(chosen, settings)  # never raises for the LLM's sake: falls back, says why
        storage.write_json(key, [candidate.model_dump(mode="json") for candidate in ranked])
        storage.write_model(report_key, report)
        return StageOutputs([key, report_key])

    upstream = [upstream_fingerprint(storage, source, stage) for stage in (TRANSCRIPT, SCENES, AUDIO_FEATURES)]
    # Learned weights join the fingerprint (so a newly accepted fit re-ranks on the next run or backfill, and
    # everything downstream follows); without any, the fingerprint is the one sources always had.
    inputs = [upstream, settings.model_dump(), *([ranking.lineage()] if ranking is not None else [])]
    if ranker.fingerprint() != {"ranker": "heuristic"}:
        inputs.append(ranker.fingerprint())
    record = materialize_stage(context, storage, CANDIDATES, inputs, compute)
    chosen = read_candidates(storage, source)
    report = storage.read_model(report_key, RankingReport)
    if report.fallback_reason:
        context.log.warning(f"{report.ranker} ranking fell back to the heuristic: {report.fallback_reason}")
    return MaterializeResult(
        metadata={
            "candidate_count": len(chosen),
            "top_score": MetadataValue.float(chosen[0].score if chosen else 0.0),
            "candidates": MetadataValue.md(candidates_table(chosen)),
            "ranking_weights_version": weights.version,
            "ranking_weights": MetadataValue.json(
                {"weights": weights.weights, "duration_terms": weights.duration_terms}
            ),
            **({"ranking_weights_key": latest_key(source.workspace_id)} if ranking is not None else {}),
            **ranking_metadata(report),
        },
        data_version=DataVersion(record.fingerprint),
    )


@stage_asset(
    FACES,
    deps=[candidates],
    group_name="select",
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
    settings = read_request(storage, source).settings
    key = source.key(FACES_FILE)

    def compute() -> StageOutputs:
        chosen = read_candidates(storage, source)[: settings.max_clips]
        windows = [(candidate.candidate_id, candidate.start_s, candidate.end_s) for candidate in chosen]
        with storage.local_path(source.key(SOURCE_FILE)) as video:
            result = track_faces_in_windows(
                video, windows, vision, sample_fps=render.sample_fps, on_progress=progress_for(context, FACES.name)
            )
        storage.write_model(key, result)
        return StageOutputs([key])

    inputs = [
        upstream_fingerprint(storage, source, CANDIDATES),
        vision.model_dump(exclude=RUNTIME_ONLY_FIELDS),
        render.sample_fps,
        settings.max_clips,
    ]
    materialize_stage(context, storage, FACES, inputs, compute)
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


def ranking_metadata(report: RankingReport) -> dict[str, object]:
    """Who ranked and wrote the candidates, whether it fell back and why, and the tokens and cost it took."""
    usage = report.usage
    return {
        "ranker": report.ranker,
        "ranked_by": report.used,
        **({"ranker_model": report.model} if report.model else {}),
        **({"ranker_fallback_reason": report.fallback_reason} if report.fallback_reason else {}),
        "llm_calls": usage.calls,
        "llm_input_tokens": usage.input_tokens,
        "llm_output_tokens": usage.output_tokens,
        "llm_cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "llm_cache_read_input_tokens": usage.cache_read_input_tokens,
        **({"llm_cost_usd": MetadataValue.float(usage.cost_usd)} if usage.cost_usd is not None else {}),
        "ranker_guard": MetadataValue.json({"held_in_place": report.held_in_place, "rejected": report.rejected}),
        "openings_cleaned": report.openings_cleaned,
    }


def candidates_table(chosen: list[Candidate]) -> str:
    """A markdown table a reviewer reads in the Dagster UI."""
    rows = [
        "| # | start–end | dur | score | hook | flow | value | energy | title | overlay | hashtags | reason |",
        "|" + "---|" * 12,
    ]
    for rank, c in enumerate(chosen, start=1):
        s = c.scores
        rows.append(
            f"| {rank} | {c.start_s:.1f}–{c.end_s:.1f} | {c.duration_s:.0f}s | {c.score:.2f} | {s.get('hook', 0):.2f} "
            f"| {s.get('flow', 0):.2f} | {s.get('value', 0):.2f} | {s.get('energy', 0):.2f} "
            f"| {_cell(c.title)} | {_cell(c.writing.hook)} | {_cell(' '.join(c.writing.hashtags))} "
            f"| {_cell(c.reason)} |"
        )
    return "\n".join(rows)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
