"""The database schema (SQLAlchemy Core). Alembic migrations under ``migrations/`` create it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _ts(name: str, *, nullable: bool = True, default_now: bool = False) -> Column[object]:
    return Column(
        name,
        DateTime(timezone=True),
        nullable=nullable,
        server_default=func.now() if default_now else None,
    )


tenants = Table(
    "tenants",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    # Per-tenant policy (language fallback chain, attempts per priority, opt-out keywords); see
    # wanotify.common.domain.tenant.TenantPolicy for the shape and defaults.
    Column("settings", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    _ts("created_at", nullable=False, default_now=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("prefix", String(24), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", ARRAY(Text), nullable=False),
    _ts("created_at", nullable=False, default_now=True),
    _ts("expires_at"),
    _ts("revoked_at"),
    # Written at most once a minute per key, never on every request.
    _ts("last_used_at"),
    # A rotated key names its successor; it works until its `expires_at` (the grace time).
    Column("replaced_by", String(40)),
)

senders = Table(
    "senders",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("phone_number_id", String(64), nullable=False, unique=True),
    Column("waba_id", String(64), nullable=False),
    Column("display_phone_number", String(32), nullable=False),
    Column("access_token_encrypted", LargeBinary, nullable=False),
    Column("throughput_mps", Integer, nullable=False, server_default=text("80")),
    # Meta's messaging limit: unique users reached outside the service window per 24 h; NULL = unlimited.
    Column("messaging_limit", Integer),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    # Tiers set by hand are pinned: the scheduler's read of Meta's tiers leaves them alone.
    Column("tiers_pinned", Boolean, nullable=False, server_default=text("false")),
    _ts("tiers_synced_at"),
    Column("paused_reason", Text),
    Column("paused_code", String(32)),
    _ts("paused_at"),
    _ts("created_at", nullable=False, default_now=True),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("sender_id", String(40), ForeignKey("senders.id"), nullable=False),
    Column("batch_id", String(64)),
    Column("event_type", String(100), nullable=False),
    Column("recipient_phone", String(16), nullable=False),
    # ISO 3166 alpha-2, derived from the number at ingest (NULL on rows older than issue 12).
    Column("recipient_country", String(2)),
    Column("priority", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message", JSONB, nullable=False),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("attempt", SmallInteger, nullable=False, server_default=text("0")),
    Column("max_attempts", SmallInteger, nullable=False),
    _ts("scheduled_for"),
    _ts("next_attempt_at"),
    _ts("enqueued_at"),
    _ts("claim_expires_at"),
    Column("whatsapp_message_id", String(128)),
    # Rises with every change a client hears of (webhook events carry it as `sequence`).
    Column("event_sequence", Integer, nullable=False, server_default=text("0")),
    _ts("created_at", nullable=False, default_now=True),
    _ts("updated_at", nullable=False, default_now=True),
    _ts("sent_at"),
    _ts("delivered_at"),
    _ts("read_at"),
    _ts("failed_at"),
    Column("error_code", String(32)),
    Column("error_message", Text),
    Column("error_retryable", Boolean),
    Column("pricing", JSONB),
    Column("conversation", JSONB),
    _ts("expires_at"),
    _ts("canceled_at"),
    Column("trace_id", String(64)),
    Column("traceparent", String(64)),
    CheckConstraint(
        "status IN ('scheduled','queued','rate_limited','processing','sent','delivered','read','failed',"
        "'canceled','expired')",
        name="status_known",
    ),
    Index(
        "ix_notifications_wamid",
        "whatsapp_message_id",
        unique=True,
        postgresql_where=text("whatsapp_message_id IS NOT NULL"),
    ),
    Index("ix_notifications_tenant_created", "tenant_id", text("created_at DESC")),
    # A bulk batch's notifications: its counts and its pages (`/v1/batches/{id}`).
    Index(
        "ix_notifications_tenant_batch",
        "tenant_id",
        "batch_id",
        text("created_at DESC"),
        text("id DESC"),
        postgresql_where=text("batch_id IS NOT NULL"),
    ),
    # The search: one recipient's notifications, and metadata containment (`metadata.<key>=`).
    Index("ix_notifications_tenant_recipient", "tenant_id", "recipient_phone", text("created_at DESC")),
    Index("ix_notifications_tenant_status", "tenant_id", "status", text("created_at DESC")),
    Index("ix_notifications_tenant_event_type", "tenant_id", "event_type", text("created_at DESC")),
    Index(
        "ix_notifications_tenant_template",
        "tenant_id",
        text("(message ->> 'name')"),
        text("created_at DESC"),
    ),
    Index("ix_notifications_tenant_country", "tenant_id", "recipient_country", text("created_at DESC")),
    Index(
        "ix_notifications_metadata",
        "metadata",
        postgresql_using="gin",
        postgresql_ops={"metadata": "jsonb_path_ops"},
    ),
    # Due work: unpublished rows by the time they become due (scheduler, outbox relay).
    Index(
        "ix_notifications_due",
        "next_attempt_at",
        postgresql_where=text("enqueued_at IS NULL AND status IN ('scheduled','queued','rate_limited')"),
    ),
    Index(
        "ix_notifications_stale_claims", "claim_expires_at", postgresql_where=text("status = 'processing'")
    ),
    # The dead-letter set: failed notifications by tenant and time.
    Index(
        "ix_notifications_dead_letters", "tenant_id", "failed_at", postgresql_where=text("status = 'failed'")
    ),
    # Expiry sweep: undelivered rows with a deadline.
    Index(
        "ix_notifications_expiring",
        "expires_at",
        postgresql_where=text("expires_at IS NOT NULL AND status IN ('scheduled','queued','rate_limited')"),
    ),
)

delivery_log = Table(
    "delivery_log",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("notification_id", String(40), ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False),
    Column("event", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempt", SmallInteger, nullable=False, server_default=text("0")),
    Column("source", String(16), nullable=False),
    Column("whatsapp_message_id", String(128)),
    Column("error_code", String(32)),
    Column("error_message", Text),
    Column("detail", JSONB),
    _ts("occurred_at", nullable=False, default_now=True),
    _ts("created_at", nullable=False, default_now=True),
    Index("ix_delivery_log_notification", "notification_id", "id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant_id", String(40), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", SmallInteger, nullable=False),
    Column("response_body", LargeBinary, nullable=False),
    _ts("created_at", nullable=False, default_now=True),
)

queue_messages = Table(
    "queue_messages",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("queue", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("attributes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    _ts("visible_at", nullable=False, default_now=True),
    Column("receive_count", Integer, nullable=False, server_default=text("0")),
    Column("receipt", Text),
    _ts("created_at", nullable=False, default_now=True),
    Index("ix_queue_messages_visible", "queue", "visible_at", "id"),
)

templates = Table(
    "templates",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("waba_id", String(64), nullable=False),
    Column("meta_id", String(64)),
    Column("name", String(512), nullable=False),
    Column("language", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("category", String(32)),
    Column("parameter_format", String(16), nullable=False, server_default=text("'POSITIONAL'")),
    Column("components", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    # Meta's GREEN / YELLOW / RED / UNKNOWN, from `message_template_quality_update`.
    Column("quality_score", String(16)),
    Column("rejected_reason", Text),
    _ts("synced_at", nullable=False, default_now=True),
    _ts("updated_at", nullable=False, default_now=True),
    Index("ix_templates_lookup", "tenant_id", "name", "language"),
    Index("uq_templates_waba_name_language", "tenant_id", "waba_id", "name", "language", unique=True),
)

# Media uploaded to Meta through `POST /v1/media`: Meta keeps an upload 30 days.
media = Table(
    "media",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("sender_id", String(40), ForeignKey("senders.id", ondelete="CASCADE"), nullable=False),
    Column("meta_media_id", String(128), nullable=False),
    Column("media_type", String(16), nullable=False),
    Column("mime_type", String(128), nullable=False),
    Column("file_size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename", Text),
    _ts("created_at", nullable=False, default_now=True),
    _ts("expires_at", nullable=False),
    Index("ix_media_tenant_created", "tenant_id", "created_at"),
)

# The 24-hour customer-service window: opened (and reset) by every inbound message.
conversation_windows = Table(
    "conversation_windows",
    metadata,
    Column("sender_id", String(40), ForeignKey("senders.id", ondelete="CASCADE"), primary_key=True),
    Column("recipient_phone", String(16), primary_key=True),
    _ts("last_inbound_at", nullable=False),
)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("tenant_id", String(40), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("recipient_phone", String(16), primary_key=True),
    Column("source", String(16), nullable=False),
    Column("reason", Text),
    _ts("created_at", nullable=False, default_now=True),
)


# --- client webhooks -----------------------------------------------------------------------------

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("url", Text, nullable=False),
    Column("description", Text),
    # Normalised subscriptions: full event types, `<prefix>.*` or `*` (aliases expanded on write).
    Column("events", ARRAY(String(64)), nullable=False),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("secret_encrypted", LargeBinary, nullable=False),
    # During a rotation's overlap, deliveries are signed with both secrets.
    Column("previous_secret_encrypted", LargeBinary),
    _ts("previous_secret_expires_at"),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("disabled_reason", Text),
    _ts("disabled_at"),
    # Start of the current run of failed deliveries (auto-disable counts from here).
    _ts("failing_since"),
    # The breaker: failed attempts in a row, and while it is open, when the next probe may go.
    Column("consecutive_failures", Integer, nullable=False, server_default=text("0")),
    _ts("breaker_open_until"),
    _ts("created_at", nullable=False, default_now=True),
    _ts("updated_at", nullable=False, default_now=True),
    Index("ix_webhook_endpoints_tenant", "tenant_id", "created_at"),
)

# One row per client event: written in the transaction of the change that caused it.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(64), nullable=False),
    Column("notification_id", String(40)),
    Column("sequence", Integer, nullable=False, server_default=text("0")),
    Column("payload", JSONB, nullable=False),
    # The trace of the change that caused it: a delivery's span links to it.
    Column("traceparent", String(64)),
    _ts("created_at", nullable=False, default_now=True),
    Index("ix_webhook_events_notification", "notification_id", "sequence"),
)

# One row per (event, endpoint): the work the worker's delivery loop takes, and its last outcome.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("event_id", String(40), ForeignKey("webhook_events.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint_id", String(40), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("tenant_id", String(40), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("notification_id", String(40)),
    Column("sequence", Integer, nullable=False, server_default=text("0")),
    # pending → delivering → succeeded | failed (schedule exhausted); held: its endpoint is disabled.
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False, server_default=text("0")),
    _ts("next_attempt_at", nullable=False, default_now=True),
    _ts("claim_expires_at"),
    Column("last_status_code", SmallInteger),
    Column("last_error", Text),
    _ts("last_attempt_at"),
    _ts("delivered_at"),
    _ts("created_at", nullable=False, default_now=True),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_order", "endpoint_id", "notification_id", "sequence"),
    Index("ix_webhook_deliveries_log", "endpoint_id", "created_at"),
    # The claim reads each endpoint's due rows in order (stopping at its free slots) and counts what
    # it has in flight.
    Index(
        "ix_webhook_deliveries_endpoint_due",
        "endpoint_id",
        "next_attempt_at",
        "id",
        postgresql_where=text("status IN ('pending', 'delivering')"),
    ),
    Index("ix_webhook_deliveries_in_flight", "endpoint_id", postgresql_where=text("status = 'delivering'")),
)

# The delivery log: one row per attempt, as the API shows it.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column(
        "delivery_id", String(40), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False
    ),
    Column("attempt", Integer, nullable=False),
    Column("status_code", SmallInteger),
    Column("duration_ms", Integer, nullable=False),
    Column("response_body", Text),
    Column("error", Text),
    _ts("next_attempt_at"),
    _ts("attempted_at", nullable=False, default_now=True),
    Index("ix_webhook_attempts_delivery", "delivery_id", "id"),
)
