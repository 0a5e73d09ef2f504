"""Status and inbound webhooks: order, shape, signature over the raw bytes, escaping, retries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from typing import Any

import httpx
import pytest

from tests.sandbox.harness import (
    APP_SECRET,
    PNID,
    WABA,
    Captured,
    CaptureServer,
    SandboxClient,
    body_params,
    template_payload,
    text_payload,
    wait_until,
    wait_until_async,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


def expected_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def assert_signed(captured: Captured) -> None:
    header = captured.headers["x-hub-signature-256"]
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", header)
    assert hmac.compare_digest(header, expected_signature(captured.body))


def value_of(captured: Captured) -> dict[str, Any]:
    payload = captured.json()
    assert payload["object"] == "whatsapp_business_account"
    [entry] = payload["entry"]
    assert entry["id"] == WABA
    [change] = entry["changes"]
    assert change["field"] == "messages"
    value: dict[str, Any] = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": "15550000001", "phone_number_id": PNID}
    return value


async def test_template_statuses_arrive_in_order_signed_with_callback_data(sb: SandboxClient) -> None:
    payload = {**template_payload("+15550301001", "welcome_named"), "biz_opaque_callback_data": "notif_42"}
    payload["template"]["components"] = [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "Ann"},
                {"type": "text", "parameter_name": "code", "text": "4242"},
            ],
        }
    ]
    response = await sb.send(payload)
    assert response.status_code == 200, response.text
    wamid = response.json()["messages"][0]["id"]

    await sb.wait_statuses(wamid, 3)
    found = sb.status_items(wamid)
    assert [item["status"] for _, item in found] == ["sent", "delivered", "read"]
    for captured, item in found:
        assert_signed(captured)
        assert captured.headers["content-type"].startswith("application/json")
        value = value_of(captured)
        assert list(value) == ["messaging_product", "metadata", "statuses"]
        assert item["recipient_id"] == "15550301001"
        assert item["biz_opaque_callback_data"] == "notif_42"
        assert isinstance(item["timestamp"], str)
        assert item["timestamp"].isdigit()
        assert "errors" not in item
    sent, delivered, read = (item for _, item in found)
    assert sent["pricing"] == {
        "billable": True,
        "pricing_model": "PMP",
        "type": "regular",
        "category": "marketing",
    }
    assert sent["conversation"]["origin"] == {"type": "marketing"}
    assert isinstance(sent["conversation"]["expiration_timestamp"], str)
    assert "pricing" not in delivered
    assert "conversation" not in delivered
    assert "pricing" not in read
    assert int(sent["timestamp"]) <= int(delivered["timestamp"]) <= int(read["timestamp"])


async def test_free_form_reply_in_window_is_free_service_and_has_no_callback_data(sb: SandboxClient) -> None:
    await sb.inbound("+15550301002")
    response = await sb.send(text_payload("+15550301002", "thanks!"))
    wamid = response.json()["messages"][0]["id"]
    statuses = await sb.wait_statuses(wamid, 3)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert statuses[0]["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }
    assert all("biz_opaque_callback_data" not in s for s in statuses)


async def test_non_ascii_callback_data_is_escaped_and_signed_on_raw_bytes(sb: SandboxClient) -> None:
    callback = "pedido-ñ-✓-日本"
    payload = {**template_payload("+15550301003", "hello_world"), "biz_opaque_callback_data": callback}
    wamid = (await sb.send(payload)).json()["messages"][0]["id"]
    await sb.wait_statuses(wamid, 1)
    captured, item = sb.status_items(wamid)[0]
    assert item["biz_opaque_callback_data"] == callback
    assert captured.body.isascii()
    assert b"pedido-\\u00f1-\\u2713-\\u65e5\\u672c" in captured.body
    assert_signed(captured)
    reserialized = json.dumps(json.loads(captured.body), ensure_ascii=False, separators=(",", ":")).encode()
    assert expected_signature(reserialized) != captured.headers["x-hub-signature-256"]


async def test_inbound_message_webhook(sb: SandboxClient) -> None:
    accepted = await sb.inbound("+1 (555) 030-1004", "olá ✓", name="Zoë")
    assert accepted["wa_id"] == "15550301004"
    captured = await wait_until(
        lambda: next((c for c in sb.capture.delivered() if b'"messages"' in c.body), None),
        what="inbound webhook",
    )
    assert_signed(captured)
    assert captured.body.isascii()
    assert b'"body":"ol\\u00e1 \\u2713"' in captured.body
    value = value_of(captured)
    assert value["contacts"] == [{"profile": {"name": "Zo\u00eb"}, "wa_id": "15550301004"}]
    [message] = value["messages"]
    assert message == {
        "from": "15550301004",
        "id": accepted["id"],
        "timestamp": accepted["timestamp"],
        "type": "text",
        "text": {"body": "olá ✓"},
    }
    assert message["id"].startswith("wamid.")
    log = (await sb.http.get("/_sandbox/webhooks", params={"kind": "inbound"})).json()
    assert [(w["wamid"], w["status"], w["http_status"], w["attempt"]) for w in log] == [
        (accepted["id"], None, 200, 1)
    ]


async def test_inbound_for_unknown_phone_number_is_404(sb: SandboxClient) -> None:
    response = await sb.http.post(
        "/_sandbox/inbound", json={"phone_number_id": "404", "from": "15550301005", "text": "x"}
    )
    assert response.status_code == 404


async def test_webhook_retried_after_500s(sb: SandboxClient) -> None:
    sb.capture.fail_next = 2
    wamid = (await sb.send(template_payload("+15550301006", "hello_world"))).json()["messages"][0]["id"]
    statuses = await sb.wait_statuses(wamid, 3)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    answered = [c.answered for c in sb.capture.requests if wamid.encode() in c.body]
    assert answered == [500, 500, 200, 200, 200]
    log = (await sb.http.get("/_sandbox/webhooks", params={"wamid": wamid})).json()
    assert [(w["status"], w["attempt"], w["http_status"]) for w in log] == [
        ("sent", 1, 500),
        ("sent", 2, 500),
        ("sent", 3, 200),
        ("delivered", 1, 200),
        ("read", 1, 200),
    ]
    assert all(w["kind"] == "status" and w["error"] is None for w in log)
    # Every retry carries the same bytes and signature.
    first, second, third = (
        c for c in sb.capture.requests if wamid.encode() in c.body and b'"sent"' in c.body
    )
    assert first.body == second.body == third.body
    assert first.headers["x-hub-signature-256"] == third.headers["x-hub-signature-256"]


async def test_webhook_gives_up_after_max_attempts_and_goes_on(sb: SandboxClient) -> None:
    sb.capture.fail_next = 4  # the test sandboxes make 4 attempts
    wamid = (await sb.send(template_payload("+15550301007", "hello_world"))).json()["messages"][0]["id"]
    statuses = await sb.wait_statuses(wamid, 2)
    assert [s["status"] for s in statuses] == ["delivered", "read"]
    log = (await sb.http.get("/_sandbox/webhooks", params={"wamid": wamid})).json()
    assert [(w["status"], w["http_status"]) for w in log if w["status"] == "sent"] == [("sent", 500)] * 4


async def test_unreachable_webhook_url_is_logged_as_error(start_sandbox: Any) -> None:
    server = await start_sandbox(webhook_url="http://127.0.0.1:9/hook", webhook_max_attempts=2)
    async with httpx.AsyncClient(base_url=server.url) as http:
        sandbox = SandboxClient(http, CaptureServer())
        wamid = (await sandbox.send(template_payload("+15550301008", "hello_world"))).json()["messages"][0][
            "id"
        ]

        log = await wait_until_async(
            lambda: http.get("/_sandbox/webhooks", params={"wamid": wamid}),
            lambda response: len(response.json()) >= 6,
            what="six failed attempts",
        )
    log = log.json()
    assert [(w["status"], w["attempt"]) for w in log] == [
        ("sent", 1),
        ("sent", 2),
        ("delivered", 1),
        ("delivered", 2),
        ("read", 1),
        ("read", 2),
    ]
    assert all(w["http_status"] is None and w["error"] for w in log)


async def test_no_webhooks_when_url_is_empty(start_sandbox: Any) -> None:
    server = await start_sandbox(webhook_url="")
    async with httpx.AsyncClient(base_url=server.url) as http:
        sandbox = SandboxClient(http, CaptureServer())
        response = await sandbox.send(template_payload("+15550301009", "hello_world"))
        assert response.status_code == 200
        await sandbox.inbound("+15550301009")
        await asyncio.sleep(0.2)  # longer than the read delay: nothing may have been attempted
        assert (await http.get("/_sandbox/webhooks")).json() == []


async def test_reset_clears_logs(sb: SandboxClient) -> None:
    await sb.send(template_payload("+15550301010", "hello_world", components=body_params()))
    assert (await sb.http.get("/_sandbox/messages")).json()
    assert (await sb.http.post("/_sandbox/reset")).json() == {"status": "ok"}
    assert (await sb.http.get("/_sandbox/messages")).json() == []
    assert (await sb.http.get("/_sandbox/webhooks")).json() == []
