"""JSON logs: phone numbers masked, secrets redacted (DESIGN §6)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from wanotify.common.logging import JsonFormatter, field_kind, mask_phone, mask_phone_value

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


# Field-aware masking: phones by name always, ids by name never, free text only what looks like a number.

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
WA_ID = "14155550123"
WAMID = "wamid.HBgLMTQxNTU1NTAxMjMVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
TENANT_UUID = "3f2a1b4c-1234-4abc-8def-123456789012"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"from {WA_ID}", "from 1415****123"),
        (f"wa_id={WA_ID}", "wa_id=1415****123"),
        (f'{{"to": "{WA_ID}"}}', '{"to": "1415****123"}'),
        (f"recipient_id: {WA_ID}", "recipient_id: 1415****123"),
        ("tel:+14155550123", "tel:+1415****123"),
        (f"({PHONE})", "(+1415****123)"),
    ],
)
def test_free_text_masks_numbers_that_look_like_phones(text: str, expected: str) -> None:
    assert mask_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        f"phone_number_id={PHONE_NUMBER_ID}",
        f"waba_id: {WABA_ID}",
        f'{{"phone_number_id":"{PHONE_NUMBER_ID}","waba_id":"{WABA_ID}"}}',
        f"{{'phone_number_id': '{PHONE_NUMBER_ID}'}}",  # a dict's repr in an exception
        f'{{\\"waba_id\\":\\"{WABA_ID}\\"}}',  # JSON inside a JSON string
        f"sender id {PHONE_NUMBER_ID} paused",
        f"X-Request-Id: {WA_ID}",
        f"phoneNumberId={PHONE_NUMBER_ID}",
        WAMID,
        f"status for {WAMID}",
        f"tenant {TENANT_UUID}",
        "trace 4bf92f3577b34da6a3ce929d0e0e4736",
        "trace 12345678901234567890123456789012",  # longer than any phone number
        "span 00f067aa0ba902b7",
        "took 12345678901.5 ms",
        "ratio 0.14155550123",
    ],
)
def test_free_text_leaves_ids_alone(text: str) -> None:
    assert mask_phone(text) == text


def test_an_id_and_a_phone_in_one_sentence(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info("phone_number_id=%s sent to %s (wa_id %s)", PHONE_NUMBER_ID, PHONE, WA_ID)
    (entry,) = lines(stream)
    assert entry["message"] == f"phone_number_id={PHONE_NUMBER_ID} sent to +1415****123 (wa_id 1415****123)"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("phone", "phone"),
        ("phone_number", "phone"),
        ("recipient", "phone"),
        ("recipients", "phone"),
        ("recipient_phone", "phone"),
        ("display_phone_number", "phone"),
        ("to", "phone"),
        ("from", "phone"),
        ("wa_id", "phone"),
        ("waId", "phone"),
        ("recipient_id", "phone"),  # Meta's status field: the user's wa_id
        ("msisdn", "phone"),
        ("id", "id"),
        ("notification_id", "id"),
        ("tenant_id", "id"),
        ("phone_number_id", "id"),
        ("phoneNumberId", "id"),
        ("waba_id", "id"),
        ("wamid", "id"),
        ("trace_id", "id"),
        ("span_id", "id"),
        ("X-Request-Id", "id"),
        ("access_token", "secret"),
        ("api_key_id", "secret"),  # a secret-looking name wins
        ("event_type", "text"),
        ("error", "text"),
    ],
)
def test_field_kind(name: str, kind: str) -> None:
    assert field_kind(name) == kind


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+14155550123", "+1415****123"),
        ("14155550123", "1415****123"),
        ("+1 (415) 555-0123", "+1 (415) ***-*123"),
        ("5550123", "****123"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_mask_phone_value(value: str, expected: str) -> None:
    assert mask_phone_value(value) == expected


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("phone", PHONE, "+1415****123"),
        ("recipient_phone", PHONE, "+1415****123"),
        ("to", WA_ID, "1415****123"),
        ("from", WA_ID, "1415****123"),
        ("wa_id", WA_ID, "1415****123"),
        ("wa_id", int(WA_ID), "1415****123"),
        ("msisdn", "4479111234", "4479***234"),
        ("recipient", "+1 415 555 0123", "+1 415 *** *123"),
        ("recipient", "5550123", "****123"),  # too short for free-text masking, masked by name
    ],
)
def test_phone_fields_are_always_masked(
    capture: tuple[logging.Logger, io.StringIO], key: str, value: object, expected: str
) -> None:
    logger, stream = capture
    logger.info("sent", extra={key: value})
    (entry,) = lines(stream)
    assert entry[key] == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("waba_id", WABA_ID),
        ("phone_number_id", PHONE_NUMBER_ID),
        ("phone_number_id", int(PHONE_NUMBER_ID)),
        ("wamid", WAMID),
        ("tenant_id", TENANT_UUID),
        ("notification_id", "notif_01jabcdefghjkmnpqrstvwxyz0"),
        ("id", WABA_ID),
        ("trace_id", "12345678901234567890123456789012"),
        ("span_id", "1234567890123456"),
        ("sender_ids", [PHONE_NUMBER_ID, WABA_ID]),
    ],
)
def test_id_fields_are_never_masked(
    capture: tuple[logging.Logger, io.StringIO], key: str, value: object
) -> None:
    logger, stream = capture
    logger.info("sent", extra={key: value})
    (entry,) = lines(stream)
    assert entry[key] == value


def test_nested_fields_are_judged_by_their_own_names(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info(
        "webhook",
        extra={
            "meta": {
                "metadata": {"phone_number_id": PHONE_NUMBER_ID, "display_phone_number": "15550001111"},
                "statuses": [{"id": WAMID, "recipient_id": WA_ID, "status": "delivered"}],
                "note": f"waba_id={WABA_ID} from {WA_ID}",
            }
        },
    )
    (entry,) = lines(stream)
    meta = entry["meta"]
    assert meta["metadata"] == {"phone_number_id": PHONE_NUMBER_ID, "display_phone_number": "1555****111"}
    assert meta["statuses"] == [{"id": WAMID, "recipient_id": "1415****123", "status": "delivered"}]
    assert meta["note"] == f"waba_id={WABA_ID} from 1415****123"
    assert WA_ID not in stream.getvalue()


def test_phone_named_fields_keep_what_is_not_a_number(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info("transition", extra={"from": "queued", "to": "processing", "phones_sent": 3})
    (entry,) = lines(stream)
    assert (entry["from"], entry["to"], entry["phones_sent"]) == ("queued", "processing", 3)


def test_exception_text_keeps_ids_and_masks_phones(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    try:
        raise RuntimeError(f"Meta refused {PHONE} for phone_number_id={PHONE_NUMBER_ID}, waba_id: {WABA_ID}")
    except RuntimeError:
        logger.exception("send failed")
    (entry,) = lines(stream)
    assert "+1415****123" in entry["error"]
    assert f"phone_number_id={PHONE_NUMBER_ID}, waba_id: {WABA_ID}" in entry["error"]
    assert PHONE not in stream.getvalue()
