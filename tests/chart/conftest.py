"""Render the Helm chart once per values set (session scope) with helm-python-sdk: no binary, no cluster.

One render takes a few tens of milliseconds once the Helm shared library is loaded; the library load is
the expensive part, so everything here shares one loaded chart.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "wa-notify"
RELEASE = "wa-notify"
NAMESPACE = "wa-notify"
COMPONENTS = ("api", "receiver", "worker", "scheduler")

QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/wa-notify-send"

# Every optional object switched on (CRD kinds included), with ingresses and the dev stack, so that each
# template renders at least once.
EVERYTHING: dict[str, Any] = {
    "sqs": {"queueUrl": QUEUE_URL, "region": "eu-west-1", "endpointUrl": "http://moto.dev.svc:5000"},
    "keda": {"enabled": True},
    "metrics": {
        "serviceMonitor": {"enabled": True, "additionalLabels": {"release": "kube-prometheus-stack"}},
        "prometheusRule": {"enabled": True, "additionalLabels": {"release": "kube-prometheus-stack"}},
    },
    "grafana": {"dashboards": {"enabled": True, "folder": "wa-notify"}},
    "devStack": {"enabled": True},
    "topologySpread": {"enabled": True},
    "networkPolicy": {
        "enabled": True,
        "metricsFrom": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
        ],
    },
    "api": {
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "hosts": [{"host": "notify.example.com", "paths": ["/v1"]}],
        },
        "networkPolicy": {"from": [{"namespaceSelector": {"matchLabels": {"wa-notify/client": "true"}}}]},
    },
    "receiver": {
        "ingress": {
            "enabled": True,
            "hosts": [{"host": "hooks.example.com", "paths": ["/webhooks/whatsapp"]}],
        },
    },
}


def load_values_file(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CHART / name).read_text())
    assert isinstance(data, dict)
    return data


@dataclass(frozen=True)
class Doc:
    """One rendered Kubernetes object and the template that produced it."""

    template: str
    obj: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.obj["metadata"].get("labels") or {})

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.obj["metadata"].get("annotations") or {})


@dataclass(frozen=True)
class Rendered:
    values: dict[str, Any]
    files: dict[str, str]
    docs: tuple[Doc, ...]

    def of_kind(self, kind: str) -> list[Doc]:
        return [d for d in self.docs if d.kind == kind]

    def get(self, kind: str, name: str) -> Doc:
        found = [d for d in self.docs if d.kind == kind and d.name == name]
        assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
        return found[0]

    def has(self, kind: str, name: str) -> bool:
        return any(d.kind == kind and d.name == name for d in self.docs)

    @property
    def notes(self) -> str:
        return next(v for k, v in self.files.items() if k.endswith("NOTES.txt"))


def parse(files: dict[str, str]) -> tuple[Doc, ...]:
    docs: list[Doc] = []
    for template, text in sorted(files.items()):
        if not template.endswith((".yaml", ".yml")):
            continue  # NOTES.txt
        for obj in yaml.load_all(text, Loader=_LOADER):
            if obj:
                docs.append(Doc(template, obj))
    return tuple(docs)


@pytest.fixture(scope="session")
def chart() -> Iterator[helm.Chart]:
    with helm.Chart.load(CHART) as loaded:
        yield loaded


class Renderer:
    def __init__(self, chart: helm.Chart) -> None:
        self._chart = chart

    def __call__(self, values: dict[str, Any] | None = None) -> Rendered:
        values = copy.deepcopy(values or {})
        files = self._chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        return Rendered(values, files, parse(files))


@pytest.fixture(scope="session")
def render(chart: helm.Chart) -> Renderer:
    return Renderer(chart)


@pytest.fixture(scope="session")
def default(render: Renderer) -> Rendered:
    return render()


@pytest.fixture(scope="session")
def everything(render: Renderer) -> Rendered:
    return render(EVERYTHING)


@pytest.fixture(scope="session")
def dev(render: Renderer) -> Rendered:
    return render(load_values_file("values-dev.yaml"))


@pytest.fixture(scope="session")
def prod(render: Renderer) -> Rendered:
    return render(load_values_file("values-prod.yaml"))


VALUE_SETS = ("default", "everything", "dev", "prod")


@pytest.fixture(params=VALUE_SETS)
def rendered(request: pytest.FixtureRequest) -> Rendered:
    """Each values set in turn (all rendered once per session)."""
    result: Rendered = request.getfixturevalue(request.param)
    return result
