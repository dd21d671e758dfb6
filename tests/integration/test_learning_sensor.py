"""`ranking_weights_sensor`: a new build of the performance mart refits each publishing workspace once."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from clipped.publish.models import TokenGrant
from clipped.publish.records import Account
from clipped.publish.token_vault import TokenVault
from clipped_resources.publisher import PublisherResource
from clipped_sensors.learn import ranking_weights_sensor


@pytest.fixture
def publisher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PublisherResource:
    monkeypatch.setenv("TEST_TOKEN_KEYS", TokenVault.new_key())
    resource = PublisherResource(database_url=f"sqlite:///{tmp_path / 'app.db'}", token_keys_env="TEST_TOKEN_KEYS")
    sealed = resource.vault().seal(TokenGrant(access_token="a"))
    for workspace, account_id in (("acme", "1"), ("acme", "2"), ("globex", "3")):
        resource.store().save_account(
            Account(
                workspace_id=workspace,
                platform="x",
                platform_account_id=account_id,
                display_name=account_id,
                sealed_grant=sealed,
            )
        )
    return resource


def test_each_new_mart_build_asks_for_one_fit_per_publishing_workspace(publisher: PublisherResource):
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"publisher": publisher})
        assert not ranking_weights_sensor(context).run_requests  # no build yet: nothing to learn from

        instance.report_runless_asset_event(dg.AssetMaterialization("fct_clip_performance"))
        result = ranking_weights_sensor(context)
        assert sorted(request.partition_key for request in result.run_requests) == ["acme", "globex"]
        [added] = result.dynamic_partitions_requests
        assert sorted(added.partition_keys) == ["acme", "globex"]
        first_keys = {request.run_key for request in result.run_requests}

        instance.add_dynamic_partitions("workspace", ["acme", "globex"])
        context.update_cursor(result.cursor)
        assert not ranking_weights_sensor(context).run_requests  # the same build is learned from once

        instance.report_runless_asset_event(dg.AssetMaterialization("fct_clip_performance"))
        again = ranking_weights_sensor(context)
        assert len(again.run_requests) == 2 and not again.dynamic_partitions_requests
        assert first_keys.isdisjoint(request.run_key for request in again.run_requests)
