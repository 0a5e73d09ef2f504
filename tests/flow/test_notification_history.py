"""A notification's history and its lean status view, through the API, after a real life: the
worker sends through the sandbox and Meta's statuses come back to the receiver."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.flow.conftest import wait_status
from tests.support.world import TenantFixture, make_tenant, order_request
from wanotify.common.crypto import SecretBox

Client = AsyncTestClient[Any]


async def test_the_history_reads_each_move_of_a_notification_to_read(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, recipient: str
) -> None:
    r = await api.post("/v1/notifications", json=order_request(recipient), headers=tenant.auth)
    assert r.status_code == 201, r.text
    nid = r.json()["id"]
    await wait_status(engine, nid, {"read"})

    r = await api.get(f"/v1/notifications/{nid}/events", headers=tenant.auth)
    assert r.status_code == 200, r.text
    history = r.json()
    assert history["notification_id"] == nid
    applied = [e for e in history["events"] if e["applied"]]
    assert applied[0]["from"] is None and applied[0]["to"] == "queued" and applied[0]["source"] == "api"
    for before, after in pairwise(applied):
        assert after["from"] == before["to"]  # each move starts where the one before ended
    assert [e["to"] for e in applied][-1] == "read"
    assert {"processing", "sent", "read"} <= {e["to"] for e in applied}
    sent = next(e for e in applied if e["to"] == "sent")
    assert sent["source"] == "worker" and sent["whatsapp_message_id"].startswith("wamid.")
    assert any(e["source"] == "meta" and e["reported"] == "read" for e in history["events"])

    r = await api.get(f"/v1/notifications/{nid}/status", headers=tenant.auth)
    assert r.status_code == 200, r.text
    status = r.json()
    assert (status["id"], status["status"], status["recipient"]) == (nid, "read", recipient)
    assert status["sent_at"] and status["read_at"] and status["error"] is None
    assert status["delivery_attempts"] == 1


async def test_another_tenants_notification_has_no_history_and_no_status(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox, sandbox_url: str, recipient: str
) -> None:
    r = await api.post("/v1/notifications", json=order_request(recipient), headers=tenant.auth)
    nid = r.json()["id"]
    other = await make_tenant(engine, box, sandbox_url)
    for path in (f"/v1/notifications/{nid}/events", f"/v1/notifications/{nid}/status"):
        r = await api.get(path, headers=other.auth)
        assert r.status_code == 404, r.text
        assert r.json()["error"]["field"] == "id" and r.json()["error"]["trace_id"]
    r = await api.get("/v1/notifications/bad%20id/events", headers=tenant.auth)
    assert r.status_code == 400 and r.json()["error"]["field"]
