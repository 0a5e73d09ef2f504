"""Request validation of the ingest API: field-named errors, content rules, business limits."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from wanotify.api.notifications.schemas import NotificationIn
from wanotify.api.notifications.validation import (
    MAX_METADATA_BYTES,
    check_request,
    content_of,
)
from wanotify.common.clock import utcnow
from wanotify.common.domain.errors import MalformedJson, Unprocessable, ValidationFailed
from wanotify.common.domain.message import TemplateContent, TemplateParameter, TextContent
from wanotify.common.edge.body import decode_json as decode

BASE: dict[str, Any] = {
    "event_type": "order.placed",
    "recipient": {"phone_number": "+14155550123"},
    "template": {
        "name": "order_confirmation",
        "language": "en_US",
        "parameters": [
            {"type": "text", "value": "Ana"},
            {"type": "text", "value": "ORD-1"},
            {"type": "currency", "value": "99.99", "code": "USD"},
        ],
    },
    "metadata": {"order_id": "ORD-1"},
}


def body(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    doc.update(changes)
    return doc


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def parse(doc: dict[str, Any]) -> NotificationIn:
    return decode(encode(doc), NotificationIn)


def failure(doc: dict[str, Any] | bytes, prefix: str = "") -> ValidationFailed:
    raw = doc if isinstance(doc, bytes) else encode(doc)
    with pytest.raises(ValidationFailed) as info:
        decode(raw, NotificationIn, prefix=prefix)
    return info.value


# ---------------------------------------------------------------- decode


def test_valid_request_decodes() -> None:
    request = parse(BASE)
    assert request.recipient.phone_number == "+14155550123"
    assert request.template is not None
    assert request.template.language == "en_US"
    assert request.priority == "normal"


@pytest.mark.parametrize(
    "phone", ["14155550123", "+0123456789", "+1", "+1415555012345678", "+1 415 555 0123", ""]
)
def test_bad_phone_number(phone: str) -> None:
    error = failure(body(recipient={"phone_number": phone}))
    assert error.field == "recipient.phone_number"
    assert error.code == "INVALID_PHONE_NUMBER"


@pytest.mark.parametrize("language", ["en", "en_US", "pt_BR", "fil", "zh_CN"])
def test_meta_locales_accepted(language: str) -> None:
    doc = body()
    doc["template"]["language"] = language
    assert parse(doc).template.language == language  # type: ignore[union-attr]


@pytest.mark.parametrize("language", ["english", "EN", "en-us", "en_us", "en-US", "", "e"])
def test_other_locales_refused(language: str) -> None:
    doc = body()
    doc["template"]["language"] = language
    error = failure(doc)
    assert error.field == "template.language"
    assert error.code == "INVALID_TEMPLATE_LANGUAGE"


@pytest.mark.parametrize("name", ["event_type", "recipient"])
def test_missing_field_is_named(name: str) -> None:
    doc = body()
    del doc[name]
    error = failure(doc)
    assert error.field == name
    assert error.code == "VALIDATION_ERROR"
    assert name in error.message


def test_missing_nested_field_is_named() -> None:
    doc = body()
    del doc["template"]["name"]
    error = failure(doc)
    assert error.field == "template.name"
    assert "name" in error.message


def test_missing_phone_number_is_named() -> None:
    error = failure(body(recipient={}))
    assert error.field == "recipient.phone_number"


def test_unknown_top_level_field_is_named() -> None:
    error = failure(body(colour="red"))
    assert error.field == "colour"
    assert error.code == "VALIDATION_ERROR"
    assert "colour" in error.message


def test_unknown_nested_field_is_named() -> None:
    doc = body()
    doc["template"]["parameters"][1]["format"] = "bold"
    error = failure(doc)
    assert error.field == "template.parameters[1].format"


def test_wrong_type_names_the_path() -> None:
    doc = body()
    doc["template"]["parameters"][0]["type"] = "image"
    assert failure(doc).field == "template.parameters[0].type"
    assert failure(body(priority="urgent")).field == "priority"


def test_an_integral_float_is_an_integer_as_json_schema_says() -> None:
    buttons = [{"sub_type": "quick_reply", "index": 2.0, "value": "yes"}]
    doc = body()
    doc["template"]["buttons"] = buttons
    assert parse(doc).template is not None
    assert parse(doc).template.buttons[0].index == 2  # type: ignore[union-attr]
    doc["template"]["buttons"] = [{**buttons[0], "index": 2.5}]
    assert failure(doc).field == "template.buttons[0].index"


def test_scheduled_for_needs_a_timezone() -> None:
    assert failure(body(scheduled_for="2030-01-01T00:00:00")).field == "scheduled_for"


def test_prefix_is_prepended_for_bulk_items() -> None:
    error = failure(body(recipient={"phone_number": "bad"}), prefix="notifications[3].")
    assert error.field == "notifications[3].recipient.phone_number"
    assert error.code == "INVALID_PHONE_NUMBER"


def test_wrong_top_level_type() -> None:
    error = failure(b"[]")
    assert error.code == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    "raw", [b'{"event_type": ', b"", b"not json", b"{'single': 'quotes'}", b'{"event_type": "x",}']
)
def test_malformed_json(raw: bytes) -> None:
    with pytest.raises(MalformedJson) as info:
        decode(raw, NotificationIn)
    assert info.value.code == "MALFORMED_JSON"


# ---------------------------------------------------------------- content_of


def test_template_content() -> None:
    content = content_of(parse(BASE))
    assert content == TemplateContent(
        name="order_confirmation",
        language="en_US",
        parameters=[
            TemplateParameter(type="text", value="Ana"),
            TemplateParameter(type="text", value="ORD-1"),
            TemplateParameter(type="currency", value="99.99", code="USD"),
        ],
    )


def test_text_content() -> None:
    doc = body(message={"text": "See https://example.com", "preview_url": True})
    del doc["template"]
    assert content_of(parse(doc)) == TextContent(text="See https://example.com", preview_url=True)


def test_neither_template_nor_message() -> None:
    doc = body()
    del doc["template"]
    with pytest.raises(Unprocessable):
        content_of(parse(doc))


def test_both_template_and_message() -> None:
    with pytest.raises(Unprocessable):
        content_of(parse(body(message={"text": "hi"})))


def with_currency(**param: Any) -> NotificationIn:
    doc = body()
    doc["template"]["parameters"][2] = {"type": "currency", **param}
    return parse(doc)


def test_currency_needs_a_code() -> None:
    with pytest.raises(Unprocessable) as info:
        content_of(with_currency(value="99.99"))
    assert info.value.field == "template.parameters[2].code"


@pytest.mark.parametrize(
    "value", ["$99.99", "99,99", "ninety", "99.99 USD", "NaN", "Infinity", "-Infinity", "sNaN"]
)
def test_currency_value_must_be_a_decimal_amount(value: str) -> None:
    with pytest.raises(Unprocessable) as info:
        content_of(with_currency(value=value, code="USD"))
    assert info.value.field == "template.parameters[2].value"


def test_non_decimal_value_allowed_with_amount_1000() -> None:
    content = content_of(with_currency(value="$99.99", code="USD", amount_1000=99990))
    assert isinstance(content, TemplateContent)
    assert content.parameters[2] == TemplateParameter(
        type="currency", value="$99.99", code="USD", amount_1000=99990
    )


def test_currency_code_must_be_iso_4217() -> None:
    doc = body()
    doc["template"]["parameters"][2]["code"] = "usd"
    assert failure(doc).field == "template.parameters[2].code"


# ---------------------------------------------------------------- check_request


def test_metadata_at_the_limit_passes_and_above_is_refused() -> None:
    filler = MAX_METADATA_BYTES - len(msgspec.json.encode({"k": ""}))
    at_limit = parse(body(metadata={"k": "x" * filler}))
    assert len(msgspec.json.encode(at_limit.metadata)) == MAX_METADATA_BYTES
    check_request(at_limit)
    with pytest.raises(ValidationFailed) as info:
        check_request(parse(body(metadata={"k": "x" * (filler + 1)})))
    assert info.value.field == "metadata"


def test_schedule_within_30_days_passes() -> None:
    check_request(parse(body(scheduled_for=(utcnow() + timedelta(days=29)).isoformat())))
    check_request(parse(body(scheduled_for=(utcnow() - timedelta(minutes=5)).isoformat())))
    check_request(parse(BASE))


def test_schedule_too_far() -> None:
    with pytest.raises(Unprocessable) as info:
        check_request(parse(body(scheduled_for=(utcnow() + timedelta(days=31)).isoformat())))
    assert info.value.code == "SCHEDULE_TOO_FAR"
    assert info.value.field == "scheduled_for"
