"""Settings from the environment; every variable documented in the README's configuration table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wanotify.common.config import ENV_VARS, ConfigError, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults() -> None:
    s = load_settings({})
    assert s.database_pool_size == 10
    assert s.queue.backend == "postgres"
    assert s.queue.sqs_queue_url == ""
    assert s.queue.aws_region == "us-east-1"
    assert s.queue.visibility_timeout_seconds == 60
    assert s.queue.wait_seconds == 1.0
    assert s.queue.max_receives == 10
    assert s.meta.graph_base_url == "https://graph.facebook.com"
    assert s.meta.graph_version == "v25.0"
    assert s.meta.timeout_seconds == 15.0
    assert s.meta.app_secret == ""
    assert (s.api.host, s.api.port) == ("127.0.0.1", 8080)
    assert s.api_max_body_bytes == 1_048_576
    assert (s.receiver.host, s.receiver.port) == ("127.0.0.1", 8081)
    assert s.worker.http.port == 9101
    assert s.worker.batch_size == 10
    assert s.worker.concurrency == 20
    assert s.worker.max_attempts == 5
    assert s.scheduler.http.port == 9102
    assert s.scheduler.batch_size == 500
    assert s.scheduler.leader_election is False
    assert s.scheduler.lease_name == "wa-notify-scheduler"
    assert s.sandbox.port == 8090
    assert s.data_dir == ".wa-notify"
    assert s.telemetry.log_level == "INFO"
    assert s.telemetry.sample_ratio == 1.0
    assert s.telemetry.otlp_endpoint == ""


def test_every_default_in_env_vars_parses() -> None:
    env = {v.name: v.default for v in ENV_VARS if v.default is not None}
    assert load_settings(env) == load_settings({})


def test_overrides() -> None:
    s = load_settings(
        {
            "DATABASE_URL": "postgresql://u:p@db:5432/wa",
            "REDIS_URL": "redis://cache:6379/1",
            "DATABASE_POOL_SIZE": "25",
            "QUEUE_BACKEND": "sqs",
            "SQS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123/wa-notify-send",
            "AWS_REGION": "eu-west-1",
            "QUEUE_VISIBILITY_TIMEOUT_SECONDS": "5",
            "QUEUE_WAIT_SECONDS": "0.25",
            "META_GRAPH_BASE_URL": "http://sandbox:8090/",
            "META_APP_SECRET": "shh",
            "API_PORT": "9000",
            "WORKER_MAX_ATTEMPTS": "8",
            "LEADER_ELECTION": "true",
            "LOG_LEVEL": "debug",
            "OTEL_TRACES_SAMPLER_ARG": "0.1",
        }
    )
    assert s.database_url == "postgresql://u:p@db:5432/wa"
    assert s.redis_url == "redis://cache:6379/1"
    assert s.database_pool_size == 25
    assert s.queue.backend == "sqs"
    assert s.queue.sqs_queue_url.endswith("/wa-notify-send")
    assert s.queue.aws_region == "eu-west-1"
    assert s.queue.visibility_timeout_seconds == 5
    assert s.queue.wait_seconds == 0.25
    assert s.meta.graph_base_url == "http://sandbox:8090"  # trailing slash dropped
    assert s.meta.app_secret == "shh"
    assert s.api.port == 9000
    assert s.worker.max_attempts == 8
    assert s.scheduler.leader_election is True
    assert s.telemetry.log_level == "DEBUG"
    assert s.telemetry.sample_ratio == 0.1


def test_empty_value_means_default() -> None:
    assert load_settings({"API_PORT": ""}).api.port == 8080


def test_worker_batch_never_exceeds_sqs_maximum() -> None:
    assert load_settings({"WORKER_BATCH_SIZE": "50"}).worker.batch_size == 10
    assert load_settings({"WORKER_BATCH_SIZE": "4"}).worker.batch_size == 4


@pytest.mark.parametrize(
    "name",
    [
        "API_PORT",
        "DATABASE_POOL_SIZE",
        "QUEUE_VISIBILITY_TIMEOUT_SECONDS",
        "WORKER_MAX_ATTEMPTS",
        "QUEUE_MAX_RECEIVES",
    ],
)
@pytest.mark.parametrize("value", ["eighty", "1.5", "10s", "0x10"])
def test_bad_integers(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


@pytest.mark.parametrize("name", ["QUEUE_WAIT_SECONDS", "META_TIMEOUT_SECONDS", "SCHEDULER_INTERVAL_SECONDS"])
def test_bad_numbers(name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: "soon"})


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_bad_flag(value: str) -> None:
    with pytest.raises(ConfigError, match="LEADER_ELECTION"):
        load_settings({"LEADER_ELECTION": value})


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("yes", True), ("ON", True), ("no", False)])
def test_flags(value: str, expected: bool) -> None:
    assert load_settings({"LEADER_ELECTION": value}).scheduler.leader_election is expected


def test_sqs_needs_a_queue_url() -> None:
    with pytest.raises(ConfigError, match="SQS_QUEUE_URL"):
        load_settings({"QUEUE_BACKEND": "sqs"})


def test_unknown_queue_backend() -> None:
    with pytest.raises(ConfigError, match="QUEUE_BACKEND"):
        load_settings({"QUEUE_BACKEND": "kafka"})


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_env_var_names_are_unique() -> None:
    names = [v.name for v in ENV_VARS]
    assert len(names) == len(set(names))


def test_every_variable_is_in_the_readme_configuration_table() -> None:
    assert README.is_file(), f"{README} does not exist: it must document every variable of ENV_VARS"
    table_rows = [
        line for line in README.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("|")
    ]
    missing = [
        v.name
        for v in ENV_VARS
        if not any(re.search(rf"(?<![A-Z0-9_]){re.escape(v.name)}(?![A-Z0-9_])", row) for row in table_rows)
    ]
    assert not missing, f"README.md's configuration table lacks: {', '.join(missing)}"
