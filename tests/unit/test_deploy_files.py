"""deploy/: the Dockerfile and the Helm values, read as files (no Docker engine or cluster here).

The Helm checks use the value names of the official chart's schema (helm/dagster/schema in dagster-io/dagster);
a misspelt key would be silently ignored by Helm, so the allowed names are listed here per section.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from clipped.run_tags import GPU_TAG, WORKSPACE_TAG
from tests.support.dockerfile import dockerfile_instructions as read_instructions

ROOT = Path(__file__).resolve().parent.parent.parent
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
HELM_VALUES = ROOT / "deploy" / "helm" / "values.yaml"
INSTANCE_YAML = ROOT / "deploy" / "dagster.yaml"

# Top-level and section keys the chart (1.13) accepts; see DagsterHelmValues and its subschemas.
CHART_TOP_LEVEL = {
    "global", "generatePostgresqlPasswordSecret", "generateCeleryConfigSecret", "postgresql", "dagsterWebserver",
    "dagsterDaemon", "dagster-user-deployments", "runLauncher", "computeLogManager", "telemetry", "pythonLogs",
    "scheduler", "ingress", "imagePullSecrets", "serviceAccount", "retention", "additionalInstanceConfig",
    "rabbitmq", "redis", "flower", "busybox", "migrate", "concurrency",
}  # fmt: skip
# The chart's dagsterYaml.concurrency helper reads these.
CHART_CONCURRENCY_POOLS = {"defaultLimit", "granularity", "opGranularityRunBuffer"}
CHART_CONCURRENCY_RUNS = {"maxConcurrentRuns", "tagConcurrencyLimits"}
CHART_GLOBAL = {"postgresqlSecretName", "dagsterHome", "serviceAccountName", "celeryConfigSecretName"}
CHART_POSTGRESQL = {
    "image", "enabled", "postgresqlHost", "postgresqlUsername", "postgresqlPassword", "postgresqlDatabase",
    "postgresqlParams", "postgresqlScheme", "service",
}  # fmt: skip
CHART_QUEUED_COORDINATOR = {
    "maxConcurrentRuns", "tagConcurrencyLimits", "dequeueIntervalSeconds", "dequeueNumWorkers", "dequeueUseThreads",
    "blockOpConcurrencyLimitedRuns",
}  # fmt: skip
CHART_K8S_RUN_LAUNCHER = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile", "envConfigMaps",
    "envSecrets", "envVars", "volumeMounts", "volumes", "labels", "failPodOnRunFailure", "resources",
    "schedulerName", "securityContext", "runK8sConfig",
}  # fmt: skip
CHART_RUN_K8S_CONFIG = {"containerConfig", "podSpecConfig", "podTemplateSpecMetadata", "jobSpecConfig", "jobMetadata"}
CHART_USER_DEPLOYMENT = {
    "name", "image", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns", "port", "env",
    "envConfigMaps", "envSecrets", "annotations", "nodeSelector", "affinity", "tolerations", "podSecurityContext",
    "securityContext", "resources", "livenessProbe", "readinessProbe", "startupProbe", "labels", "volumeMounts",
    "volumes", "schedulerName",
}  # fmt: skip
CHART_S3_COMPUTE_LOGS = {
    "bucket", "localDir", "prefix", "useSsl", "verify", "verifyCertPath", "endpointUrl", "skipEmptyFiles",
    "uploadInterval", "uploadExtraArgs", "showUrlOnly", "region",
}  # fmt: skip
CHART_DAEMON = {
    "enabled", "image", "runCoordinator", "heartbeatTolerance", "env", "envConfigMaps", "envSecrets",
    "deploymentLabels", "labels", "nodeSelector", "affinity", "tolerations", "podSecurityContext", "securityContext",
    "resources", "checkDbReadyInitContainer", "livenessProbe", "readinessProbe", "startupProbe", "annotations",
    "runMonitoring", "runRetries", "sensors", "schedules", "backfills", "schedulerName", "logFormat", "volumeMounts",
    "volumes", "initContainerResources", "extraContainers", "extraPrependedInitContainers",
}  # fmt: skip


# --- Dockerfile -------------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    return read_instructions(DOCKERFILE)


def test_dockerfile_base_image_and_profile() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    env = " ".join(arguments for instruction, arguments in instructions if instruction == "ENV")
    assert "CLIPPED_PROFILE=prod" in env
    assert "DAGSTER_HOME=/opt/dagster/dagster_home" in env  # where the Helm chart mounts the instance yaml


def test_dockerfile_copies_only_paths_that_exist() -> None:
    copies = [shlex.split(arguments) for instruction, arguments in dockerfile_instructions() if instruction == "COPY"]
    assert copies
    for *sources, _target in copies:
        for source in sources:
            assert (ROOT / source).exists(), source
    copied = {source for *sources, _ in copies for source in sources}
    # Everything pyproject.toml packages (and the code location module) is in the image.
    assert {"pyproject.toml", "README.md", "definitions.py", "clipped", "clipped_assets", "clipped_resources"} <= copied


def test_dockerfile_runs_as_non_root_and_serves_the_code_location() -> None:
    instructions = dockerfile_instructions()
    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert users and users[-1] not in {"root", "0"}
    (cmd,) = [json.loads(arguments) for instruction, arguments in instructions if instruction == "CMD"]
    assert cmd[:3] == ["dagster", "code-server", "start"]
    module = cmd[cmd.index("-m") + 1]
    assert (ROOT / f"{module}.py").is_file()
    attribute = cmd[cmd.index("-a") + 1]
    assert f"def {attribute}(" in (ROOT / f"{module}.py").read_text()


def test_dockerfile_bakes_models_at_build_time() -> None:
    runs = " ".join(arguments for instruction, arguments in dockerfile_instructions() if instruction == "RUN")
    assert "assemble_whisper_base" in runs
    assert "ffmpeg" in runs


# --- Helm values --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(HELM_VALUES.read_text())


def test_helm_values_use_only_chart_keys(values: dict) -> None:
    assert set(values) <= CHART_TOP_LEVEL
    assert set(values["global"]) <= CHART_GLOBAL
    assert set(values["postgresql"]) <= CHART_POSTGRESQL
    assert set(values["dagsterDaemon"]) <= CHART_DAEMON
    assert set(values["concurrency"]) <= {"pools", "runs"}
    assert set(values["concurrency"]["pools"]) <= CHART_CONCURRENCY_POOLS
    assert set(values["concurrency"]["runs"]) <= CHART_CONCURRENCY_RUNS
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert set(queued) <= CHART_QUEUED_COORDINATOR
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert set(launcher) <= CHART_K8S_RUN_LAUNCHER
    assert set(launcher["runK8sConfig"]) <= CHART_RUN_K8S_CONFIG
    for deployment in values["dagster-user-deployments"]["deployments"]:
        assert set(deployment) <= CHART_USER_DEPLOYMENT
    assert set(values["computeLogManager"]["config"]["s3ComputeLogManager"]) <= CHART_S3_COMPUTE_LOGS


def test_helm_runs_on_kubernetes_with_external_postgres_and_s3_logs(values: dict) -> None:
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["computeLogManager"]["type"] == "S3ComputeLogManager"
    assert values["computeLogManager"]["config"]["s3ComputeLogManager"]["bucket"]
    # The Postgres password is a pre-made Secret the chart must not overwrite.
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    assert values["postgresql"]["postgresqlPassword"] == ""
    assert values["dagsterDaemon"]["enabled"] is True


def test_helm_user_deployment_loads_definitions_in_the_prod_profile(values: dict) -> None:
    user_deployments = values["dagster-user-deployments"]
    assert user_deployments["enabled"] is True
    (deployment,) = user_deployments["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    assert Path(args[args.index("--python-file") + 1]).name == "definitions.py"
    assert deployment["env"]["CLIPPED_PROFILE"] == "prod"
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    secrets = {secret["name"] for secret in deployment["envSecrets"]}
    assert {"clipped-s3", "clipped-anthropic"} <= secrets
    # Secrets come only from Kubernetes Secrets: no credential-looking value is written in the file.
    flat = json.dumps(values).lower()
    assert not re.search(r"(aws_secret_access_key|anthropic_api_key|sk-ant-)", flat)
    assert deployment["podSecurityContext"]["runAsNonRoot"] is True


def test_helm_queue_limits_match_the_instance_yaml(values: dict) -> None:
    helm = values["dagsterDaemon"]["runCoordinator"]
    assert helm["enabled"] is True and helm["type"] == "QueuedRunCoordinator"
    # With pools set, the chart (like Dagster) refuses run limits in the coordinator: they sit under concurrency.
    assert "maxConcurrentRuns" not in helm["config"]["queuedRunCoordinator"]
    runs = values["concurrency"]["runs"]
    instance = yaml.safe_load(INSTANCE_YAML.read_text())["concurrency"]
    assert runs["maxConcurrentRuns"] == instance["runs"]["max_concurrent_runs"]
    assert runs["tagConcurrencyLimits"] == instance["runs"]["tag_concurrency_limits"]
    assert {limit["key"] for limit in runs["tagConcurrencyLimits"]} == {GPU_TAG, WORKSPACE_TAG, "clipped/account"}
    assert values["concurrency"]["pools"]["defaultLimit"] == instance["pools"]["default_limit"]


def test_helm_run_retries_leave_asset_failures_to_step_retries(values: dict) -> None:
    retries = values["dagsterDaemon"]["runRetries"]
    assert retries["enabled"] is True and retries["retryOnAssetOrOpFailure"] is False
    instance = yaml.safe_load(INSTANCE_YAML.read_text())["run_retries"]
    assert instance["retry_on_asset_or_op_failure"] is False


def test_run_monitoring_fails_runs_whose_worker_is_lost_in_production(values: dict) -> None:
    """A killed run worker leaves its run STARTED for good unless the daemon watches runs (issue 9): locally the
    next `clipped run` or API start fails it (clipped_app/instance.py), in production run monitoring does."""
    helm = values["dagsterDaemon"]["runMonitoring"]
    assert helm["enabled"] is True and 0 < helm["startTimeoutSeconds"] <= 900
    assert helm["maxResumeRunAttempts"] >= 1  # the K8sRunLauncher can resume a run whose pod was lost
    instance = yaml.safe_load(INSTANCE_YAML.read_text())["run_monitoring"]
    assert instance["enabled"] is True and instance["start_timeout_seconds"] == helm["startTimeoutSeconds"]
    # The default launcher of the plain dagster.yaml cannot resume: Dagster refuses any value above 0 at start-up.
    assert instance["max_resume_run_attempts"] == 0
