"""Every asset goes through the one bad-input policy: bad input fails once with its line, a fault is retried."""

import pytest
from dagster import (
    AssetExecutionContext,
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    RetryPolicy,
    StaticPartitionsDefinition,
    asset,
    materialize,
)

from clipped.errors import BAD_INPUT_ERRORS
from clipped.layout import InvalidKeyError
from clipped.render.versions import ClipVersionError
from clipped_assets.step_context import BAD_INPUT_POLICY, bad_input_policy
from definitions import build_definitions

# dagster-dbt builds these from the manifest: their failures are dbt's model and test failures on our own marts,
# reported by dbt itself, not input of a user's.
DBT_OPS = {"analytics_models"}
PARTITIONS = StaticPartitionsDefinition(["acme.talk"])


def test_every_python_asset_body_is_under_the_policy() -> None:
    graph = build_definitions("local").resolve_asset_graph()
    bodies = {}
    for assets_def in graph.assets_defs:
        # Asset checks are definitions of their own, with no asset key: only the assets' bodies are looked at.
        if assets_def.keys and assets_def.is_executable and assets_def.op.name not in DBT_OPS:
            bodies[assets_def.op.name] = assets_def.op.compute_fn.decorated_fn
    assert {"source_video", "rendered_clips", "clip_version", "publications", "live_clips"} <= set(bodies)
    assert [name for name, body in bodies.items() if not getattr(body, BAD_INPUT_POLICY, False)] == []


def test_a_clip_version_that_cannot_be_rendered_is_bad_input() -> None:
    assert ClipVersionError in BAD_INPUT_ERRORS


@pytest.mark.parametrize(
    ("error", "attempts"),
    [
        (ClipVersionError("clip c1 v2 has no request"), 1),
        (InvalidKeyError("partition key 'x' is not '<workspace>.<video>'"), 1),
        (RuntimeError("the disk went away"), 3),  # a fault, not bad input: retried as the asset's policy says
    ],
)
def test_bad_input_fails_once_with_its_line_and_a_fault_is_retried(error: Exception, attempts: int) -> None:
    calls = []

    @asset(partitions_def=PARTITIONS, retry_policy=RetryPolicy(max_retries=2))
    @bad_input_policy
    def failing_step(context: AssetExecutionContext) -> None:
        calls.append(context.partition_key)
        raise error

    instance = DagsterInstance.ephemeral()
    result = materialize([failing_step], partition_key="acme.talk", instance=instance, raise_on_error=False)
    assert not result.success
    assert len(calls) == attempts
    records = instance.fetch_observations(AssetKey("failing_step"), limit=10).records
    observations = [record.asset_observation for record in records]
    if attempts > 1:
        assert observations == []
        return
    [failure] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert failure.step_failure_data.user_failure_data.description == str(error)
    [observed] = observations  # the partition's page in the UI says why
    assert observed.partition == "acme.talk"
    assert observed.metadata["failure"].value == str(error)
