"""deploy/k8s/review-api.yaml: the review service beside the Dagster release, checked against the code it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from api.settings import ApiSettings
from clipped_app.cli import app as cli

ROOT = Path(__file__).resolve().parent.parent.parent
MANIFEST = ROOT / "deploy" / "k8s" / "review-api.yaml"
HELM_VALUES = ROOT / "deploy" / "helm" / "values.yaml"


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(MANIFEST.read_text())}


@pytest.fixture(scope="module")
def container(documents: dict[str, dict]) -> dict:
    (only,) = documents["Deployment"]["spec"]["template"]["spec"]["containers"]
    return only


def test_runs_the_code_location_image_with_clipped_api(container: dict) -> None:
    helm = yaml.safe_load(HELM_VALUES.read_text())
    (deployment,) = helm["dagster-user-deployments"]["deployments"]
    assert container["image"].rsplit(":", 1)[0] == deployment["image"]["repository"]
    command = container["command"]
    assert command[:2] == ["clipped", "api"]
    # The options it passes are ones `clipped api` really has.
    help_text = CliRunner().invoke(cli, ["api", "--help"]).output
    assert all(option in help_text for option in command[2:] if option.startswith("--"))


def test_env_configures_the_graphql_launcher_and_requires_secrets(
    container: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = container["env"]
    literal = {item["name"]: item["value"] for item in env if "value" in item}
    from_secrets = {item["name"] for item in env if "valueFrom" in item}
    assert {"CLIPPED_API_DATABASE_URL", "CLIPPED_API_JWT_SECRET", "DAGSTER_PG_PASSWORD"} <= from_secrets
    monkeypatch.setenv("CLIPPED_HOME", str(tmp_path))
    for name, value in literal.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CLIPPED_API_DATABASE_URL", "postgresql+psycopg2://u:p@db/clipped_app")
    monkeypatch.delenv("CLIPPED_API_JWT_SECRET", raising=False)
    # prod without the secret refuses to start rather than invent one.
    with pytest.raises(RuntimeError, match="CLIPPED_API_JWT_SECRET"):
        ApiSettings.from_env()
    monkeypatch.setenv("CLIPPED_API_JWT_SECRET", "x" * 48)
    settings = ApiSettings.from_env()
    assert settings.launcher == "graphql"
    assert settings.dagster_graphql_url == "http://clipped-dagster-webserver:80"
    assert settings.cors_origins == []
    # Behind the ingress: X-Forwarded-For believed from the ingress's network only (not from anyone), HSTS on.
    assert settings.trusted_proxies and not {"0.0.0.0/0", "*", "::/0"} & set(settings.trusted_proxies)
    assert settings.hsts


def test_mounts_the_chart_instance_as_dagster_home(documents: dict[str, dict], container: dict) -> None:
    env = {item["name"]: item.get("value") for item in container["env"]}
    (mount,) = container["volumeMounts"]
    assert mount["mountPath"] == f"{env['DAGSTER_HOME']}/dagster.yaml" and mount["subPath"] == "dagster.yaml"
    volumes = documents["Deployment"]["spec"]["template"]["spec"]["volumes"]
    assert {"name": mount["name"], "configMap": {"name": "clipped-dagster-instance"}} in volumes


def test_probes_hit_a_real_route_and_the_service_reaches_the_port(documents: dict[str, dict], container: dict) -> None:
    from api.app import create_app

    paths = set(create_app(ApiSettings(jwt_secret="x" * 48, database_url="sqlite://")).openapi()["paths"])
    assert container["readinessProbe"]["httpGet"]["path"] in paths
    assert container["livenessProbe"]["httpGet"]["path"] in paths
    (port,) = container["ports"]
    (service_port,) = documents["Service"]["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]
    assert documents["Service"]["spec"]["selector"] == documents["Deployment"]["spec"]["selector"]["matchLabels"]
    assert documents["Deployment"]["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
