"""What every thin asset body needs: its source, its settings, a progress callback, and the stage helpers."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

from dagster import AssetExecutionContext, AssetObservation, AssetsDefinition, Failure, asset

from clipped.errors import BAD_INPUT_ERRORS
from clipped.layout import SourceRef
from clipped.progress import ProgressCallback, publish_step_progress
from clipped.stage_record import Stage, StageOutputs, StageRecord, reuse_or_compute
from clipped.storage import Storage
from clipped_assets.partitions import source_video_partitions

# Set on an asset body wrapped by :func:`bad_input_policy` (tests/unit/test_bad_input_policy.py looks for it).
BAD_INPUT_POLICY = "clipped_bad_input_policy"


def stage_asset(stage: Stage, **asset_kwargs: Any) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """``@asset`` for one pipeline stage: one partition per source, the stage's name and code version, progress
    at start and end, and the bad-input policy (:func:`bad_input_policy`) around the whole body."""

    def decorate(body: Callable[..., Any]) -> AssetsDefinition:
        @functools.wraps(body)  # Dagster reads the body's parameters (context, resources) through __wrapped__
        def reporting_progress(*args: Any, **kwargs: Any) -> Any:
            # Start and end are reported too, so a step that reuses its outputs still moves its progress bar.
            publish_step_progress(stage.name, 0.0)
            result = body(*args, **kwargs)
            publish_step_progress(stage.name, 1.0)
            return result

        return asset(
            name=stage.name,
            code_version=stage.code_version,
            partitions_def=source_video_partitions,
            **asset_kwargs,
        )(bad_input_policy(reporting_progress))

    return decorate


def bad_input_policy(body: Callable[..., Any]) -> Callable[..., Any]:
    """The one bad-input policy of every asset body: an error that means the input cannot be processed
    (:data:`clipped.errors.BAD_INPUT_ERRORS`) fails the step with its one line and no retry, and the reason is
    recorded on the partition; any other error is a fault and retries under the asset's ``RetryPolicy``."""

    @functools.wraps(body)  # Dagster reads the body's parameters (context, config, resources) through __wrapped__
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except BAD_INPUT_ERRORS as exc:
            failure = Failure(description=str(exc), allow_retries=False)  # one line, not retried
            _observe_failure([*args, *kwargs.values()], failure)
            raise failure from exc
        except Failure as failure:  # a body's own refusal (publications raises these)
            _observe_failure([*args, *kwargs.values()], failure)
            raise

    setattr(guarded, BAD_INPUT_POLICY, True)
    return guarded


def _observe_failure(arguments: list[Any], failure: Failure) -> None:
    """Record why the step failed as an observation of its partition, so the partition's page in the Dagster UI
    says why (a failed step is otherwise only explained in its run's logs)."""
    context = next((a for a in arguments if isinstance(a, AssetExecutionContext)), None)
    if context is None or not failure.description:
        return
    context.log_event(
        AssetObservation(
            asset_key=context.asset_key,
            partition=context.partition_key if context.has_partition_key else None,
            metadata={"failure": failure.description, "run_id": context.run.run_id},
        )
    )


def materialize_stage(
    context: AssetExecutionContext,
    storage: Storage,
    stage: Stage,
    inputs: Sequence[object],
    compute: Callable[[], StageOutputs],
) -> StageRecord:
    """Reuse-or-compute the stage for this partition's source (see :func:`clipped.stage_record.reuse_or_compute`)."""
    source = source_of(context)
    result = reuse_or_compute(storage, source, stage, inputs, compute)
    if result.reused:
        context.log.info(f"reusing complete {stage.name} for {source.partition_key}")
    return result.record


def source_of(context: AssetExecutionContext) -> SourceRef:
    return SourceRef.from_partition_key(context.partition_key)


def progress_for(context: AssetExecutionContext, step: str) -> ProgressCallback:
    """A callback that feeds CLI progress bars and logs to Dagster at most every 10 % or 15 s."""
    last_logged = {"fraction": 0.0, "at": time.monotonic()}

    def report(fraction: float) -> None:
        fraction = min(1.0, max(0.0, fraction))
        publish_step_progress(step, fraction)
        now = time.monotonic()
        if fraction - last_logged["fraction"] >= 0.1 or now - last_logged["at"] >= 15:
            context.log.info(f"{step}: {fraction:.0%}")
            last_logged.update(fraction=fraction, at=now)

    return report
