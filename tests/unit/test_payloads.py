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


def test_header_buttons_and_named_parameters() -> None:
    from wanotify.common.domain.message import ButtonParameter, HeaderParameter

    content = TemplateContent(
        name="t",
        language="en",
        parameters=[TemplateParameter(type="text", value="Ana", name="first_name")],
        header=HeaderParameter(type="image", link="https://f.example/a.png"),
        buttons=[
            ButtonParameter(sub_type="copy_code", index=1, value="SAVE10"),
            ButtonParameter(sub_type="url", index=0, value="x1"),
        ],
    )
    assert build_send_payload(RECIPIENT, content, NOTIF_ID)["template"]["components"] == [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://f.example/a.png"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "first_name"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "x1"}]},
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": "1",
            "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}],
        },
    ]


@pytest.mark.parametrize(
    ("kind", "filename", "expected"),
    [
        ("document", "a.pdf", {"link": "https://f.example/a", "caption": "c", "filename": "a.pdf"}),
        ("video", None, {"link": "https://f.example/a", "caption": "c"}),
    ],
)
def test_media_payload(kind: str, filename: str | None, expected: dict[str, str]) -> None:
    from wanotify.common.domain.message import MediaContent

    content = MediaContent(type=kind, link="https://f.example/a", caption="c", filename=filename)  # type: ignore[arg-type]
    payload = build_send_payload(RECIPIENT, content, NOTIF_ID)
    assert payload["type"] == kind
    assert payload[kind] == expected


def test_stored_content_without_the_new_fields_still_decodes() -> None:
    import msgspec

    from wanotify.common.domain.message import MessageContent

    old = b'{"kind":"template","name":"t","language":"en","parameters":[{"type":"text","value":"a"}]}'
    decoded = msgspec.json.decode(old, type=MessageContent)
    assert decoded == TemplateContent(name="t", language="en", parameters=[TemplateParameter("text", "a")])
