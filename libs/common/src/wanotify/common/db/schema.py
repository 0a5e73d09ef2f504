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
    _ts("synced_at", nullable=False, default_now=True),
    _ts("updated_at", nullable=False, default_now=True),
    Index("ix_templates_lookup", "tenant_id", "name", "language"),
    Index("uq_templates_waba_name_language", "tenant_id", "waba_id", "name", "language", unique=True),
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
