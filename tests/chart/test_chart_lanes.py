"""Priority lanes in the chart: lane queue URLs reach the services, KEDA watches every lane queue."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import QUEUE_URL, RELEASE, Rendered, Renderer

HIGH_URL = QUEUE_URL + "-high"
LOW_URL = QUEUE_URL + "-low"


def _render_keda(render: Renderer, sqs: dict[str, Any]) -> Rendered:
    return render({"keda": {"enabled": True}, "sqs": {"queueUrl": QUEUE_URL, "region": "eu-west-1", **sqs}})


def _triggers(rendered: Rendered) -> dict[str, dict[str, Any]]:
    spec = rendered.get("ScaledObject", f"{RELEASE}-worker").obj["spec"]
    return {t["name"]: t for t in spec["triggers"]}


def test_without_lane_urls_the_lanes_share_the_send_queue(render: Renderer, default: Rendered) -> None:
    config = default.get("ConfigMap", f"{RELEASE}-config").obj["data"]
    assert config["SQS_QUEUE_URL_HIGH"] == "" and config["SQS_QUEUE_URL_LOW"] == ""
    assert config["WORKER_PRIORITY_WEIGHTS"] == "high=6,normal=3,low=1"
    triggers = _triggers(_render_keda(render, {}))
    assert list(triggers) == ["send-queue"]
    assert triggers["send-queue"]["metadata"]["queueURL"] == QUEUE_URL


def test_every_lane_queue_gets_a_keda_trigger(render: Renderer) -> None:
    rendered = _render_keda(render, {"queueUrlHigh": HIGH_URL, "queueUrlLow": LOW_URL})
    config = rendered.get("ConfigMap", f"{RELEASE}-config").obj["data"]
    assert (config["SQS_QUEUE_URL"], config["SQS_QUEUE_URL_HIGH"], config["SQS_QUEUE_URL_LOW"]) == (
        QUEUE_URL,
        HIGH_URL,
        LOW_URL,
    )
    triggers = _triggers(rendered)
    assert {name: t["metadata"]["queueURL"] for name, t in triggers.items()} == {
        "send-queue": QUEUE_URL,
        "send-queue-high": HIGH_URL,
        "send-queue-low": LOW_URL,
    }
    auth = {t["authenticationRef"]["name"] for t in triggers.values()}
    assert len(auth) == 1 and rendered.has("TriggerAuthentication", auth.pop())
    for trigger in triggers.values():
        assert trigger["type"] == "aws-sqs-queue"
        metadata = trigger["metadata"]
        assert all(isinstance(v, str) for v in metadata.values()), metadata
        assert metadata["awsRegion"] == "eu-west-1"
        assert int(metadata["queueLength"]) > 0


@pytest.mark.parametrize(
    ("sqs", "expected"),
    [
        ({"queueUrlHigh": HIGH_URL}, {"send-queue", "send-queue-high"}),
        ({"queueUrlLow": LOW_URL}, {"send-queue", "send-queue-low"}),
        # A lane URL equal to another queue is that queue, not a second trigger on it.
        ({"queueUrlHigh": QUEUE_URL, "queueUrlLow": QUEUE_URL}, {"send-queue"}),
        ({"queueUrlHigh": HIGH_URL, "queueUrlLow": HIGH_URL}, {"send-queue", "send-queue-high"}),
    ],
)
def test_only_distinct_lane_queues_get_triggers(
    render: Renderer, sqs: dict[str, Any], expected: set[str]
) -> None:
    assert set(_triggers(_render_keda(render, sqs))) == expected


def test_weights_reach_the_config(render: Renderer) -> None:
    rendered = render({"worker": {"priorityWeights": "high=10,normal=4,low=1"}})
    config = rendered.get("ConfigMap", f"{RELEASE}-config").obj["data"]
    assert config["WORKER_PRIORITY_WEIGHTS"] == "high=10,normal=4,low=1"
