"""A notification as stored, and the tenant-facing views of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from wanotify.common.domain.message import MessageContent
from wanotify.common.domain.status import Status


class Notification(msgspec.Struct, frozen=True):
    id: str
    tenant_id: str
    sender_id: str
    event_type: str
    recipient_phone: str
    priority: str
    status: Status
    message: MessageContent
    metadata: dict[str, Any]
    attempt: int
    max_attempts: int
    created_at: datetime
    updated_at: datetime
    scheduled_for: datetime | None = None
    next_attempt_at: datetime | None = None
    whatsapp_message_id: str | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    failed_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_retryable: bool | None = None
    batch_id: str | None = None
    trace_id: str | None = None
    traceparent: str | None = None
    expires_at: datetime | None = None
    canceled_at: datetime | None = None
    pricing: dict[str, Any] | None = None
    conversation: dict[str, Any] | None = None
    event_sequence: int = 0
    recipient_country: str | None = None


class NewNotification(msgspec.Struct, frozen=True):
    """What the API writes; the repository fills the timestamps."""

    id: str
    tenant_id: str
    sender_id: str
    event_type: str
    recipient_phone: str
    priority: str
    status: Status
    message: MessageContent
    metadata: dict[str, Any]
    max_attempts: int
    scheduled_for: datetime | None
    next_attempt_at: datetime | None
    batch_id: str | None
    trace_id: str | None
    traceparent: str | None
    expires_at: datetime | None = None
    recipient_country: str | None = None


class Sender(msgspec.Struct, frozen=True):
    id: str
    tenant_id: str
    phone_number_id: str
    waba_id: str
    display_phone_number: str
    access_token_encrypted: bytes
    throughput_mps: int
    is_default: bool
    paused_reason: str | None
    paused_code: str | None = None
    paused_at: datetime | None = None
    # Unique users per 24 h outside the service window (250, 2000, 10000, 100000); None = unlimited.
    messaging_limit: int | None = None


# Meta's tiers: messages per second per phone number (20 for coexistence numbers, 80 standard,
# 1,000 upgraded) and unique users per 24 h outside the service window (None = unlimited).
THROUGHPUT_TIERS = (20, 80, 1000)
MESSAGING_LIMIT_TIERS = (250, 2000, 10000, 100000)


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the tenant behind an API key, and what the key may do."""

    tenant_id: str
    key_id: str
    scopes: frozenset[str]
