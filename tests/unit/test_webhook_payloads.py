"""The event body types (the OpenAPI document's `webhooks` section is generated from them) decode
what the producers write, and refuse what they do not say."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from wanotify.common.domain.client_events import notification_payload
from wanotify.common.domain.message import TemplateContent
from wanotify.common.domain.notification import Notification
from wanotify.common.domain.status import Status
from wanotify.common.webhooks.payloads import NotificationEvent, decode_event

AT = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _failed() -> Notification:
    return Notification(
        id="notif_1",
        tenant_id="ten_1",
        sender_id="snd_1",
        event_type="order",
        recipient_phone="+14155550123",
        priority="high",
        status=Status.FAILED,
        message=TemplateContent(name="hello", language="en"),
        metadata={"order_id": "ORD-1"},
        attempt=2,
        max_attempts=5,
        created_at=AT,
        updated_at=AT,
        error_code="131026",
        error_message="Message undeliverable",
        error_retryable=False,
        pricing={"billable": True, "category": "utility"},
        event_sequence=3,
    )


@pytest.mark.parametrize("event_type", ["notification.failed", "notification.dead_lettered"])
def test_a_failure_decodes_with_its_error_and_pricing(event_type: str) -> None:
    body = msgspec.json.encode(notification_payload("evt_1", event_type, _failed(), AT))
    event = decode_event(body)
    assert isinstance(event, NotificationEvent) and event.event == event_type
    assert event.data.error is not None and event.data.error.code == "131026"
    assert event.data.pricing == {"billable": True, "category": "utility"} and event.data.sequence == 3


def test_a_field_the_types_do_not_name_is_refused() -> None:
    payload = notification_payload("evt_1", "notification.failed", _failed(), AT)
    payload["data"]["surprise"] = 1
    with pytest.raises(msgspec.ValidationError, match="surprise"):
        decode_event(msgspec.json.encode(payload))


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown event type"):
        decode_event(b'{"id": "evt_1", "event": "notification.exploded", "timestamp": "", "data": {}}')
