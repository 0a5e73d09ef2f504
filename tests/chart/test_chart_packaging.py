"""Chart.yaml, skaffold.yaml, the Dockerfile and .dockerignore: none runs here, so parse and cross-check."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest
import yaml

from .conftest import CHART, ROOT, Rendered

SKAFFOLD = ROOT / "skaffold.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


@pytest.fixture(scope="module")
def skaffold() -> dict[str, Any]:
    data = yaml.safe_load(SKAFFOLD.read_text())
    assert isinstance(data, dict)
    return data


def releases(skaffold: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(skaffold["deploy"]["helm"]["releases"])
    for profile in skaffold.get("profiles", []):
        found += profile.get("deploy", {}).get("helm", {}).get("releases", [])
    return found


def test_chart_metadata() -> None:
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2"
    assert meta["name"] == "wa-notify"
    assert meta["type"] == "application"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["appVersion"] == project["version"]


def test_skaffold_schema_and_single_artifact(skaffold: dict[str, Any]) -> None:
    assert skaffold["apiVersion"] == "skaffold/v4beta13"
    assert skaffold["kind"] == "Config"
    (artifact,) = skaffold["build"]["artifacts"]
    assert artifact["image"] == "wa-notify"
    assert (ROOT / artifact.get("context", ".") / artifact["docker"]["dockerfile"]).is_file()


def test_skaffold_releases_name_existing_chart_and_values(skaffold: dict[str, Any]) -> None:
    for release in releases(skaffold):
        chart_path = ROOT / release["chartPath"]
        assert (chart_path / "Chart.yaml").is_file(), release["chartPath"]
        assert chart_path.resolve() == CHART.resolve()
        for values_file in release.get("valuesFiles", []):
            assert (ROOT / values_file).is_file(), values_file
        templates = release["setValueTemplates"]
        assert set(templates) == {"image.repository", "image.tag"}  # one image, set once
        assert templates["image.repository"] == "{{.IMAGE_REPO_wa_notify}}"
        assert templates["image.tag"].startswith("{{.IMAGE_TAG_wa_notify}}")


def test_skaffold_profiles(skaffold: dict[str, Any]) -> None:
    profiles = {p["name"]: p for p in skaffold["profiles"]}
    assert set(profiles) == {"kind", "prod"}
    assert profiles["kind"]["activation"] == [{"kubeContext": "kind-.*"}]
    (prod,) = profiles["prod"]["deploy"]["helm"]["releases"]
    assert prod["valuesFiles"] == ["charts/wa-notify/values-prod.yaml"]
    assert skaffold["deploy"]["helm"]["releases"][0]["valuesFiles"] == ["charts/wa-notify/values-dev.yaml"]


def test_skaffold_port_forwards_the_api_service(skaffold: dict[str, Any], dev: Rendered) -> None:
    (forward,) = skaffold["portForward"]
    release = skaffold["deploy"]["helm"]["releases"][0]
    assert forward["resourceType"] == "service"
    assert forward["namespace"] == release["namespace"]
    service = dev.get("Service", forward["resourceName"])
    assert service.labels["app.kubernetes.io/component"] == "api"
    assert forward["port"] in {p["port"] for p in service.obj["spec"]["ports"]}


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_dockerfile_is_multi_stage_python_311_slim() -> None:
    instructions = dockerfile_instructions()
    args = {
        rest.split("=", 1)[0]: rest.split("=", 1)[1]
        for kw, rest in instructions
        if kw == "ARG" and "=" in rest
    }
    stages = [rest for kw, rest in instructions if kw == "FROM"]
    assert len(stages) == 2
    for stage in stages:
        image = stage.split()[0]
        image = args.get(image.strip("${}"), image)
        assert image == "python:3.11-slim"
    assert stages[0].endswith("AS builder")


def test_dockerfile_builds_with_the_pinned_uv() -> None:
    instructions = dockerfile_instructions()
    runs = " ".join(rest for kw, rest in instructions if kw == "RUN")
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert makefile_uv
    assert f"pip install uv=={makefile_uv.group(1)}" in runs
    assert "uv sync --frozen --no-dev --no-editable" in runs
    copied = " ".join(rest for kw, rest in instructions if kw == "COPY")
    for needed in ("pyproject.toml", "uv.lock", "libs/", "services/", "sandbox/", "src/"):
        assert needed in copied, needed
    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    for member in members:
        assert f"{member}/pyproject.toml" in copied, member


def test_dockerfile_runtime_is_non_root_with_the_cli_entrypoint() -> None:
    instructions = dockerfile_instructions()
    runtime = instructions[max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM") :]
    keywords = dict(runtime)
    assert keywords["USER"] in ("10001", "10001:10001")
    assert json.loads(keywords["ENTRYPOINT"]) == ["wa-notify"]
    assert json.loads(keywords["CMD"]) == ["api"]
    assert any(kw == "COPY" and "--from=builder" in rest and "/app/.venv" in rest for kw, rest in runtime)
    assert "/app/.venv/bin" in keywords["ENV"]


def test_dockerignore_keeps_the_build_inputs() -> None:
    patterns = [
        p.strip() for p in DOCKERIGNORE.read_text().splitlines() if p.strip() and not p.startswith("#")
    ]
    assert ".venv" in patterns
    assert ".git" in patterns
    for needed in ("pyproject.toml", "uv.lock", "libs", "services", "sandbox", "src"):
        assert needed not in patterns
