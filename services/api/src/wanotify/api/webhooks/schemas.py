"""Bodies of the webhooks API."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from wanotify.api.notifications.schemas import Time
from wanotify.common.domain.webhook import BreakerState
from wanotify.common.edge.text import MULTILINE_PATTERN, SINGLE_LINE_PATTERN

WebhookUrl = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=2048,
        pattern=SINGLE_LINE_PATTERN,
        description="`https://` URL (see the rules)",
    ),
]
EventName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.*]+$",
        description="An event type (`notification.read`), a wildcard (`notification.*`, `*`), or `read`",
    ),
]
Events = Annotated[list[EventName], Meta(min_length=1, max_length=50)]
Description = Annotated[str, Meta(max_length=500, extra_json_schema={"pattern": MULTILINE_PATTERN})]
Secret = Annotated[
    str,
    Meta(
        max_length=100,
        pattern=SINGLE_LINE_PATTERN,
        description="`whsec_` + base64 of 24 to 64 random bytes; generated when absent",
    ),
]
Metadata = Annotated[
    dict[
        Annotated[str, Meta(max_length=64, pattern=SINGLE_LINE_PATTERN)],
        Annotated[str, Meta(max_length=500, pattern=SINGLE_LINE_PATTERN)],
    ],
    Meta(max_length=20),
]


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    multiline: ClassVar[frozenset[str]] = frozenset({"description"})

    url: WebhookUrl
    events: Events
    description: Description | None = None
    secret: Secret | None = None
    metadata: Metadata = msgspec.field(default_factory=dict)


class WebhookPatch(msgspec.Struct, forbid_unknown_fields=True):
    """A field left out keeps its value."""

    multiline: ClassVar[frozenset[str]] = frozenset({"description"})

    url: WebhookUrl | msgspec.UnsetType = msgspec.UNSET
    events: Events | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType | None = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    metadata: Metadata | msgspec.UnsetType = msgspec.UNSET


class WebhookOut(msgspec.Struct):
    id: str
    url: str
    events: list[str]
    description: str | None
    metadata: dict[str, str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: str | None
    # Start of the current run of failed deliveries (it is disabled once the run is long enough).
    failing_since: str | None
    # `open`: nothing is sent until `breaker_open_until`; `half_open`: one probe may go.
    breaker: BreakerState
    breaker_open_until: str | None
    # During a rotation's overlap, when the old secret stops signing.
    previous_secret_expires_at: str | None
    created_at: str
    updated_at: str


class WebhookCreated(msgspec.Struct):
    """The endpoint, and its secret: shown in this response only."""

    webhook: WebhookOut
    secret: str


class WebhookPage(msgspec.Struct):
    webhooks: list[WebhookOut]
    next_cursor: str | None


class RotatedSecret(msgspec.Struct):
    """The new secret (shown once); both sign deliveries until ``previous_secret_expires_at``."""

    secret: str
    previous_secret_expires_at: str | None


class DeliveryOut(msgspec.Struct):
    """One event for one endpoint, with its last attempt."""

    id: str
    event_id: str
    event_type: str
    notification_id: str | None
    status: str  # pending, delivering, succeeded, failed (schedule exhausted), held (endpoint disabled)
    attempt: int
    status_code: int | None
    duration_ms: int | None
    response_body: str | None  # the first 1 KB of the last answer
    error: str | None
    attempted_at: str | None
    next_attempt_at: str | None  # while pending
    delivered_at: str | None
    created_at: str


class DeliveryPage(msgspec.Struct):
    deliveries: list[DeliveryOut]
    next_cursor: str | None


class Redelivered(msgspec.Struct):
    delivery_id: str
    status: str


class RecoverIn(msgspec.Struct, forbid_unknown_fields=True):
    """Every delivery that failed, or was held while the endpoint was disabled, recorded in
    ``[since, until)``, goes again."""

    since: Time
    until: Time | None = None


class TestOutcome(msgspec.Struct):
    """What the endpoint made of a ``webhook.test`` event sent just now (also in the delivery log)."""

    event_id: str
    delivery_id: str
    succeeded: bool
    status_code: int | None
    duration_ms: int
    response_body: str | None
    error: str | None


class Recovered(msgspec.Struct):
    recovered: int
