"""Meta's ``/messages`` bodies built from a notification's content (reference §2)."""

from __future__ import annotations

import pytest

from wanotify.common.domain.message import TemplateContent, TemplateParameter, TextContent
from wanotify.common.meta.payloads import build_send_payload

RECIPIENT = "+14155550123"
NOTIF_ID = "notif_01jabcdefghjkmnpqrstvwxyz0"


def test_template_payload() -> None:
    content = TemplateContent(
        name="order_confirmation",
        language="en_US",
        parameters=[
            TemplateParameter(type="text", value="Ana"),
            TemplateParameter(type="currency", value="99.99", code="USD"),
            TemplateParameter(type="date_time", value="February 25, 1977"),
        ],
    )
    assert build_send_payload(RECIPIENT, content, NOTIF_ID) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": RECIPIENT,
        "biz_opaque_callback_data": NOTIF_ID,
        "type": "template",
        "template": {
            "name": "order_confirmation",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ana"},
                        {
                            "type": "currency",
                            "currency": {"fallback_value": "99.99", "code": "USD", "amount_1000": 99990},
                        },
                        {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}},
                    ],
                }
            ],
        },
    }


@pytest.mark.parametrize(
    ("value", "amount"),
    [("99.99", 99990), ("100", 100000), ("0.01", 10), ("1234.5", 1234500), ("100.99", 100990), ("0", 0)],
)
def test_currency_amount_1000(value: str, amount: int) -> None:
    content = TemplateContent(
        name="t", language="en", parameters=[TemplateParameter(type="currency", value=value, code="EUR")]
    )
    param = build_send_payload(RECIPIENT, content, NOTIF_ID)["template"]["components"][0]["parameters"][0]
    assert param["currency"] == {"fallback_value": value, "code": "EUR", "amount_1000": amount}
    assert isinstance(param["currency"]["amount_1000"], int)


def test_explicit_amount_1000_wins() -> None:
    content = TemplateContent(
        name="t",
        language="en",
        parameters=[TemplateParameter(type="currency", value="$100.99", code="USD", amount_1000=100990)],
    )
    param = build_send_payload(RECIPIENT, content, NOTIF_ID)["template"]["components"][0]["parameters"][0]
    assert param["currency"] == {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}


def test_template_without_parameters_sends_no_components() -> None:
    payload = build_send_payload(RECIPIENT, TemplateContent(name="hello", language="en"), NOTIF_ID)
    assert payload["template"] == {"name": "hello", "language": {"code": "en"}}


@pytest.mark.parametrize("preview", [True, False])
def test_text_payload(preview: bool) -> None:
    payload = build_send_payload(
        RECIPIENT, TextContent(text="See https://example.com/x", preview_url=preview), "n1"
    )
    assert payload == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": RECIPIENT,
        "biz_opaque_callback_data": "n1",
        "type": "text",
        "text": {"body": "See https://example.com/x", "preview_url": preview},
    }


def test_payload_object_is_named_after_its_type() -> None:
    for content in (TextContent(text="hi"), TemplateContent(name="hello", language="en")):
        payload = build_send_payload(RECIPIENT, content, NOTIF_ID)
        assert payload["messaging_product"] == "whatsapp"
        assert payload["biz_opaque_callback_data"] == NOTIF_ID
        assert payload["type"] in payload
        (other,) = {"text", "template"} - {payload["type"]}
        assert other not in payload
