"""values.schema.json (draft 2020-12): accepts the shipped values files, rejects bad values."""

from __future__ import annotations

import json
from typing import Any

import helm_python as helm
import jsonschema
import pytest
import yaml

from .conftest import CHART, EVERYTHING, QUEUE_URL, load_values_file

SCHEMA = json.loads((CHART / "values.schema.json").read_text())


def merged(overrides: dict[str, Any]) -> dict[str, Any]:
    """Chart defaults with overrides, the way Helm coalesces them (enough for these tests)."""

    def merge(base: Any, over: Any) -> Any:
        if isinstance(base, dict) and isinstance(over, dict):
            return {
                k: merge(base.get(k), over[k]) if k in over else base[k] for k in base.keys() | over.keys()
            }
        return over

    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    result: dict[str, Any] = merge(defaults, overrides)
    return result


def test_schema_is_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("values_file", ["values.yaml", "values-dev.yaml", "values-prod.yaml"])
def test_shipped_values_are_valid(chart: helm.Chart, values_file: str) -> None:
    values = load_values_file(values_file)
    jsonschema.Draft202012Validator(SCHEMA).validate(merged(values))
    chart.validate_schema(values)


def test_everything_values_are_valid(chart: helm.Chart) -> None:
    chart.validate_schema(EVERYTHING)


BAD_VALUES = [
    pytest.param({"api": {"replicas": -1}}, "replicas", id="negative-replicas"),
    pytest.param({"worker": {"replicas": -3}}, "replicas", id="negative-worker-replicas"),
    pytest.param({"queue": {"backend": "kafka"}}, "backend", id="unknown-queue-backend"),
    pytest.param({"api": {"port": 70000}}, "port", id="port-out-of-range"),
    pytest.param(
        {"api": {"autoscaling": {"targetCPUUtilizationPercentage": 150}}}, "targetCPU", id="cpu-over-100"
    ),
    pytest.param({"worker": {"batchSize": 11}}, "batchSize", id="sqs-batch-over-10"),
    pytest.param({"keda": {"auth": {"type": "magic"}}}, "type", id="unknown-keda-auth"),
    pytest.param({"keda": {"enabled": "yes"}}, "enabled", id="flag-not-boolean"),
    pytest.param(
        {"metrics": {"serviceMonitor": {"enabled": 1}}}, "enabled", id="servicemonitor-flag-not-boolean"
    ),
    pytest.param({"otel": {"samplerRatio": 2}}, "samplerRatio", id="ratio-above-1"),
    pytest.param({"database": {"url": "mysql://x"}}, "url", id="not-postgres"),
    pytest.param({"sqs": {"queueUrl": "wa-notify-send"}}, "queueUrl", id="queue-url-not-url"),
    pytest.param({"migrate": {"hooks": ["pre-delete"]}}, "hooks", id="unknown-hook"),
    pytest.param({"api": {"replica": 2}}, "replica", id="typo-in-component-key"),
    pytest.param({"keda": {"enable": True}}, "enable", id="typo-in-flag"),
    pytest.param(
        {"scheduler": {"probes": {"liveness": {"periodSeconds": 0}}}}, "periodSeconds", id="zero-period"
    ),
    pytest.param({"image": {"pullPolicy": "Sometimes"}}, "pullPolicy", id="pull-policy"),
    pytest.param({"worker": {"autoscaling": {"queueLength": 0}}}, "queueLength", id="zero-queue-length"),
    pytest.param({"sqs": {"queueUrlHigh": "wa-notify-high"}}, "queueUrlHigh", id="lane-url-not-url"),
    pytest.param(
        {"worker": {"priorityWeights": "high=6,low=1"}}, "priorityWeights", id="weights-missing-lane"
    ),
    pytest.param(
        {"worker": {"priorityWeights": "high=0,normal=3,low=1"}}, "priorityWeights", id="zero-weight"
    ),
]


@pytest.mark.parametrize(("values", "where"), BAD_VALUES)
def test_bad_values_are_rejected_by_helm(chart: helm.Chart, values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=where):
        chart.validate_schema(values)
    with pytest.raises(helm.HelmValuesError):
        chart.render(values, name="wa-notify", namespace="wa-notify")


@pytest.mark.parametrize(("values", "where"), BAD_VALUES)
def test_bad_values_are_rejected_by_jsonschema(values: dict[str, Any], where: str) -> None:
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(merged(values)))
    assert errors
    assert any(where in "/".join(map(str, e.absolute_path)) or where in e.message for e in errors)


def test_lint_reports_schema_errors() -> None:
    result = helm.lint(CHART, {"api": {"replicas": -1}}, strict=True)
    assert any("replicas" in error for error in result["errors"])


@pytest.mark.parametrize(
    "values",
    [
        {"queue": {"backend": "postgres"}},
        {"database": {"url": "postgresql+asyncpg://u:p@db:5432/wanotify"}},
        {"redis": {"url": "rediss://cache:6380/1"}},
        {"api": {"pdb": {"maxUnavailable": "50%"}}},
        {"worker": {"autoscaling": {"minReplicas": 0}}},
        {"worker": {"priorityWeights": "low=1,high=10,normal=4"}},
        {"sqs": {"queueUrlHigh": QUEUE_URL + "-high", "queueUrlLow": QUEUE_URL + "-low"}},
        {"extraEnv": [{"name": "PYTHONFAULTHANDLER", "value": "1"}]},
        {"otel": {"resourceAttributes": {"deployment.environment": "staging"}}},
    ],
)
def test_reasonable_values_are_accepted(chart: helm.Chart, values: dict[str, Any]) -> None:
    chart.validate_schema(values)
    jsonschema.Draft202012Validator(SCHEMA).validate(merged(values))
