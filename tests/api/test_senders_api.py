"""``/v1/senders``: listing with pause state, resuming; scopes and tenant isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.world import TenantFixture, make_tenant, order_request
from wanotify.common.crypto import SecretBox
from wanotify.common.db.schema import notifications, senders
from wanotify.common.db.uow import UnitOfWork

Client = AsyncTestClient[Any]
LATER = (datetime.now(UTC) + timedelta(days=20)).isoformat()


async def test_list_shows_pause_state_and_never_the_token(api: Client, tenant: TenantFixture) -> None:
    r = await api.get("/v1/senders", headers=tenant.auth)
    assert r.status_code == 200, r.text
    [sender] = r.json()["senders"]
    assert sender["id"] == tenant.sender_id
    assert sender["phone_number_id"] == tenant.phone_number_id
    assert sender["status"] == "active"
    assert sender["pause"] is None
    assert not any("token" in key for key in sender)
    assert tenant.access_token not in r.text


async def test_resume_clears_the_pause_and_wakes_deferred_notifications(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    created = await api.post(
        "/v1/notifications",
        json=order_request(scheduled_for=LATER),
        headers=tenant.auth,
    )
    nid = created.json()["id"]
    async with engine.begin() as conn:
        await conn.execute(
            update(senders)
            .where(senders.c.id == tenant.sender_id)
            .values(paused_code="190", paused_reason="(190) token expired", paused_at=senders.c.created_at)
        )
        # As the worker leaves a paused sender's notification: deferred, far out, already published.
        await conn.execute(
            update(notifications)
            .where(notifications.c.id == nid)
            .values(
                status="rate_limited",
                next_attempt_at=datetime.now(UTC) + timedelta(days=20),
                enqueued_at=notifications.c.created_at,
            )
        )
    listed = (await api.get("/v1/senders", headers=tenant.auth)).json()["senders"][0]
    assert listed["status"] == "paused"
    assert listed["pause"]["code"] == "190"
    assert listed["pause"]["reason"] == "(190) token expired"
    assert listed["pause"]["paused_at"].endswith("Z")

    r = await api.post(f"/v1/senders/{tenant.sender_id}/resume", headers=tenant.auth)
    assert r.status_code == 200, r.text
    assert r.json()["sender"]["status"] == "active"
    assert r.json()["notifications_resumed"] == 1
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(nid)
        sender = await uow.senders.get(tenant.sender_id)
    assert (
        n is not None
        and n.next_attempt_at is not None
        and n.next_attempt_at < datetime.now(UTC) + timedelta(minutes=1)
    )
    assert sender is not None and sender.paused_at is None and sender.paused_code is None

    again = await api.post(f"/v1/senders/{tenant.sender_id}/resume", headers=tenant.auth)
    assert again.status_code == 200
    assert again.json()["notifications_resumed"] == 0


async def test_another_tenants_sender_is_not_found(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox
) -> None:
    other = await make_tenant(engine, box, None)
    r = await api.post(f"/v1/senders/{other.sender_id}/resume", headers=tenant.auth)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"
    ids = [s["id"] for s in (await api.get("/v1/senders", headers=tenant.auth)).json()["senders"]]
    assert other.sender_id not in ids


async def test_senders_need_the_manage_scope(api: Client, engine: AsyncEngine, box: SecretBox) -> None:
    limited = await make_tenant(engine, box, None, scopes=("notifications:send",))
    assert (await api.get("/v1/senders", headers=limited.auth)).status_code == 403
    r = await api.post(f"/v1/senders/{limited.sender_id}/resume", headers=limited.auth)
    assert r.status_code == 403
    assert (await api.get("/v1/senders")).status_code == 401


async def test_patch_sets_the_throughput_tier_and_messaging_limit(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    url = f"/v1/senders/{tenant.sender_id}"
    r = await api.patch(url, json={"throughput_mps": 1000, "messaging_limit": 2000}, headers=tenant.auth)
    assert r.status_code == 200, r.text
    assert (r.json()["throughput_mps"], r.json()["messaging_limit"]) == (1000, 2000)
    # A field left out keeps its value; null means unlimited.
    r = await api.patch(url, json={"messaging_limit": None}, headers=tenant.auth)
    assert (r.json()["throughput_mps"], r.json()["messaging_limit"]) == (1000, None)
    async with UnitOfWork(engine) as uow:
        stored = await uow.senders.get(tenant.sender_id)
    assert stored is not None and (stored.throughput_mps, stored.messaging_limit) == (1000, None)


async def test_patch_refuses_tiers_meta_does_not_have(api: Client, tenant: TenantFixture) -> None:
    url = f"/v1/senders/{tenant.sender_id}"
    for body, field in (
        ({"throughput_mps": 81}, "throughput_mps"),
        ({"messaging_limit": 1000}, "messaging_limit"),
    ):
        r = await api.patch(url, json=body, headers=tenant.auth)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["field"] == field
    r = await api.patch(url, json={"throughput": 80}, headers=tenant.auth)
    assert r.status_code == 400


async def test_patch_is_tenant_scoped(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox, sandbox_url: str
) -> None:
    other = await make_tenant(engine, box, sandbox_url)
    r = await api.patch(f"/v1/senders/{other.sender_id}", json={"throughput_mps": 20}, headers=tenant.auth)
    assert r.status_code == 404
