"""The chart's settings against the Python defaults: one source for each default.

Every variable of ``wanotify.common.config`` that the chart sets to a value (its ConfigMaps, read
through ``envFrom``, and the literal ``env`` of its containers), with values.yaml as shipped, must
equal that variable's default in the settings structs, unless it is one of the deliberate cluster
overrides below. To change a default, change the struct field and then values.yaml to match.
Values are compared as the services parse them (``1`` and ``1.0`` are the same number).
"""

from __future__ import annotations

from typing import Any

import pytest

from wanotify.common.config import DEFAULT_SETTINGS, ENV_VARS, EnvVar, load_settings

from .conftest import QUEUE_URL, Doc, Rendered, Renderer

# Deliberate cluster overrides: the value the chart sets instead of the Python default, and why.
CLUSTER_OVERRIDES: dict[str, str] = {
    # Containers listen on every interface so that Services, probes and Prometheus reach them; the
    # Python default binds loopback, for `wa-notify up` on one machine.
    "API_HOST": "0.0.0.0",
    "RECEIVER_HOST": "0.0.0.0",
    "WORKER_HOST": "0.0.0.0",
    "SCHEDULER_HOST": "0.0.0.0",
    "SANDBOX_HOST": "0.0.0.0",  # the dev stack's Meta sandbox
    # SQS in a cluster: KEDA scales the worker on the queue's length. The Python default, the queue
    # table in PostgreSQL, needs nothing but the database.
    "QUEUE_BACKEND": "sqs",
    # Several scheduler replicas, one working at a time through a Lease; a single process needs none.
    "LEADER_ELECTION": "true",
}

BY_NAME = {v.name: v for v in ENV_VARS}
# Lets QUEUE_BACKEND=sqs load (it needs a send queue); no other variable reads it.
CONTEXT = {"SQS_QUEUE_URL": QUEUE_URL}


def parsed(var: EnvVar, value: str) -> object:
    """``value`` as the services read it into ``var``'s settings field."""
    return var.value(load_settings({**CONTEXT, var.name: value}))


def is_default(var: EnvVar, value: str) -> bool:
    return parsed(var, value) == var.value(DEFAULT_SETTINGS)


def our_containers(doc: Doc) -> list[dict[str, Any]]:
    spec = doc.obj["spec"] if doc.kind == "Pod" else doc.obj.get("spec", {}).get("template", {}).get("spec")
    if not spec:
        return []
    containers = [*spec.get("initContainers", []), *spec.get("containers", [])]
    return [c for c in containers if str(c.get("image", "")).startswith("ghcr.io/wa-notify/")]


def literals(rendered: Rendered, templates: tuple[str, ...] | None = None) -> list[tuple[str, str, str]]:
    """(where, name, value) for each variable of ENV_VARS the chart sets to a value."""
    found: list[tuple[str, str, str]] = []
    config_maps: set[str] = set()
    for doc in rendered.docs:
        if templates is not None and not doc.template.endswith(templates):
            continue
        for container in our_containers(doc):
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    config_maps.add(source["configMapRef"]["name"])
            for env in container.get("env", []):
                if env["name"] in BY_NAME and "value" in env:
                    found.append((f"{doc.kind}/{doc.name} {container['name']}", env["name"], env["value"]))
    if templates is None:  # a template subset reads the release ConfigMap of another render's values
        for name in sorted(config_maps):
            data = rendered.get("ConfigMap", name).obj.get("data") or {}
            found += [(f"ConfigMap/{name}", k, v) for k, v in data.items() if k in BY_NAME]
    return found


@pytest.fixture(scope="module")
def dev_stack(render: Renderer) -> Rendered:
    """values.yaml with only the dev stack switched on: its sandbox's own env."""
    return render({"devStack": {"enabled": True}})


@pytest.fixture(scope="module")
def chart_values(default: Rendered, dev_stack: Rendered) -> list[tuple[str, str, str]]:
    return literals(default) + literals(dev_stack, templates=("dev-stack.yaml",))


def test_the_chart_values_are_collected(chart_values: list[tuple[str, str, str]]) -> None:
    """Both sources are read: the ConfigMaps, each component's env and the dev stack's."""
    names = {name for _, name, _ in chart_values}
    assert {"QUEUE_VISIBILITY_TIMEOUT_SECONDS", "API_PORT", "OTEL_TRACES_SAMPLER_ARG"} <= names
    assert {"WORKER_BATCH_SIZE", "SCHEDULER_BATCH_SIZE", "LEADER_ELECTION", "SANDBOX_PORT"} <= names
    assert any(where.startswith("ConfigMap/wa-notify-migrate") for where, _, _ in chart_values)


def test_every_chart_value_is_the_python_default_or_a_listed_override(
    chart_values: list[tuple[str, str, str]],
) -> None:
    wrong = []
    for where, name, value in chart_values:
        var = BY_NAME[name]
        if name in CLUSTER_OVERRIDES:
            if value != CLUSTER_OVERRIDES[name]:
                wrong.append(f"{where}: {name}={value!r}, the listed override is {CLUSTER_OVERRIDES[name]!r}")
        elif not is_default(var, value):
            wrong.append(f"{where}: {name}={value!r}, the Python default is {var.default!r}")
    assert not wrong, "chart values that drifted from wanotify.common.config:\n" + "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(CLUSTER_OVERRIDES))
def test_every_override_is_a_variable_the_chart_sets_to_another_value(
    name: str, chart_values: list[tuple[str, str, str]]
) -> None:
    """The allow-list stays honest: no stale entry, no entry that is the default anyway."""
    assert name in BY_NAME
    assert name in {n for _, n, _ in chart_values}, f"the chart no longer sets {name}"
    assert not is_default(BY_NAME[name], CLUSTER_OVERRIDES[name]), f"{name}: not an override, drop it"


def test_a_drifted_value_is_caught(render: Renderer) -> None:
    """The check itself: a values.yaml that disagrees with a default is reported."""
    drifted = literals(render({"queue": {"visibilityTimeoutSeconds": 45}, "otel": {"samplerRatio": 0.5}}))
    values = {name: value for _, name, value in drifted}
    assert not is_default(
        BY_NAME["QUEUE_VISIBILITY_TIMEOUT_SECONDS"], values["QUEUE_VISIBILITY_TIMEOUT_SECONDS"]
    )
    assert not is_default(BY_NAME["OTEL_TRACES_SAMPLER_ARG"], values["OTEL_TRACES_SAMPLER_ARG"])
    assert is_default(BY_NAME["OTEL_TRACES_SAMPLER_ARG"], "1")  # as helm renders values.yaml's 1.0
