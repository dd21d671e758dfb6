"""Summarizing a source: `source_summary` (summary, key points, chapters on sentence starts)."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, RetryPolicy

from clipped.layout import SUMMARY_FILE, TRANSCRIPT_FILE
from clipped.stage_record import StageOutputs, upstream_fingerprint
from clipped.stages import SOURCE_SUMMARY, TRANSCRIPT
from clipped.types import Transcript
from clipped.understand.summary import SourceSummary
from clipped_assets.step_context import materialize_stage, source_of, stage_asset
from clipped_assets.understand import transcript
from clipped_resources.ranker import RankerResource
from clipped_resources.storage import StorageResource


@stage_asset(
    SOURCE_SUMMARY,
    deps=[transcript],
    group_name="understand",
    retry_policy=RetryPolicy(max_retries=1, delay=10),
    kinds={"python"},
    description=(
        "Summary, key points and chapters (starting on sentence starts) of the source: Claude's when the ranker is "
        "configured for it, else extractive (TF-IDF sentence centrality, TextTiling chapters)."
    ),
)
def source_summary(
    context: AssetExecutionContext, storage: StorageResource, ranker: RankerResource
) -> MaterializeResult:
    source = source_of(context)
    key = source.key(SUMMARY_FILE)

    def compute() -> StageOutputs:
        storage.write_model(key, ranker.summarize(storage.read_model(source.key(TRANSCRIPT_FILE), Transcript)))
        return StageOutputs([key])

    inputs = [upstream_fingerprint(storage, source, TRANSCRIPT), ranker.fingerprint()]
    materialize_stage(context, storage, SOURCE_SUMMARY, inputs, compute)
    summary = storage.read_model(key, SourceSummary)
    if summary.fallback_reason:
        context.log.warning(f"summary fell back to the extractive one: {summary.fallback_reason}")
    usage = summary.usage
    return MaterializeResult(
        metadata={
            "method": summary.method,
            **({"fallback_reason": summary.fallback_reason} if summary.fallback_reason else {}),
            "chapter_count": len(summary.chapters),
            "key_point_count": len(summary.key_points),
            "summary": MetadataValue.md(summary_markdown(summary)),
            **({"llm_input_tokens": usage.input_tokens, "llm_output_tokens": usage.output_tokens} if usage else {}),
            **({"llm_cost_usd": MetadataValue.float(usage.cost_usd)} if usage and usage.cost_usd is not None else {}),
        }
    )


def summary_markdown(summary: SourceSummary) -> str:
    """What a reviewer reads in the Dagster UI: the summary, the key points and a chapter list with times."""
    points = "\n".join(f"- {point}" for point in summary.key_points)
    chapters = "\n".join(f"- {_clock(c.start_s)} {c.title}" for c in summary.chapters)
    return f"{summary.summary}\n\n**Key points**\n\n{points}\n\n**Chapters**\n\n{chapters}"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
