"""Headers, buttons, named parameters and media reach Meta (the sandbox) in Meta's exact shape."""

from __future__ import annotations

from typing import Any

import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.flow.conftest import sandbox_messages, wait_status
from tests.support.world import TenantFixture, add_sandbox_templates, meta_template, wait_window

Client = AsyncTestClient[Any]


async def _sync(api: Client, tenant: TenantFixture, sandbox_url: str, *templates: dict[str, Any]) -> None:
    await add_sandbox_templates(sandbox_url, tenant.waba_id, *templates)
    r = await api.post("/v1/templates/sync", headers=tenant.auth)
    assert r.status_code == 200, r.text


async def _sent_request(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, sandbox: httpx.AsyncClient, body: dict[str, Any]
) -> dict[str, Any]:
    r = await api.post("/v1/notifications", json=body, headers=tenant.auth)
    assert r.status_code == 201, r.text
    n = await wait_status(engine, r.json()["id"], {"sent", "delivered", "read", "failed"})
    assert n.status.value != "failed", (n.error_code, n.error_message)
    messages = await sandbox_messages(sandbox, body["recipient"]["phone_number"])
    assert len(messages) == 1
    request: dict[str, Any] = messages[0]["request"]
    assert request["biz_opaque_callback_data"] == n.id
    return request


async def test_header_body_and_buttons(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
    sandbox_url: str,
    recipient: str,
) -> None:
    await _sync(
        api,
        tenant,
        sandbox_url,
        meta_template(
            "order_shipped",
            "en_US",
            [
                {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                {"type": "BODY", "text": "Hi {{1}}, {{2}} paid on {{3}}."},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {"type": "URL", "text": "Track", "url": "https://shop.example/t/{{1}}"},
                        {"type": "QUICK_REPLY", "text": "Stop"},
                        {"type": "COPY_CODE", "example": "SAVE10"},
                    ],
                },
            ],
        ),
    )
    request = await _sent_request(
        api,
        tenant,
        engine,
        sandbox,
        {
            "event_type": "order.shipped",
            "recipient": {"phone_number": recipient},
            "template": {
                "name": "order_shipped",
                "language": "en_US",
                "header": {"type": "text", "value": "SB-1001"},
                "parameters": [
                    {"type": "text", "value": "Ana"},
                    {"type": "currency", "value": "100.99", "code": "USD"},
                    {"type": "date_time", "value": "February 25, 1977"},
                ],
                "buttons": [
                    {"sub_type": "copy_code", "index": 2, "value": "SAVE10"},
                    {"sub_type": "url", "index": 0, "value": "SB-1001"},
                    {"sub_type": "quick_reply", "index": 1, "value": "TRACK_SB-1001"},
                ],
            },
        },
    )
    assert request["type"] == "template"
    assert request["template"] == {
        "name": "order_shipped",
        "language": {"code": "en_US"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "SB-1001"}]},
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Ana"},
                    {
                        "type": "currency",
                        "currency": {"fallback_value": "100.99", "code": "USD", "amount_1000": 100990},
                    },
                    {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}},
                ],
            },
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": "SB-1001"}],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "1",
                "parameters": [{"type": "payload", "payload": "TRACK_SB-1001"}],
            },
            {
                "type": "button",
                "sub_type": "copy_code",
                "index": "2",
                "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}],
            },
        ],
    }


async def test_named_parameters_and_a_media_header(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
    sandbox_url: str,
    recipient: str,
) -> None:
    await _sync(
        api,
        tenant,
        sandbox_url,
        meta_template(
            "invoice_named",
            "pt_BR",
            [
                {"type": "HEADER", "format": "DOCUMENT"},
                {"type": "BODY", "text": "Olá {{first_name}}, a fatura {{invoice}} está anexa."},
            ],
            parameter_format="NAMED",
        ),
    )
    request = await _sent_request(
        api,
        tenant,
        engine,
        sandbox,
        {
            "event_type": "invoice.ready",
            "recipient": {"phone_number": recipient},
            "template": {
                "name": "invoice_named",
                "language": "pt_BR",
                "header": {
                    "type": "document",
                    "link": "https://files.example/f-1.pdf",
                    "filename": "f-1.pdf",
                },
                "parameters": [
                    {"type": "text", "value": "INV-1", "name": "invoice"},
                    {"type": "text", "value": "Joana", "name": "first_name"},
                ],
            },
        },
    )
    assert request["template"]["components"] == [
        {
            "type": "header",
            "parameters": [
                {
                    "type": "document",
                    "document": {"link": "https://files.example/f-1.pdf", "filename": "f-1.pdf"},
                }
            ],
        },
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "INV-1", "parameter_name": "invoice"},
                {"type": "text", "text": "Joana", "parameter_name": "first_name"},
            ],
        },
    ]


async def test_media_messages_inside_the_window(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    r = await sandbox.post(
        "/_sandbox/inbound",
        json={"phone_number_id": tenant.phone_number_id, "from": recipient.lstrip("+"), "text": "hi"},
    )
    r.raise_for_status()
    await wait_window(engine, tenant, recipient)
    request = await _sent_request(
        api,
        tenant,
        engine,
        sandbox,
        {
            "event_type": "receipt",
            "recipient": {"phone_number": recipient},
            "media": {"type": "image", "link": "https://files.example/r.png", "caption": "Your receipt ✓"},
        },
    )
    assert request["type"] == "image"
    assert request["image"] == {"link": "https://files.example/r.png", "caption": "Your receipt ✓"}
    assert "text" not in request and "template" not in request
