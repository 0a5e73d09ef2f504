"""Records kept by the sandbox state."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

FaultMode = Literal["sync", "async"]
Outcome = Literal["accepted", "refused", "failed"]
WebhookKind = Literal["status", "inbound"]


class PhoneNumber(msgspec.Struct, frozen=True):
    phone_number_id: str
    waba_id: str
    access_token: str
    display_phone_number: str

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
