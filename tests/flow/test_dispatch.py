"""API → queue → worker → Meta (the sandbox, over HTTP) → status webhooks → receiver, in-process."""

from __future__ import annotations

from typing import Any

import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.flow.conftest import sandbox_messages, wait_status
from tests.support.faults import inject_fault
from tests.support.processes import eventually
from tests.support.world import (
    TenantFixture,
    order_request,
    put_registry_templates,
    template,
    wait_window,
)
from wanotify.common.db.schema import notifications
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.publisher import QueueJob

Client = AsyncTestClient[Any]


async def _send(api: Client, tenant: TenantFixture, body: dict[str, Any]) -> str:
    r = await api.post("/v1/notifications", json=body, headers=tenant.auth)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_a_notification_reaches_read(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    nid = await _send(api, tenant, order_request(recipient))
    n = await wait_status(engine, nid, {"read"})
    assert n.whatsapp_message_id and n.whatsapp_message_id.startswith("wamid.")
    assert n.sent_at and n.delivered_at and n.read_at
    assert n.attempt == 1

    sent = await sandbox_messages(sandbox, recipient)
    assert len(sent) == 1
    request = sent[0]["request"]
    assert request["biz_opaque_callback_data"] == nid
    assert request["template"]["language"] == {"code": "en_US"}
    params = request["template"]["components"][0]["parameters"]
    assert params[2] == {
        "type": "currency",
        "currency": {"fallback_value": "99.99", "code": "USD", "amount_1000": 99990},
    }

    async with UnitOfWork(engine) as uow:
        events = [(h["event"], h["status"]) for h in await uow.notifications.history(nid)]
    assert events[:3] == [("accepted", "queued"), ("claimed", "processing"), ("sent", "sent")]
    assert {("meta_status", "sent"), ("meta_status", "delivered"), ("meta_status", "read")} <= set(events) | {
        ("meta_status", "sent")  # the worker's own `sent` may be recorded before Meta's
    }
    doc = (await api.get(f"/v1/notifications/{nid}", headers=tenant.auth)).json()
    assert doc["status"] == "read"
    assert doc["delivery_attempts"] == 1


async def test_text_message_is_sent_as_text(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    # Free-form text needs an open customer-service window: the recipient writes first.
    r = await sandbox.post(
        "/_sandbox/inbound",
        json={"phone_number_id": tenant.phone_number_id, "from": recipient.lstrip("+"), "text": "hi"},
    )
    r.raise_for_status()
    await wait_window(engine, tenant, recipient)  # our receiver recorded it: the window is open here too
    nid = await _send(
        api,
        tenant,
        {
            "event_type": "support.reply",
            "recipient": {"phone_number": recipient},
            "message": {"text": "Olá, tudo bem? ✓", "preview_url": True},
        },
    )
    await wait_status(engine, nid, {"sent", "delivered", "read"})
    request = (await sandbox_messages(sandbox, recipient))[0]["request"]
    assert request["type"] == "text"
    assert request["text"] == {"body": "Olá, tudo bem? ✓", "preview_url": True}


async def test_a_meta_error_fails_the_notification_with_its_code(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, recipient: str
) -> None:
    # Our registry still lists a template Meta has since deleted: ingest accepts it, Meta refuses it.
    await put_registry_templates(
        engine, tenant, template("retired_template", "en_US", "Hi {{1}}, {{2}}, {{3}}")
    )
    body = order_request(recipient)
    body["template"]["name"] = "retired_template"
    nid = await _send(api, tenant, body)
    n = await wait_status(engine, nid, {"failed"})
    assert n.error_code == "132001"
    assert n.error_retryable is False
    doc = (await api.get(f"/v1/notifications/{nid}", headers=tenant.auth)).json()
    assert doc["error"]["code"] == "132001"
    assert doc["error"]["retryable"] is False
    assert doc["error"]["message"]


async def test_wrong_parameter_count_is_meta_132000(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, recipient: str
) -> None:
    # A stale registry (two placeholders) against Meta's current template (three).
    await put_registry_templates(
        engine, tenant, template("order_confirmation", "en_US", "Hi {{1}}, order {{2}}.")
    )
    body = order_request(recipient)
    body["template"]["parameters"] = body["template"]["parameters"][:2]
    n = await wait_status(engine, await _send(api, tenant, body), {"failed"})
    assert n.error_code == "132000"


async def test_a_transient_error_is_retried_then_sent(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    await inject_fault(sandbox, recipient, 131000)
    nid = await _send(api, tenant, order_request(recipient))
    n = await wait_status(engine, nid, {"sent", "delivered", "read"})
    assert n.attempt == 2
    async with UnitOfWork(engine) as uow:
        events = [h["event"] for h in await uow.notifications.history(nid)]
    assert "retry_scheduled" in events
    outcomes = [m["error_code"] for m in await sandbox_messages(sandbox, recipient)]
    assert outcomes == [131000, None]


async def test_retries_stop_at_max_attempts(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    await inject_fault(sandbox, recipient, 133004, times=None)
    r = await api.post(
        "/v1/notifications",
        json=order_request(recipient, scheduled_for="2099-01-01T00:00:00Z"),
        headers=tenant.auth,
    )
    assert r.status_code == 422  # beyond 30 days
    nid = await _send(api, tenant, order_request(recipient))
    async with engine.begin() as conn:
        await conn.execute(update(notifications).where(notifications.c.id == nid).values(max_attempts=2))
    n = await wait_status(engine, nid, {"failed"})
    assert n.attempt == 2
    assert n.error_code == "133004"
    assert n.error_retryable is True
    assert len(await sandbox_messages(sandbox, recipient)) == 2


async def test_an_async_failure_from_meta_fails_a_sent_notification(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    await inject_fault(sandbox, recipient, 131026, mode="async")
    n = await wait_status(engine, await _send(api, tenant, order_request(recipient)), {"failed"})
    assert n.whatsapp_message_id is not None
    assert n.error_code == "131026"
    assert n.sent_at is not None


async def test_a_bad_access_token_pauses_the_sender_with_190(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    (
        await sandbox.post(
            "/_sandbox/phone-numbers",
            json={
                "phone_number_id": tenant.phone_number_id,
                "waba_id": tenant.waba_id,
                "access_token": "EAArotated",
                "display_phone_number": "+15550100002",
            },
        )
    ).raise_for_status()
    # A sender-level error pauses the sender; the notification waits with its attempt intact.
    n = await wait_status(engine, await _send(api, tenant, order_request(recipient)), {"rate_limited"})
    assert n.attempt == 0
    async with UnitOfWork(engine) as uow:
        sender = await uow.senders.get(tenant.sender_id)
    assert sender is not None and sender.paused_code == "190"


async def test_a_redelivered_message_sends_nothing_twice(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
    recipient: str,
    settings: Any,
) -> None:
    nid = await _send(api, tenant, order_request(recipient))
    await wait_status(engine, nid, {"read"})
    job = QueueJob(nid, tenant.tenant_id)
    import msgspec

    from wanotify.common.queue.base import OutgoingMessage
    from wanotify.common.queue.factory import create_queue

    queue = create_queue(settings.queue, engine)
    await queue.send_batch([OutgoingMessage(body=msgspec.json.encode(job).decode())] * 3)

    async def pending() -> int:
        async with engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        text("SELECT count(*) FROM queue_messages WHERE body LIKE :id"), {"id": f"%{nid}%"}
                    )
                ).scalar_one()
            )

    await eventually(pending, lambda count: count == 0, what="the duplicates to be consumed")
    assert len(await sandbox_messages(sandbox, recipient)) == 1
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(nid)
    assert n is not None and n.status.value == "read" and n.attempt == 1


async def test_bulk_notifications_all_reach_a_final_state(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None
) -> None:
    import secrets

    items = [order_request(f"+1556{secrets.randbelow(10**7):07d}") for _ in range(40)]
    r = await api.post("/v1/notifications/bulk", json={"notifications": items}, headers=tenant.auth)
    assert r.status_code == 202
    for item in r.json()["notifications"]:
        await wait_status(engine, item["id"], {"sent", "delivered", "read"})


async def test_an_opt_out_after_acceptance_stops_the_send(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    sandbox: httpx.AsyncClient,
    recipient: str,
    worker: None,
    scheduler: None,
) -> None:
    """Accepted (scheduled two seconds ahead), then the recipient opts out: it is never sent."""
    from datetime import UTC, datetime, timedelta

    when = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    nid = await _send(api, tenant, order_request(recipient, scheduled_for=when))
    async with UnitOfWork(engine) as uow:
        await uow.opt_outs.add(tenant.tenant_id, recipient, source="keyword", reason="STOP")
        await uow.commit()
    n = await wait_status(engine, nid, {"failed", "sent", "delivered", "read"})
    assert n.status.value == "failed"
    assert n.error_code == "RECIPIENT_OPTED_OUT"
    assert await sandbox_messages(sandbox, recipient) == []
