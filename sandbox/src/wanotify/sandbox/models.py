"""Records kept by the sandbox state."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from wanotify.sandbox.settings import StatusOrder

FaultMode = Literal["sync", "async"]
Outcome = Literal["accepted", "refused", "failed"]
WebhookKind = Literal["status", "inbound", "template_status"]


class PhoneNumber(msgspec.Struct, frozen=True, omit_defaults=True):
    phone_number_id: str
    waba_id: str
    access_token: str
    display_phone_number: str
    # Messages per second for this number (80, 1000, 20 ...); None = SANDBOX_DEFAULT_THROUGHPUT_MPS.
    throughput_mps: float | None = None
    # Unique users reachable outside the window per WABA per 24 h (250, 2000 ...); None = unlimited.
    messaging_limit: int | None = None

    @property
    def display_digits(self) -> str:
        """The display number as webhooks carry it: digits only."""
        return "".join(c for c in self.display_phone_number if c.isdigit())


class Template(msgspec.Struct, frozen=True):
    """One of Meta's template objects, as returned by `GET /{waba-id}/message_templates`."""

    id: str
    name: str
    language: str
    status: str
    category: str
    parameter_format: str
    components: list[dict[str, Any]]

    def to_meta(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)


class MessageRecord(msgspec.Struct, kw_only=True):
    """A send request as received, with what the sandbox answered."""

    id: str | None
    phone_number_id: str
    to: str | None
    wa_id: str | None
    type: str | None
    request: Any
    http_status: int
    error_code: int | None
    outcome: Outcome
    received_at: float


class WebhookAttempt(msgspec.Struct, kw_only=True):
    kind: WebhookKind
    wamid: str | None
    status: str | None
    url: str
    body: str
    attempt: int
    http_status: int | None
    error: str | None
    at: float


class Fault(msgspec.Struct, kw_only=True):
    """An injected failure for sends to one recipient (or to everyone when `wa_id` is None)."""

    wa_id: str | None
    code: int | None
    mode: FaultMode = "sync"
    times: int | None = None
    delay_seconds: float = 0.0


class Behaviour(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Status-webhook knobs for one recipient; a None field falls back to the start-up setting."""

    wa_id: str
    duplicates: bool | None = None
    order: StatusOrder | None = None
    skip_delivered: bool | None = None
    delay_seconds: float | None = None
    drop_statuses: bool | None = None
