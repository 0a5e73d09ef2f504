"""Meta's webhooks against the receiver over real HTTP: handshake, signatures, the status machine."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import APP_SECRET, VERIFY_TOKEN
from tests.support.world import TenantFixture, order_request
from wanotify.common.db.schema import notifications
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.notification import Notification
from wanotify.common.ids import new_id
from wanotify.common.meta.signature import sign

Client = AsyncTestClient[Any]
PATH = "/webhooks/whatsapp"


def envelope(*statuses: dict[str, Any], field: str = "messages") -> bytes:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": field,
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550100002", "phone_number_id": "1"},
                            "statuses": list(statuses),
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body, separators=(",", ":")).encode()  # ensure_ascii: \uXXXX like Meta


def status(wamid: str, state: str, at: int, *, callback: str | None = None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"id": wamid, "status": state, "timestamp": str(at), "recipient_id": "14155550123"}
    if callback:
        item["biz_opaque_callback_data"] = callback
    return item | extra


async def post(receiver: str, body: bytes, signature: str | None = "auto") -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        headers["X-Hub-Signature-256"] = sign(APP_SECRET, body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    async with httpx.AsyncClient() as http:
        return await http.post(f"{receiver}{PATH}", content=body, headers=headers)


async def sent_notification(api: Client, tenant: TenantFixture, engine: AsyncEngine) -> tuple[str, str]:
    """A notification the worker has handed to Meta: `sent` with a wamid."""
    nid = (await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)).json()["id"]
    wamid = f"wamid.{new_id('w')}"
    async with engine.begin() as conn:
        await conn.execute(
            update(notifications)
            .where(notifications.c.id == nid)
            .values(status="sent", whatsapp_message_id=wamid, attempt=1)
        )
    return nid, wamid


async def load(engine: AsyncEngine, nid: str) -> tuple[Notification, list[dict[str, Any]]]:
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(nid)
        history = await uow.notifications.history(nid)
    assert n is not None
    return n, history


# --- handshake -------------------------------------------------------------------------------


async def test_verification_handshake_echoes_the_challenge(receiver: str) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.get(
            f"{receiver}{PATH}",
            params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
        )
    assert r.status_code == 200
    assert r.text == "1158201444"
    assert r.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
async def test_verification_refuses_wrong_tokens(receiver: str, params: dict[str, str]) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{receiver}{PATH}", params=params)
    assert r.status_code == 403
    assert "1" not in r.text


# --- signatures ------------------------------------------------------------------------------


@pytest.mark.parametrize("signature", [None, "", "sha256=00", "sha1=abc", sign("other-secret", b"x")])
async def test_unsigned_or_badly_signed_posts_are_401(receiver: str, signature: str | None) -> None:
    r = await post(receiver, envelope(status("wamid.x", "sent", 1)), signature=signature)
    assert r.status_code == 401


async def test_signature_is_checked_over_the_raw_bytes(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    nid, wamid = await sent_notification(api, tenant, engine)
    raw = envelope(status(wamid, "delivered", int(time.time()), callback="caf\u00e9 \u2713"))
    assert b"\\u00e9" in raw  # escaped, as Meta sends it
    reserialized = json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":")).encode()
    assert (await post(receiver, reserialized, signature=sign(APP_SECRET, raw))).status_code == 401
    assert (await post(receiver, raw)).status_code == 200
    n, _ = await load(engine, nid)
    assert n.status.value == "delivered"


async def test_signed_garbage_is_400(receiver: str) -> None:
    assert (await post(receiver, b"{not json")).status_code == 400


# --- the status machine --------------------------------------------------------------------


async def test_statuses_in_order(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    nid, wamid = await sent_notification(api, tenant, engine)
    t = int(time.time())
    for i, state in enumerate(["sent", "delivered", "read"]):
        assert (await post(receiver, envelope(status(wamid, state, t + i)))).status_code == 200
    n, _ = await load(engine, nid)
    assert n.status.value == "read"
    assert n.delivered_at is not None and int(n.delivered_at.timestamp()) == t + 1
    assert n.read_at is not None and int(n.read_at.timestamp()) == t + 2


async def test_read_without_delivered_fills_both(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    nid, wamid = await sent_notification(api, tenant, engine)
    t = int(time.time())
    await post(receiver, envelope(status(wamid, "read", t)))
    n, _ = await load(engine, nid)
    assert n.status.value == "read"
    assert n.delivered_at == n.read_at


async def test_late_and_duplicate_statuses_never_go_back_but_are_logged(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    nid, wamid = await sent_notification(api, tenant, engine)
    t = int(time.time())
    # One delivery with several statuses, out of order, as Meta may batch them.
    await post(
        receiver,
        envelope(
            status(wamid, "read", t + 2),
            status(wamid, "sent", t),
            status(wamid, "delivered", t + 1),
            status(wamid, "read", t + 2),
        ),
    )
    await post(receiver, envelope(status(wamid, "delivered", t + 1)))  # a retry of an old delivery
    n, history = await load(engine, nid)
    assert n.status.value == "read"
    meta = [(h["event"], h["status"]) for h in history if h["source"] == "meta"]
    assert meta == [
        ("meta_status", "read"),
        ("meta_status_ignored", "sent"),
        ("meta_status_ignored", "delivered"),
        ("meta_status_ignored", "read"),
        ("meta_status_ignored", "delivered"),
    ]


async def test_failed_is_terminal_and_carries_metas_error(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    nid, wamid = await sent_notification(api, tenant, engine)
    t = int(time.time())
    error = {
        "code": 131047,
        "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": {"details": "More than 24 hours have passed"},
    }
    await post(receiver, envelope(status(wamid, "failed", t, errors=[error])))
    await post(receiver, envelope(status(wamid, "delivered", t + 1)))
    n, _ = await load(engine, nid)
    assert n.status.value == "failed"
    assert n.error_code == "131047"
    assert n.error_message == "Re-engagement message"
    assert n.error_retryable is False
    assert n.delivered_at is None


async def test_failed_after_delivered_is_ignored(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    nid, wamid = await sent_notification(api, tenant, engine)
    t = int(time.time())
    await post(receiver, envelope(status(wamid, "delivered", t)))
    await post(receiver, envelope(status(wamid, "failed", t + 1, errors=[{"code": 131000}])))
    n, _ = await load(engine, nid)
    assert n.status.value == "delivered"


async def test_status_arriving_before_the_worker_recorded_the_wamid(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    """Meta can call back before our worker commits `sent`: the callback data finds the row."""
    nid = (await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)).json()["id"]
    async with engine.begin() as conn:
        await conn.execute(
            update(notifications).where(notifications.c.id == nid).values(status="processing", attempt=1)
        )
    wamid = f"wamid.{new_id('w')}"
    await post(receiver, envelope(status(wamid, "delivered", int(time.time()), callback=nid)))
    n, _ = await load(engine, nid)
    assert n.status.value == "delivered"
    assert n.whatsapp_message_id == wamid
    assert n.sent_at is not None
    # The worker's late `sent` must not move it back.
    async with UnitOfWork(engine) as uow:
        await uow.notifications.record_sent(n, wamid, {})
        await uow.commit()
    n, _ = await load(engine, nid)
    assert n.status.value == "delivered"


async def test_pricing_is_stored(
    receiver: str, api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    nid, wamid = await sent_notification(api, tenant, engine)
    pricing = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    conversation = {"id": "72b14d6b", "expiration_timestamp": "1750116480", "origin": {"type": "utility"}}
    await post(
        receiver,
        envelope(status(wamid, "delivered", int(time.time()), pricing=pricing, conversation=conversation)),
    )
    n, _ = await load(engine, nid)
    assert n.pricing == pricing
    assert n.conversation == conversation


async def test_unknown_messages_and_other_fields_are_acknowledged(receiver: str) -> None:
    assert (await post(receiver, envelope(status("wamid.unknown", "delivered", 1)))).status_code == 200
    template_update = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "W",
                    "changes": [{"field": "message_template_status_update", "value": {"event": "APPROVED"}}],
                }
            ],
        }
    ).encode()
    assert (await post(receiver, template_update)).status_code == 200
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"{receiver}/metrics")).text
    assert 'wanotify_webhook_events_total{kind="status",result="unknown"}' in metrics
    assert "wanotify_webhook_signature_failures_total" in metrics


async def test_receiver_health(receiver: str) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{receiver}/health")
    assert r.status_code == 200
    assert r.json()["checks"]["database"]["status"] == "healthy"
