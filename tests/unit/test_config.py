"""Settings from the environment; every variable documented in the README's configuration table.

Each default is written once, as a settings struct field's default: ``load_settings({})`` must give
``DEFAULT_SETTINGS``, each variable must set its own field, and the README's default column must show
that field's default. Secret settings never show in a repr or a log line.
"""

from __future__ import annotations

import base64
import hmac
import logging
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy.engine import make_url

from wanotify.common.config import (
    DEFAULT_SETTINGS,
    ENV_VARS,
    ConfigError,
    EnvVar,
    Secret,
    SecretUrl,
    Settings,
    load_settings,
    redact_url,
    render,
)
from wanotify.common.crypto import SecretBox
from wanotify.common.logging import JsonFormatter

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


# --------------------------------------------------------------------------------------------- one source


def leaves(value: object, prefix: str = "") -> dict[str, Any]:
    """Every leaf setting of a settings struct by dotted path (``worker.http.port``)."""
    if not isinstance(value, msgspec.Struct):
        return {prefix: value}
    found: dict[str, Any] = {}
    for field in msgspec.structs.fields(type(value)):
        found |= leaves(getattr(value, field.name), f"{prefix}{field.name}.")
    return {path.rstrip("."): v for path, v in found.items()}


BODY_TIMEOUTS = {p for p in leaves(DEFAULT_SETTINGS) if p.endswith("body_timeout_seconds")}


def test_absent_variables_give_the_struct_defaults() -> None:
    assert load_settings({}) == DEFAULT_SETTINGS == Settings()


def test_every_setting_has_a_variable() -> None:
    """Nothing is configurable only in code (``version`` is the build's; one variable sets every
    server's body timeout)."""
    covered = {v.field for v in ENV_VARS} | BODY_TIMEOUTS | {"version"}
    assert set(leaves(DEFAULT_SETTINGS)) - covered == set()
    assert {v.field for v in ENV_VARS} <= set(leaves(DEFAULT_SETTINGS))


# A value other than the default for each variable, and what it parses to. Others are derived by type.
OTHER_VALUES: dict[str, tuple[str, object]] = {
    "QUEUE_BACKEND": ("sqs", "sqs"),
    "LOG_LEVEL": ("debug", "DEBUG"),
    "META_GRAPH_BASE_URL": ("http://sandbox:8090/", "http://sandbox:8090"),
    "WORKER_PRIORITY_WEIGHTS": ("high=2,normal=2,low=1", {"high": 2, "normal": 2, "low": 1}),
    "WEBHOOK_RETRY_SCHEDULE_SECONDS": ("0,1,2.5", (0.0, 1.0, 2.5)),
}


def other_value(var: EnvVar) -> tuple[str, object]:
    if var.name in OTHER_VALUES:
        return OTHER_VALUES[var.name]
    default = var.value(DEFAULT_SETTINGS)
    if isinstance(default, bool):
        return render(not default), not default
    if isinstance(default, int):
        changed = default - 1 if default > 1 else default + 1
        return str(changed), changed
    if isinstance(default, float):
        half = default / 2 if default else 0.5
        return repr(half), half
    assert isinstance(default, str), var.name
    return "other-value", "other-value"


@pytest.mark.parametrize("var", ENV_VARS, ids=lambda v: v.name)
def test_each_variable_sets_its_own_field_and_nothing_else(var: EnvVar) -> None:
    text, expected = other_value(var)
    context = {"SQS_QUEUE_URL": "https://sqs.example/q"} if var.name == "QUEUE_BACKEND" else {}
    loaded = load_settings({**context, var.name: text})
    assert var.value(loaded) == expected
    before, after = leaves(DEFAULT_SETTINGS), leaves(loaded)
    changed = {path for path in before if before[path] != after[path]}
    expected_paths = BODY_TIMEOUTS if var.field in BODY_TIMEOUTS else {var.field}
    if context:
        expected_paths = expected_paths | {"queue.sqs_queue_url"}
    assert changed == expected_paths


def test_defaults_render_as_their_variables_text() -> None:
    by_name = {v.name: v for v in ENV_VARS}
    assert by_name["DATABASE_URL"].default is None  # "(unset)": the embedded server under `wa-notify up`
    assert by_name["SQS_QUEUE_URL"].default == ""
    assert by_name["QUEUE_WAIT_SECONDS"].default == "1"
    assert by_name["PACING_FALLBACK_SHARE"].default == "0.25"
    assert by_name["LEADER_ELECTION"].default == "false"
    assert by_name["WORKER_PRIORITY_WEIGHTS"].default == "high=6,normal=3,low=1"
    assert by_name["API_MAX_BODY_BYTES"].default == "1048576"


def readme_rows() -> dict[str, list[tuple[str, str]]]:
    """``| `NAME` | default | meaning |`` rows of the README, by variable name."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        found = re.fullmatch(r"`([A-Z0-9_]+)`", cells[0]) if len(cells) == 3 else None
        if found:
            rows.setdefault(found[1], []).append((cells[1], cells[2]))
    return rows


def readme_default(var: EnvVar) -> str:
    """The README's default column as rendered from the one source."""
    if var.default is None:
        return "(unset)"
    return f"`{var.default}`" if var.default else "(empty)"


def same_cell(written: str, expected: str) -> bool:
    """Equal text, or the same number (`1.0` is `1`)."""
    if written == expected:
        return True
    number = r"`(-?\d+(?:\.\d+)?)`"
    a, b = re.fullmatch(number, written), re.fullmatch(number, expected)
    return a is not None and b is not None and float(a[1]) == float(b[1])


def test_readme_default_column_is_the_struct_default() -> None:
    rows = readme_rows()
    wrong = []
    for var in ENV_VARS:
        assert len(rows.get(var.name, [])) == 1, f"README.md needs one configuration row for {var.name}"
        written = rows[var.name][0][0]
        if not same_cell(written, readme_default(var)):
            wrong.append(f"| `{var.name}` | {readme_default(var)} | (README says {written})")
    assert not wrong, "README.md's configuration table has stale defaults:\n" + "\n".join(wrong)


def test_readme_meaning_column_is_the_help_text() -> None:
    rows = readme_rows()
    wrong = [v.name for v in ENV_VARS if rows.get(v.name) and rows[v.name][0][1] != v.help]
    assert not wrong, f"README.md's meaning differs from ENV_VARS' help for: {', '.join(wrong)}"


@pytest.mark.parametrize(
    ("written", "expected", "same"),
    [
        ("`1.0`", "`1`", True),
        ("`10`", "`10`", True),
        ("`0.25`", "`0.5`", False),
        ("(empty)", "(unset)", False),
    ],
)
def test_same_cell(written: str, expected: str, same: bool) -> None:
    assert same_cell(written, expected) is same


# --------------------------------------------------------------------------------------------- secrets

KEY = base64.b64encode(bytes(range(32))).decode()
SECRET_ENV = {
    "DATABASE_URL": "postgresql://wanotify:db-pa55word@db.internal:5432/wanotify",
    "REDIS_URL": "redis://default:redis-pa55word@cache.internal:6379/2",
    "META_APP_SECRET": "app-secret-value",
    "META_VERIFY_TOKEN": "verify-token-value",
    "WA_ENCRYPTION_KEY": KEY,
}
SECRET_VALUES = ("db-pa55word", "redis-pa55word", "app-secret-value", "verify-token-value", KEY)


def test_repr_of_settings_hides_every_secret() -> None:
    settings = load_settings(SECRET_ENV)
    for text in (repr(settings), str(settings), repr(settings.meta), f"{settings!r}"):
        for value in SECRET_VALUES:
            assert value not in text
    text = repr(settings)
    assert "app_secret='***'" in text and "verify_token='***'" in text and "encryption_key='***'" in text
    # The rest of a URL stays readable.
    assert "database_url='postgresql://wanotify:***@db.internal:5432/wanotify'" in text
    assert "redis_url='redis://default:***@cache.internal:6379/2'" in text


def test_unset_secrets_show_as_empty() -> None:
    assert repr(Secret("")) == "''" and repr(SecretUrl("")) == "''"
    assert "app_secret=''" in repr(DEFAULT_SETTINGS) and "database_url=''" in repr(DEFAULT_SETTINGS)


def test_secrets_are_their_values_where_a_value_is_needed() -> None:
    settings = load_settings(SECRET_ENV)
    secret = settings.meta.app_secret
    assert secret == "app-secret-value" and isinstance(secret, str)
    assert str(secret) == "app-secret-value" and type(str(secret)) is str
    assert f"{secret}" == "app-secret-value"
    assert secret.encode() == b"app-secret-value"
    assert hmac.compare_digest(settings.meta.verify_token, "verify-token-value")
    assert bool(settings.meta.app_secret) and not DEFAULT_SETTINGS.meta.app_secret
    assert make_url(settings.database_url).password == "db-pa55word"
    assert settings.redis_url == SECRET_ENV["REDIS_URL"]
    box = SecretBox(settings.encryption_key)
    assert box.decrypt(box.encrypt("token")) == "token"


def test_logged_settings_hide_every_secret() -> None:
    settings = load_settings(SECRET_ENV)
    formatter = JsonFormatter("test")
    for record in (
        logging.makeLogRecord({"msg": "settings %s", "args": (settings,)}),
        logging.makeLogRecord({"msg": "settings %r", "args": (settings,)}),
        logging.makeLogRecord({"msg": "loaded", "settings": settings, "meta": settings.meta}),
    ):
        line = formatter.format(record)
        for value in SECRET_VALUES:
            assert value not in line


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@db:5432/wa", "postgresql://u:***@db:5432/wa"),
        ("postgresql+asyncpg://u:p%40ss@db/wa", "postgresql+asyncpg://u:***@db/wa"),
        ("postgresql://u:pa/ss@w@db:5432/wa", "postgresql://u:***@db:5432/wa"),  # unescaped / and @
        ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
        ("rediss://default:pw@cache:6380/1", "rediss://default:***@cache:6380/1"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
        ("redis://user@cache:6379/0", "redis://user@cache:6379/0"),
        (
            "postgresql://db/wa?user=u&password=pw&sslmode=require",
            "postgresql://db/wa?user=u&password=***&sslmode=require",
        ),
        ("not a url pw", "***"),
        ("", ""),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert repr(SecretUrl(url)) == repr(shown)
