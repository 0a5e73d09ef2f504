"""Inbound messages (window, opt-out keywords) and template status webhooks through the receiver."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import APP_SECRET
from tests.support.world import TenantFixture, order_request, wait_window
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.tenant import TenantPolicy
from wanotify.common.meta.signature import sign

Client = AsyncTestClient[Any]
PATH = "/webhooks/whatsapp"


def inbound(
    tenant: TenantFixture, wa_id: str, text: str | None = "hi", *, at: int | None = None, **msg: Any
) -> bytes:
    message: dict[str, Any] = {
        "from": wa_id,
        "id": f"wamid.in{time.time_ns()}",
        "timestamp": str(at if at is not None else int(time.time())),
        "type": "text" if text is not None else "image",
        **msg,
    }
    if text is not None:
        message["text"] = {"body": text}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100002", "phone_number_id": tenant.phone_number_id},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": wa_id}],
        "messages": [message],
    }
    return _envelope(tenant.waba_id, "messages", value)


def _envelope(waba_id: str, field: str, value: dict[str, Any]) -> bytes:
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"field": field, "value": value}]}],
    }
    return json.dumps(body, separators=(",", ":")).encode()


async def post(receiver: str, body: bytes) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)}
    async with httpx.AsyncClient() as http:
        return await http.post(f"{receiver}{PATH}", content=body, headers=headers)


async def _opted_out(engine: AsyncEngine, tenant: TenantFixture, phone: str) -> bool:
    async with UnitOfWork(engine) as uow:
        return await uow.opt_outs.get(tenant.tenant_id, phone) is not None


async def test_an_inbound_message_opens_the_window_for_free_form(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    text = {"event_type": "x", "recipient": {"phone_number": "+14155550201"}, "message": {"text": "Thanks!"}}
    assert (await api.post("/v1/notifications", json=text, headers=tenant.auth)).status_code == 422
    r = await post(receiver, inbound(tenant, "14155550201", "Where is my order?"))
    assert r.status_code == 200
    await wait_window(engine, tenant, "+14155550201")
    assert (await api.post("/v1/notifications", json=text, headers=tenant.auth)).status_code == 201
    assert not await _opted_out(engine, tenant, "+14155550201")


async def test_the_window_is_24_hours_from_the_latest_message(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    old = int(time.time()) - 25 * 3600
    assert (await post(receiver, inbound(tenant, "14155550202", "hi", at=old))).status_code == 200
    await wait_window(engine, tenant, "+14155550202")
    text = {"event_type": "x", "recipient": {"phone_number": "+14155550202"}, "message": {"text": "late"}}
    r = await api.post("/v1/notifications", json=text, headers=tenant.auth)
    assert r.json()["error"]["code"] == "OUTSIDE_CUSTOMER_SERVICE_WINDOW"
    # A media message (not only text) resets it; an older duplicate never moves it back.
    assert (await post(receiver, inbound(tenant, "14155550202", None, image={"id": "1"}))).status_code == 200
    assert (await post(receiver, inbound(tenant, "14155550202", "hi", at=old))).status_code == 200
    async with UnitOfWork(engine) as uow:
        last = await uow.windows.last_inbound(tenant.sender_id, "+14155550202")
    assert last is not None and last.timestamp() > time.time() - 60
    assert (await api.post("/v1/notifications", json=text, headers=tenant.auth)).status_code == 201


@pytest.mark.parametrize("word", ["STOP", "stop", "  Unsubscribe  ", "sToP\n"])
async def test_an_opt_out_keyword_records_an_opt_out(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine, word: str
) -> None:
    assert (await post(receiver, inbound(tenant, "14155550203", word))).status_code == 200
    await wait_window(engine, tenant, "+14155550203")
    assert await _opted_out(engine, tenant, "+14155550203")
    r = await api.post("/v1/notifications", json=order_request("+14155550203"), headers=tenant.auth)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "RECIPIENT_OPTED_OUT"
    listed = (await api.get("/v1/opt-outs", headers=tenant.auth)).json()["opt_outs"]
    assert [(o["phone_number"], o["source"]) for o in listed] == [("+14155550203", "inbound")]


@pytest.mark.parametrize("text", ["please stop", "STOP IT", "stopp", ""])
async def test_other_texts_do_not_opt_out(
    receiver: str, tenant: TenantFixture, engine: AsyncEngine, text: str
) -> None:
    assert (await post(receiver, inbound(tenant, "14155550204", text))).status_code == 200
    await wait_window(engine, tenant, "+14155550204")
    assert not await _opted_out(engine, tenant, "+14155550204")


async def test_the_tenants_own_keywords_apply(
    receiver: str, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    async with UnitOfWork(engine) as uow:
        await uow.tenants.set_policy(tenant.tenant_id, TenantPolicy(opt_out_keywords=["PARAR", "Sair"]))
        await uow.commit()
    for wa_id, text in (("14155550205", "sair"), ("14155550206", "STOP")):
        assert (await post(receiver, inbound(tenant, wa_id, text))).status_code == 200
        await wait_window(engine, tenant, f"+{wa_id}")
    assert await _opted_out(engine, tenant, "+14155550205")
    assert not await _opted_out(engine, tenant, "+14155550206")


async def test_an_inbound_for_an_unknown_number_is_acknowledged(receiver: str, tenant: TenantFixture) -> None:
    body = inbound(tenant, "14155550207").replace(tenant.phone_number_id.encode(), b"999999999999999")
    assert (await post(receiver, body)).status_code == 200


async def test_the_sandbox_inbound_reaches_the_registry(
    receiver: str, tenant: TenantFixture, engine: AsyncEngine, sandbox_url: str
) -> None:
    async with httpx.AsyncClient(base_url=sandbox_url) as http:
        r = await http.post(
            "/_sandbox/inbound",
            json={"phone_number_id": tenant.phone_number_id, "from": "14155550208", "text": "STOP"},
        )
        r.raise_for_status()
    await wait_window(engine, tenant, "+14155550208")
    assert await _opted_out(engine, tenant, "+14155550208")


# --- template status -------------------------------------------------------------------------


def template_status(waba_id: str, event: str, name: str, language: str, template_id: Any = 1) -> bytes:
    value = {
        "event": event,
        "message_template_id": template_id,
        "message_template_name": name,
        "message_template_language": language,
        "reason": "NONE",
        "message_template_category": "UTILITY",
    }
    return _envelope(waba_id, "message_template_status_update", value)


async def _status(engine: AsyncEngine, tenant: TenantFixture, name: str) -> str:
    async with UnitOfWork(engine) as uow:
        found = await uow.templates.for_tenant(tenant.tenant_id, name=name)
    return found[0].status


async def test_template_status_updates_move_the_registry(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    assert (
        await post(receiver, template_status(tenant.waba_id, "PAUSED", "order_confirmation", "en-US"))
    ).status_code == 200
    assert await _status(engine, tenant, "order_confirmation") == "PAUSED"
    r = await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "TEMPLATE_NOT_APPROVED"
    await post(receiver, template_status(tenant.waba_id, "FLAGGED", "order_confirmation", "en_US"))
    assert await _status(engine, tenant, "order_confirmation") == "PAUSED"
    await post(receiver, template_status(tenant.waba_id, "REINSTATED", "order_confirmation", "en_US"))
    assert await _status(engine, tenant, "order_confirmation") == "APPROVED"
    # Another WABA's template of the same name is not ours.
    await post(receiver, template_status("waba-elsewhere", "DISABLED", "hello", "en"))
    assert await _status(engine, tenant, "hello") == "APPROVED"
    # An unknown template is acknowledged and left to the next sync.
    assert (
        await post(receiver, template_status(tenant.waba_id, "APPROVED", "brand_new", "en"))
    ).status_code == 200
