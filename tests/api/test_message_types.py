"""Template headers, buttons and named parameters, media messages: Meta's limits answered at ingest."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.world import TenantFixture, meta_template, open_window, put_registry_templates
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.message import (
    ButtonParameter,
    HeaderParameter,
    MediaContent,
    TemplateContent,
    TemplateParameter,
)

Client = AsyncTestClient[Any]
PHONE = "+14155550123"

RICH = meta_template(
    "order_shipped",
    "en_US",
    [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
        {"type": "BODY", "text": "Hi {{1}}, your order shipped on {{2}}."},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "URL", "text": "Track", "url": "https://shop.example/track/{{1}}"},
                {"type": "QUICK_REPLY", "text": "Stop"},
                {"type": "COPY_CODE", "example": "SAVE10"},
            ],
        },
    ],
)
INVOICE = meta_template(
    "invoice_ready",
    "en",
    [{"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "Your invoice {{1}} is attached."}],
)


def error_of(response: Any) -> dict[str, Any]:
    return dict(response.json()["error"])


def rich(**template: Any) -> dict[str, Any]:
    return {
        "event_type": "order.shipped",
        "recipient": {"phone_number": PHONE},
        "template": {
            "name": "order_shipped",
            "language": "en_US",
            "header": {"type": "text", "value": "SB-1001"},
            "parameters": [
                {"type": "text", "value": "Ana"},
                {"type": "date_time", "value": "February 25, 1977"},
            ],
            "buttons": [
                {"sub_type": "url", "index": 0, "value": "SB-1001"},
                {"sub_type": "quick_reply", "index": 1, "value": "STOP_SB-1001"},
                {"sub_type": "copy_code", "index": 2, "value": "SAVE10"},
            ],
            **template,
        },
    }


def media(**fields: Any) -> dict[str, Any]:
    return {
        "event_type": "invoice.ready",
        "recipient": {"phone_number": PHONE},
        "media": {"type": "document", "link": "https://files.example/inv-1.pdf", **fields},
    }


@pytest.fixture
async def with_templates(engine: AsyncEngine, tenant: TenantFixture) -> TenantFixture:
    await put_registry_templates(engine, tenant, RICH, INVOICE)
    return tenant


async def _stored(engine: AsyncEngine, nid: str) -> Any:
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(nid)
    assert n is not None
    return n.message


async def test_header_body_and_buttons_are_stored(
    api: Client, with_templates: TenantFixture, engine: AsyncEngine
) -> None:
    r = await api.post("/v1/notifications", json=rich(), headers=with_templates.auth)
    assert r.status_code == 201, r.text
    assert await _stored(engine, r.json()["id"]) == TemplateContent(
        name="order_shipped",
        language="en_US",
        parameters=[
            TemplateParameter(type="text", value="Ana"),
            TemplateParameter(type="date_time", value="February 25, 1977"),
        ],
        header=HeaderParameter(type="text", value="SB-1001"),
        buttons=[
            ButtonParameter(sub_type="url", index=0, value="SB-1001"),
            ButtonParameter(sub_type="quick_reply", index=1, value="STOP_SB-1001"),
            ButtonParameter(sub_type="copy_code", index=2, value="SAVE10"),
        ],
    )


async def test_media_header_and_media_message(
    api: Client, with_templates: TenantFixture, engine: AsyncEngine
) -> None:
    body = {
        "event_type": "invoice.ready",
        "recipient": {"phone_number": PHONE},
        "template": {
            "name": "invoice_ready",
            "language": "en",
            "header": {
                "type": "document",
                "link": "https://files.example/inv-1.pdf",
                "filename": "inv-1.pdf",
            },
            "parameters": [{"type": "text", "value": "INV-1"}],
        },
    }
    r = await api.post("/v1/notifications", json=body, headers=with_templates.auth)
    assert r.status_code == 201, r.text
    stored = await _stored(engine, r.json()["id"])
    assert stored.header == HeaderParameter(
        type="document", link="https://files.example/inv-1.pdf", filename="inv-1.pdf"
    )

    await open_window(engine, with_templates, PHONE)
    r = await api.post(
        "/v1/notifications", json=media(caption="Invoice", filename="inv-1.pdf"), headers=with_templates.auth
    )
    assert r.status_code == 201, r.text
    assert await _stored(engine, r.json()["id"]) == MediaContent(
        type="document", link="https://files.example/inv-1.pdf", caption="Invoice", filename="inv-1.pdf"
    )
    doc = (await api.get(f"/v1/notifications/{r.json()['id']}", headers=with_templates.auth)).json()
    assert doc["message_type"] == "document"
    assert doc["template"] is None


BAD_400: list[tuple[str, dict[str, Any], str]] = [
    (
        "newline in a body parameter",
        rich(parameters=[{"type": "text", "value": "a\nb"}, {"type": "text", "value": "x"}]),
        "template.parameters[0].value",
    ),
    (
        "tab in a body parameter",
        rich(parameters=[{"type": "text", "value": "a\tb"}, {"type": "text", "value": "x"}]),
        "template.parameters[0].value",
    ),
    (
        "five spaces in a row",
        rich(parameters=[{"type": "text", "value": "x"}, {"type": "text", "value": "a     b"}]),
        "template.parameters[1].value",
    ),
    ("header text over 60", rich(header={"type": "text", "value": "x" * 61}), "template.header.value"),
    ("newline in the header", rich(header={"type": "text", "value": "a\nb"}), "template.header.value"),
    (
        "http header link",
        rich(header={"type": "image", "link": "http://files.example/a.png"}),
        "template.header.link",
    ),
    (
        "newline in a url button",
        rich(buttons=[{"sub_type": "url", "index": 0, "value": "a\nb"}]),
        "template.buttons[0].value",
    ),
    (
        "button index over 9",
        rich(buttons=[{"sub_type": "url", "index": 10, "value": "a"}]),
        "template.buttons[0].index",
    ),
    (
        "unknown button sub_type",
        rich(buttons=[{"sub_type": "phone", "index": 0, "value": "a"}]),
        "template.buttons[0].sub_type",
    ),
    (
        "a bad name",
        rich(parameters=[{"type": "text", "value": "a", "name": "First Name"}]),
        "template.parameters[0].name",
    ),
    ("caption over 1024", media(caption="x" * 1025), "media.caption"),
    ("http media link", media(link="http://files.example/inv-1.pdf"), "media.link"),
    ("not a url", media(link="https://"), "media.link"),
    (
        "audio is not offered",
        {**media(), "media": {"type": "audio", "link": "https://f.example/a.ogg"}},
        "media.type",
    ),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_400, ids=[c[0] for c in BAD_400])
async def test_meta_limits_are_400_at_ingest(
    api: Client, with_templates: TenantFixture, case: str, body: dict[str, Any], field: str
) -> None:
    r = await api.post("/v1/notifications", json=body, headers=with_templates.auth)
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] == "VALIDATION_ERROR"
    assert error_of(r)["field"] == field


# Rules across fields (the OpenAPI schema cannot state them): the body has the documented shape.
COMBINATION_422: list[tuple[str, dict[str, Any], str]] = [
    ("text header without value", rich(header={"type": "text"}), "template.header.value"),
    ("media header without link", rich(header={"type": "image"}), "template.header.link"),
    (
        "filename on an image header",
        rich(header={"type": "image", "link": "https://f.example/a.png", "filename": "a.png"}),
        "template.header.filename",
    ),
    (
        "button index twice",
        rich(
            buttons=[
                {"sub_type": "url", "index": 0, "value": "a"},
                {"sub_type": "quick_reply", "index": 0, "value": "b"},
            ]
        ),
        "template.buttons[1].index",
    ),
    (
        "some names, not all",
        rich(parameters=[{"type": "text", "value": "a", "name": "x"}, {"type": "text", "value": "b"}]),
        "template.parameters",
    ),
    (
        "a name twice",
        rich(
            parameters=[
                {"type": "text", "value": "a", "name": "x"},
                {"type": "text", "value": "b", "name": "x"},
            ]
        ),
        "template.parameters",
    ),
    (
        "filename on an image",
        {**media(), "media": {"type": "image", "link": "https://f.example/a.png", "filename": "a.png"}},
        "media.filename",
    ),
    ("media and template", {**rich(), "media": media()["media"]}, "template"),
]


@pytest.mark.parametrize(("case", "body", "field"), COMBINATION_422, ids=[c[0] for c in COMBINATION_422])
async def test_rules_across_fields_are_422(
    api: Client, with_templates: TenantFixture, case: str, body: dict[str, Any], field: str
) -> None:
    r = await api.post("/v1/notifications", json=body, headers=with_templates.auth)
    assert r.status_code == 422, r.text
    assert error_of(r)["code"] == "INVALID_COMBINATION"
    assert error_of(r)["field"] == field


MISMATCH_422: list[tuple[str, dict[str, Any], str]] = [
    ("no header for a header variable", rich(header=None), "template.header"),
    (
        "media header for a text header",
        rich(header={"type": "image", "link": "https://f.example/a.png"}),
        "template.header",
    ),
    (
        "missing url button",
        rich(buttons=[{"sub_type": "copy_code", "index": 2, "value": "SAVE10"}]),
        "template.buttons",
    ),
    (
        "missing copy code",
        rich(buttons=[{"sub_type": "url", "index": 0, "value": "SB-1"}]),
        "template.buttons",
    ),
    (
        "wrong sub_type",
        rich(buttons=[{"sub_type": "url", "index": 1, "value": "x"}]),
        "template.buttons[0].sub_type",
    ),
    (
        "button past the end",
        rich(buttons=[{"sub_type": "url", "index": 5, "value": "x"}]),
        "template.buttons[0].index",
    ),
    (
        "named params on a positional template",
        rich(
            parameters=[
                {"type": "text", "value": "a", "name": "a"},
                {"type": "text", "value": "b", "name": "b"},
            ]
        ),
        "template.parameters",
    ),
]


@pytest.mark.parametrize(("case", "body", "field"), MISMATCH_422, ids=[c[0] for c in MISMATCH_422])
async def test_parameters_that_do_not_fit_the_template_are_422(
    api: Client, with_templates: TenantFixture, case: str, body: dict[str, Any], field: str
) -> None:
    r = await api.post("/v1/notifications", json=body, headers=with_templates.auth)
    assert r.status_code == 422, r.text
    assert error_of(r)["code"] == "TEMPLATE_PARAMETER_MISMATCH"
    assert error_of(r)["field"] == field


async def test_a_document_header_needs_its_document(api: Client, with_templates: TenantFixture) -> None:
    body = {
        "event_type": "invoice.ready",
        "recipient": {"phone_number": PHONE},
        "template": {
            "name": "invoice_ready",
            "language": "en",
            "parameters": [{"type": "text", "value": "INV-1"}],
        },
    }
    r = await api.post("/v1/notifications", json=body, headers=with_templates.auth)
    assert r.status_code == 422
    assert error_of(r)["code"] == "TEMPLATE_PARAMETER_MISMATCH"
    body["template"]["header"] = {"type": "video", "link": "https://f.example/v.mp4"}
    assert error_of(await api.post("/v1/notifications", json=body, headers=with_templates.auth))["field"] == (
        "template.header"
    )


async def test_free_form_outside_the_window_is_422(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    phone = "+14155550777"
    text = {"event_type": "x", "recipient": {"phone_number": phone}, "message": {"text": "hi"}}
    doc = {**media(), "recipient": {"phone_number": phone}}
    for body in (text, doc):
        r = await api.post("/v1/notifications", json=body, headers=tenant.auth)
        assert r.status_code == 422, r.text
        assert error_of(r)["code"] == "OUTSIDE_CUSTOMER_SERVICE_WINDOW"
        assert error_of(r)["field"] == "recipient.phone_number"
    r = await api.post("/v1/notifications/bulk", json={"notifications": [text, doc]}, headers=tenant.auth)
    assert [e["code"] for e in r.json()["errors"]] == ["OUTSIDE_CUSTOMER_SERVICE_WINDOW"] * 2
    await open_window(engine, tenant, phone)
    for body in (text, doc):
        assert (await api.post("/v1/notifications", json=body, headers=tenant.auth)).status_code == 201
