"""`clip_version`: one rendered clip rendered again with another caption style, a new version beside the old.

The review API stores the version's request, adds its partition and launches ``clip_version_job`` for it, so a
re-render is a run like any other: in the UI's lineage under ``rendered_clips``, and on the k8s workers in prod.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)

from clipped.brand.kit import brand_fingerprint
from clipped.layout import VERSION_CLIP_FILE, ClipVersionRef
from clipped.media.ffmpeg import ffmpeg_identity
from clipped.render.variation_set import (
    MomentVariations,
    render_variation_versions,
    variation_output_keys,
    variations_key,
)
from clipped.render.versions import (
    VERSION_CHECKS,
    read_version_request,
    render_clip_version,
    version_check_results,
    version_output_keys,
    version_stage,
)
from clipped.review_links import clip_page
from clipped.search.moment_clip import is_moment_clip, read_moment_clip_request, render_moment_clip
from clipped.stage_outputs import read_request
from clipped.stage_record import StageOutputs, reuse_or_compute
from clipped.stages import CLIP_VERSION
from clipped.types import RenderedClip
from clipped_assets.finishing_config import FinishingConfig
from clipped_assets.partitions import clip_version_partitions
from clipped_assets.render import rendered_clips
from clipped_assets.step_context import bad_input_policy, progress_for
from clipped_resources.render_options import RenderOptions
from clipped_resources.storage import StorageResource


@asset(
    name=CLIP_VERSION.name,
    code_version=CLIP_VERSION.code_version,
    partitions_def=clip_version_partitions,
    # Each version depends on its own source's rendered_clips partition only: Dagster infers the mapping from the
    # shared source_video dimension (MultiToSingleDimensionPartitionMapping; naming it here only adds a beta warning).
    deps=[rendered_clips],
    group_name="render",
    retry_policy=RetryPolicy(max_retries=1, delay=30),
    kinds={"ffmpeg"},
    check_specs=[
        AssetCheckSpec(name, asset=CLIP_VERSION.name, description=text, blocking=True)
        for name, text in VERSION_CHECKS.items()
    ],
    description="One rendered clip rendered again with another caption style, in its own folder; old versions stay.",
)
@bad_input_policy
def clip_version(
    context: AssetExecutionContext, config: FinishingConfig, storage: StorageResource, render: RenderOptions
) -> MaterializeResult:
    version = ClipVersionRef.from_partition_key(context.partition_key)
    request = read_version_request(storage, version)
    settings = read_request(storage, version.source).settings
    if config.model_dump(exclude_none=True):  # run config wins over the stored request and the job's settings
        effects = config.applied_to(request.effects or settings.effects)
        request = request.model_copy(update={"effects": effects})
    # A clip made from a searched moment has no rendered original: its own request carries its window.
    moment = read_moment_clip_request(storage, version) if is_moment_clip(version) else None
    # The clip id carries the fingerprint of the rendered_clips it came from, so the request pins the upstream.
    asked = (moment or request).model_dump()
    inputs = [asked, render.model_dump(exclude={"parallel_clips"}), ffmpeg_identity().model_dump()]
    # The finishing a version gets when its request names none, and the workspace's brand kit.
    inputs += [settings.effects.model_dump(), brand_fingerprint(storage, version.source.workspace_id)]

    def compute() -> StageOutputs:
        progress = progress_for(context, CLIP_VERSION.name)
        if moment is not None:
            render_moment_clip(storage, render, version.source, moment, progress)
        elif request.variations:  # the whole set in this one run: variant i is version ``version - i``
            render_variation_versions(storage, render, version.source, request, progress)
            return StageOutputs(variation_output_keys(request, version.source))
        else:
            render_clip_version(storage, render, version.source, request, progress)
        return StageOutputs(version_output_keys(version))

    result = reuse_or_compute(storage, version.source, version_stage(version), inputs, compute)
    if result.reused:
        context.log.info(f"reusing complete {version.folder} of {version.source.partition_key}")
    clip = storage.read_model(version.key(VERSION_CLIP_FILE), RenderedClip)
    variations = {}
    if request.variations:  # how far apart the set's closest two variants are (0 identical, ~0.5 unrelated)
        rendered_set = storage.read_model(variations_key(version.source, request.clip_id), MomentVariations)
        variations["least_uniqueness"] = MetadataValue.float(
            min(v.uniqueness["overall"] for v in rendered_set.variants)
        )
    return MaterializeResult(
        metadata={
            "clip": clip.clip_id,
            "caption_style": request.caption_style,
            "variations": request.variations or 1,
            **variations,
            "aspect": request.aspect,
            "duration_s": MetadataValue.float(round(clip.end_s - clip.start_s, 2)),
            "loudness_lufs": MetadataValue.float(clip.loudness_lufs) if clip.loudness_lufs is not None else "–",
            "review": MetadataValue.url(
                clip_page(storage.review_app_url, version.source.partition_key, request.clip_id, version.version)
            ),
        },
        check_results=[
            AssetCheckResult(check_name=name, passed=passed, severity=AssetCheckSeverity.ERROR)
            for name, passed in version_check_results(clip, settings).items()
        ],
    )
