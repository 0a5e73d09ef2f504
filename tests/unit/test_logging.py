"""JSON logs: phone numbers masked, secrets redacted (DESIGN §6)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from wanotify.common.logging import JsonFormatter, mask_phone

PHONE = "+14155550123"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+1234567890", "+1234***890"),
        ("+14155550123", "+1415****123"),
        ("+447911123456", "+4479*****456"),
        ("sending to +1234567890 now", "sending to +1234***890 now"),
        ("a +1234567890, b +447911123456.", "a +1234***890, b +4479*****456."),
        ("recipient=+1234567890", "recipient=+1234***890"),
    ],
)
def test_mask_phone(text: str, expected: str) -> None:
    assert mask_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no numbers here",
        "ORD-1",
        "order 12345",
        "+12345",
        "attempt 3 of 5",
        "port 8080",
        "123456789",  # nine digits: too short to be a phone number
        "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA",
        "notif_01jabcdefghjkmnpqrstvwxyz0",
    ],
)
def test_short_numbers_and_ids_untouched(text: str) -> None:
    assert mask_phone(text) == text


def test_masked_phone_keeps_length_and_ends() -> None:
    masked = mask_phone(PHONE)
    assert len(masked) == len(PHONE)
    assert masked.startswith("+1415")
    assert masked.endswith("123")
    assert PHONE not in masked


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("worker"))
    logger = logging.getLogger("wanotify.tests.unit.logging")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.handlers.clear()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_output_is_one_json_object_per_line(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info("first")
    logger.warning('second "quoted"\nwith a newline')
    entries = lines(stream)
    assert len(entries) == 2
    assert entries[0]["message"] == "first"
    assert entries[0]["level"] == "info"
    assert entries[0]["service"] == "worker"
    assert entries[0]["logger"] == "wanotify.tests.unit.logging"
    assert entries[0]["timestamp"].endswith("Z")
    assert entries[1]["level"] == "warning"
    assert entries[1]["message"] == 'second "quoted"\nwith a newline'


def test_phone_masked_in_message(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info("sending to %s", PHONE)
    logger.info(f"literal {PHONE}")
    assert PHONE not in stream.getvalue()
    entries = lines(stream)
    assert entries[0]["message"] == "sending to +1415****123"
    assert entries[1]["message"] == "literal +1415****123"


def test_phone_masked_in_extra_fields(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info(
        "sent",
        extra={
            "recipient": PHONE,
            "recipients": [PHONE, "+447911123456"],
            "payload": {"to": PHONE, "nested": {"wa_id": "14155550123"}},
            "attempt": 2,
        },
    )
    raw = stream.getvalue()
    assert PHONE not in raw
    assert "14155550123" not in raw
    (entry,) = lines(stream)
    assert entry["recipient"] == "+1415****123"
    assert entry["recipients"] == ["+1415****123", "+4479*****456"]
    assert entry["payload"]["to"] == "+1415****123"
    assert entry["attempt"] == 2


@pytest.mark.parametrize(
    "key",
    ["access_token", "token", "app_secret", "client_secret", "authorization", "Authorization", "api_key"],
)
def test_secret_keys_redacted(capture: tuple[logging.Logger, io.StringIO], key: str) -> None:
    logger, stream = capture
    logger.info("calling", extra={key: "EAAverysecretvalue"})
    assert "EAAverysecretvalue" not in stream.getvalue()
    (entry,) = lines(stream)
    assert entry[key] == "[REDACTED]"


def test_secret_keys_redacted_when_nested(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info(
        "request",
        extra={"http": {"headers": {"Authorization": "Bearer EAAsecret", "X-Request-Id": "r1"}}},
    )
    assert "EAAsecret" not in stream.getvalue()
    (entry,) = lines(stream)
    assert entry["http"]["headers"] == {"Authorization": "[REDACTED]", "X-Request-Id": "r1"}


def test_exception_text_masked(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    try:
        raise RuntimeError(f"Meta refused {PHONE}")
    except RuntimeError:
        logger.exception("send failed")
    assert PHONE not in stream.getvalue()
    (entry,) = lines(stream)
    assert "RuntimeError" in entry["error"]
    assert "+1415****123" in entry["error"]


def test_standard_record_fields_are_not_dumped(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info("plain")
    (entry,) = lines(stream)
    assert not {"args", "msg", "levelno", "pathname", "exc_info"} & set(entry)
