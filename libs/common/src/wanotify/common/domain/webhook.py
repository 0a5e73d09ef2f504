"""A tenant's webhook endpoint and the work of delivering one event to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

BreakerState = Literal["closed", "open", "half_open"]


class WebhookEndpoint(msgspec.Struct, frozen=True):
    id: str
    tenant_id: str
    url: str
    events: list[str]
    metadata: dict[str, Any]
    secret_encrypted: bytes
    enabled: bool
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    previous_secret_encrypted: bytes | None = None
    previous_secret_expires_at: datetime | None = None
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    failing_since: datetime | None = None
    consecutive_failures: int = 0
    breaker_open_until: datetime | None = None


def breaker_state(e: WebhookEndpoint, now: datetime) -> BreakerState:
    """``closed``, ``open`` (nothing is sent until ``breaker_open_until``) or ``half_open`` (one
    probe may go; its success closes the breaker, its failure opens it again)."""
    if e.breaker_open_until is None:
        return "closed"
    return "open" if e.breaker_open_until > now else "half_open"


class DueDelivery(msgspec.Struct, frozen=True):
    """A claimed delivery, with what sending it needs: the event, the endpoint's URL and secrets."""

    id: str
    event_id: str
    endpoint_id: str
    tenant_id: str
    event_type: str
    attempt: int
    payload: dict[str, Any]
    url: str
    secret_encrypted: bytes
    previous_secret_encrypted: bytes | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    notification_id: str | None = None
    traceparent: str | None = None


class AttemptOutcome(msgspec.Struct, frozen=True):
    """What one HTTP attempt gave: a status (None when no response), its duration and the start
    of its body, or the error."""

    duration_ms: int
    status_code: int | None = None
    response_body: str | None = None
    error: str | None = None
    retry_after_seconds: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class DeliveryRecord(msgspec.Struct, frozen=True):
    """One delivery as the log shows it: its state and its last attempt."""

    id: str
    event_id: str
    event_type: str
    status: str
    attempt: int
    created_at: datetime
    next_attempt_at: datetime
    notification_id: str | None = None
    delivered_at: datetime | None = None
    status_code: int | None = None
    duration_ms: int | None = None
    response_body: str | None = None
    error: str | None = None
    attempted_at: datetime | None = None
