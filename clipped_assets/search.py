"""`moment_index`: a source's sentences and on-screen text in its workspace's moment search (clipped.search)."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, RetryPolicy

from clipped.layout import SOURCE_FILE, TRANSCRIPT_FILE
from clipped.search.frames import ScreenTextUnavailableError
from clipped.search.moments import index_source
from clipped.stage_record import StageOutputs, upstream_fingerprint
from clipped.stages import MOMENT_INDEX, SOURCE_VIDEO, TRANSCRIPT
from clipped.types import Transcript
from clipped_assets.step_context import materialize_stage, progress_for, source_of, stage_asset
from clipped_assets.understand import transcript
from clipped_resources.storage import StorageResource
from clipped_resources.vector_store import VectorStoreResource

# Where the index lives and how fast it embeds change nothing about the rows.
INDEX_RUNTIME_FIELDS = {"uri", "storage_options", "embedding_threads"}


@stage_asset(
    MOMENT_INDEX,
    deps=[transcript],
    group_name="understand",
    retry_policy=RetryPolicy(max_retries=1, delay=10),
    kinds={"lancedb", "onnx"},
    description=(
        "Transcript sentences and on-screen text (OCR of sampled frames) embedded with all-MiniLM-L6-v2 into the "
        "workspace's LanceDB moment table, with a thumbnail each: what GET /api/search finds."
    ),
)
def moment_index(
    context: AssetExecutionContext, storage: StorageResource, vector_store: VectorStoreResource
) -> MaterializeResult:
    source = source_of(context)
    store = vector_store.store()
    try:
        read_screen, ocr_note = vector_store.screen_reader(), ""
    except ScreenTextUnavailableError as exc:
        read_screen, ocr_note = None, str(exc)
        context.log.warning(f"moment index without on-screen text: {exc}")

    def compute() -> StageOutputs:
        words = storage.read_model(source.key(TRANSCRIPT_FILE), Transcript)
        with storage.local_path(source.key(SOURCE_FILE)) as video:
            summary = index_source(
                storage,
                source,
                video,
                words,
                vector_store.embedder(),
                store,
                read_screen=read_screen,
                ocr_frames=vector_store.ocr_frames,
                on_progress=progress_for(context, MOMENT_INDEX.name),
            )
        return StageOutputs(summary.thumbnail_keys, summary=summary.as_metadata())

    inputs = [
        upstream_fingerprint(storage, source, TRANSCRIPT),
        upstream_fingerprint(storage, source, SOURCE_VIDEO),
        vector_store.model_dump(exclude=INDEX_RUNTIME_FIELDS),
        read_screen is not None,
    ]
    record = materialize_stage(context, storage, MOMENT_INDEX, inputs, compute)
    # The record says the thumbnails are complete; the rows live in LanceDB, so a store that lost them (a new
    # uri, a deleted table) re-indexes even when the fingerprint matches.
    if store.count(source.workspace_id, source.partition_key) < int(record.summary.get("rows", 0)):
        context.log.info("moment rows missing from the store: indexing again")
        record = materialize_stage(context, storage, MOMENT_INDEX, [*inputs, "reindex"], compute)
    summary = record.summary
    return MaterializeResult(
        metadata={
            "speech_moments": int(summary.get("speech_rows", 0)),
            "screen_moments": int(summary.get("screen_rows", 0)),
            "thumbnails": int(summary.get("thumbnails", 0)),
            "ocr_frames": int(summary.get("ocr_frames", 0)),
            "ocr": ocr_note or "rapidocr",
            "screen_text_samples": MetadataValue.json(summary.get("samples", [])),
            "rows_in_store": store.count(source.workspace_id, source.partition_key),
            "table": store.database_uri(source.workspace_id),
        }
    )
