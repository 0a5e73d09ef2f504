"""The client webhook event catalogue and subscription matching."""

from __future__ import annotations

import pytest

from wanotify.common.domain.errors import ValidationFailed
from wanotify.common.domain.status import Status
from wanotify.common.webhooks.event_types import (
    ALIASES,
    EVENT_PREFIXES,
    EVENT_TYPES,
    NOTIFICATION_EVENT_FOR_STATUS,
    normalize_subscriptions,
    subscribed,
)


def test_catalogue() -> None:
    assert EVENT_TYPES == (
        "notification.queued",
        "notification.sent",
        "notification.delivered",
        "notification.read",
        "notification.failed",
        "notification.canceled",
        "notification.expired",
        "notification.dead_lettered",
        "message.received",
        "recipient.opted_out",
        "recipient.opted_in",
        "sender.paused",
        "sender.resumed",
        "webhook.test",
    )
    assert EVENT_PREFIXES == ("notification", "message", "recipient", "sender", "webhook")


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param(["notification.sent"], ("notification.sent",), id="exact"),
        pytest.param(list(EVENT_TYPES), EVENT_TYPES, id="every-type"),
        pytest.param(["sent"], ("notification.sent",), id="alias"),
        pytest.param(["dead_lettered"], ("notification.dead_lettered",), id="alias-dead-lettered"),
        pytest.param(["notification.*"], ("notification.*",), id="wildcard"),
        pytest.param(["webhook.*", "sender.*"], ("webhook.*", "sender.*"), id="wildcards"),
        pytest.param(["*"], ("*",), id="everything"),
        pytest.param(["read", "*", "message.*"], ("notification.read", "*", "message.*"), id="mixed"),
        pytest.param(["sent", "notification.sent", "sent"], ("notification.sent",), id="dedup-alias"),
        pytest.param(
            ["message.received", "failed", "message.received", "*", "*"],
            ("message.received", "notification.failed", "*"),
            id="dedup-keeps-first-position",
        ),
        pytest.param(("queued",), ("notification.queued",), id="tuple-input"),
    ],
)
def test_normalize(items: list[str], expected: tuple[str, ...]) -> None:
    assert normalize_subscriptions(items) == expected


@pytest.mark.parametrize(("alias", "full"), list(ALIASES.items()))
def test_every_alias_expands_to_a_catalogue_type(alias: str, full: str) -> None:
    assert full == f"notification.{alias}"
    assert full in EVENT_TYPES
    assert normalize_subscriptions([alias]) == (full,)


def test_aliases() -> None:
    assert set(ALIASES) == {
        "queued",
        "sent",
        "delivered",
        "read",
        "failed",
        "canceled",
        "expired",
        "dead_lettered",
    }


@pytest.mark.parametrize(
    ("items", "index", "value"),
    [
        (["notification.bounced"], 0, "notification.bounced"),
        (["sent", "received"], 1, "received"),
        (["Notification.Sent"], 0, "Notification.Sent"),
        ([" sent"], 0, " sent"),
        (["notification."], 0, "notification."),
        (["notification*"], 0, "notification*"),
        (["notify.*"], 0, "notify.*"),
        (["notification.sent.*"], 0, "notification.sent.*"),
        (["*.sent"], 0, "*.sent"),
        (["**"], 0, "**"),
        ([".*"], 0, ".*"),
        (["message.received", "opted_out"], 1, "opted_out"),
        (["scheduled"], 0, "scheduled"),
        ([""], 0, ""),
    ],
)
def test_unknown_items_name_their_index(items: list[str], index: int, value: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_subscriptions(items, field="endpoint.events")
    error = caught.value
    assert error.code == "INVALID_EVENT_TYPE"
    assert error.field == f"endpoint.events[{index}]"
    assert repr(value) in error.message
    assert "notification.sent" in error.message
    assert "notification, message, recipient, sender, webhook" in error.message
    assert "*" in error.message


def test_default_field_name() -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_subscriptions(["sent", "nope"])
    assert caught.value.field == "events[1]"


@pytest.mark.parametrize("items", [[], ()])
def test_empty_list_is_refused(items: list[str]) -> None:
    with pytest.raises(ValidationFailed, match="at least one event type") as caught:
        normalize_subscriptions(items)
    assert caught.value.code == "INVALID_EVENT_TYPE"
    assert caught.value.field == "events"


def test_a_bare_string_is_not_a_list() -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_subscriptions("sent")
    assert caught.value.field == "events"


def test_at_most_50_items() -> None:
    assert len(normalize_subscriptions(["sent"] * 50)) == 1
    with pytest.raises(ValidationFailed, match="at most 50") as caught:
        normalize_subscriptions(["sent"] * 51)
    assert caught.value.code == "INVALID_EVENT_TYPE"


@pytest.mark.parametrize(
    ("subscriptions", "event_type", "expected"),
    [
        (["notification.sent"], "notification.sent", True),
        (["notification.sent"], "notification.delivered", False),
        (["notification.*"], "notification.dead_lettered", True),
        (["notification.*"], "message.received", False),
        (["message.*"], "message.received", True),
        (["recipient.*", "sender.*"], "sender.paused", True),
        (["*"], "recipient.opted_in", True),
        (["*"], "notification.queued", True),
        (["sent"], "notification.sent", True),
        (["sent"], "notification.read", False),
        ([], "notification.sent", False),
        (["notification.*"], "notificationx.sent", False),
        (["webhook.*"], "webhook.test", True),
    ],
)
def test_subscribed(subscriptions: list[str], event_type: str, expected: bool) -> None:
    assert subscribed(subscriptions, event_type) is expected


@pytest.mark.parametrize("subscriptions", [[], ["notification.sent"], ["message.*"], ["*"]])
def test_webhook_test_is_always_delivered(subscriptions: list[str]) -> None:
    assert subscribed(subscriptions, "webhook.test")


def test_normalized_subscriptions_match_what_they_were_written_for() -> None:
    stored = normalize_subscriptions(["delivered", "recipient.*"])
    assert subscribed(stored, "notification.delivered")
    assert subscribed(stored, "recipient.opted_out")
    assert not subscribed(stored, "notification.sent")


def test_status_events() -> None:
    assert NOTIFICATION_EVENT_FOR_STATUS == {
        "queued": "notification.queued",
        "sent": "notification.sent",
        "delivered": "notification.delivered",
        "read": "notification.read",
        "failed": "notification.failed",
        "canceled": "notification.canceled",
        "expired": "notification.expired",
    }
    assert set(NOTIFICATION_EVENT_FOR_STATUS.values()) <= set(EVENT_TYPES)


def test_every_status_has_an_event_or_is_internal() -> None:
    internal = {Status.SCHEDULED, Status.PROCESSING, Status.RATE_LIMITED}
    assert {str(s) for s in Status} - internal == set(NOTIFICATION_EVENT_FOR_STATUS)
    assert NOTIFICATION_EVENT_FOR_STATUS[Status.SENT] == "notification.sent"
