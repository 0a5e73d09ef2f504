"""The alert/recording rules file and the Grafana dashboards shipped in the chart."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ._promql import KNOWN_METRICS, balanced, metric_names
from .conftest import CHART

RULES_FILE = CHART / "rules" / "wanotify.rules.yml"
DASHBOARDS = sorted((CHART / "dashboards").glob("*.json"))
DURATION = re.compile(r"^[0-9]+(ms|s|m|h|d)$")
REQUIRED_ALERTS = {
    "WaNotifySendFailureRatioHigh",
    "WaNotifyQueueDepthHigh",
    "WaNotifyApiLatencyHigh",
    "WaNotifySendsStalled",
    "WaNotifyWebhookSignatureFailures",
    "WaNotifyTargetDown",
}


@pytest.fixture(scope="module")
def rules() -> dict[str, Any]:
    data = yaml.safe_load(RULES_FILE.read_text())
    assert isinstance(data, dict)
    return data


def all_rules(rules: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in rules["groups"] for rule in group["rules"]]


def test_scanner_finds_metrics_and_skips_functions_and_labels() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (le, route) "
        '(rate(wanotify_http_request_duration_seconds_bucket{job="x"}[5m])))'
        ' > 0.5 and on (namespace) up{job=~"wa-notify-.*"} == 0 or vector(1e-9)'
    )
    assert metric_names(expr) == {"wanotify_http_request_duration_seconds_bucket", "up"}
    assert metric_names('sum(rate(wanotify_sends_total{namespace=~"$namespace"}[$__rate_interval]))') == {
        "wanotify_sends_total"
    }
    assert balanced("sum(rate(x[5m]))")
    assert not balanced("sum(rate(x[5m])")


def test_rules_file_is_a_prometheus_rules_file(rules: dict[str, Any]) -> None:
    assert set(rules) == {"groups"}
    names = [group["name"] for group in rules["groups"]]
    assert len(names) == len(set(names))
    for group in rules["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"}
        assert group["rules"], group["name"]
        for rule in group["rules"]:
            assert ("alert" in rule) != ("record" in rule), rule
            assert isinstance(rule["expr"], str)
            assert rule["expr"].strip()
            assert balanced(rule["expr"]), rule
            allowed = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
            if "record" in rule:
                allowed = {"record", "expr", "labels"}
                assert re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", rule["record"])
            assert set(rule) <= allowed, rule
            if "for" in rule:
                assert DURATION.match(rule["for"]), rule


def test_every_alert_has_severity_and_summary(rules: dict[str, Any]) -> None:
    alerts = [r for r in all_rules(rules) if "alert" in r]
    assert {a["alert"] for a in alerts} >= REQUIRED_ALERTS
    for alert in alerts:
        assert alert["labels"]["severity"] in {"info", "warning", "critical"}, alert["alert"]
        assert alert["annotations"]["summary"].strip(), alert["alert"]
        assert alert["annotations"].get("description", "").strip(), alert["alert"]


def test_alert_templates_use_only_known_labels(rules: dict[str, Any]) -> None:
    for alert in (r for r in all_rules(rules) if "alert" in r):
        for text in alert["annotations"].values():
            for label in re.findall(r"\$labels\.(\w+)", text):
                assert label in {"namespace", "job", "instance"}, (alert["alert"], label)


def test_rules_read_only_known_metrics(rules: dict[str, Any]) -> None:
    recorded = {r["record"] for r in all_rules(rules) if "record" in r}
    for rule in all_rules(rules):
        names = metric_names(rule["expr"])
        assert names, rule
        assert names <= KNOWN_METRICS | recorded | {"up"}, names - KNOWN_METRICS


def test_api_latency_and_target_down_use_the_service_monitor_job_labels(rules: dict[str, Any]) -> None:
    by_name = {r["alert"]: r for r in all_rules(rules) if "alert" in r}
    assert 'job="wa-notify-api"' in by_name["WaNotifyApiLatencyHigh"]["expr"]
    assert "> 0.5" in by_name["WaNotifyApiLatencyHigh"]["expr"]
    assert "wa-notify-(api|receiver|worker|scheduler)" in by_name["WaNotifyTargetDown"]["expr"]


# ----------------------------------------------------------------------------------------------- dashboards


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return data


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def test_there_is_a_dashboard() -> None:
    assert DASHBOARDS


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_valid_grafana_json(path: Path) -> None:
    dashboard = load(path)
    assert dashboard["uid"]
    assert dashboard["title"]
    assert "id" not in dashboard or dashboard["id"] is None  # provisioned dashboards carry no database id
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    for panel in panels(dashboard):
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_reads_only_known_metrics(path: Path) -> None:
    dashboard = load(path)
    used: set[str] = set()
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            assert balanced(target["expr"]), target["expr"]
            names = metric_names(target["expr"])
            assert names, target["expr"]
            assert names <= KNOWN_METRICS, names - KNOWN_METRICS
            used |= names
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        assert set(re.findall(r"wanotify_\w+", text)) <= KNOWN_METRICS
    if path.name == "wa-notify-overview.json":
        # accepted/sent/failed rates, Meta latency, queue depth, HTTP p95, webhook events, signature failures
        assert used >= {
            "wanotify_notifications_accepted_total",
            "wanotify_sends_total",
            "wanotify_meta_request_duration_seconds_bucket",
            "wanotify_queue_depth",
            "wanotify_http_request_duration_seconds_bucket",
            "wanotify_webhook_events_total",
            "wanotify_webhook_signature_failures_total",
        }


def test_overview_has_the_expected_quantiles() -> None:
    dashboard = load(CHART / "dashboards" / "wa-notify-overview.json")
    exprs = [t["expr"] for p in panels(dashboard) for t in p.get("targets", [])]
    meta = [e for e in exprs if "wanotify_meta_request_duration_seconds_bucket" in e]
    assert any("histogram_quantile(0.5," in e for e in meta)
    assert any("histogram_quantile(0.99," in e for e in meta)
    http = [e for e in exprs if "wanotify_http_request_duration_seconds_bucket" in e]
    assert any("histogram_quantile(0.95," in e and "route" in e for e in http)
