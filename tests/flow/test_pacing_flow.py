"""Dispatch pacing through the real worker: the recipient anti-spam windows defer to the exact next
free slot, and the unique-user tier holds new business-initiated conversations (not replies inside
the service window, not users already reached) until a slot frees up 24 hours later."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.flow.conftest import wait_status
from tests.support.processes import eventually
from tests.support.world import TenantFixture, order_request, wait_window
from wanotify.common.db.schema import delivery_log, notifications
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.notification import Notification
from wanotify.common.domain.tenant import AntiSpamLimits, IngressLimits, TenantPolicy

Client = AsyncTestClient[Any]
SENT = {"sent", "delivered", "read"}


async def _set_policy(engine: AsyncEngine, tenant: TenantFixture, policy: TenantPolicy) -> None:
    async with UnitOfWork(engine) as uow:
        await uow.tenants.set_policy(tenant.tenant_id, policy)
        await uow.commit()


async def _post(api: Client, tenant: TenantFixture, phone: str) -> str:
    r = await api.post("/v1/notifications", json=order_request(phone), headers=tenant.auth)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _paced_limit(engine: AsyncEngine, notification_id: str) -> str:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(delivery_log.c.detail).where(
                delivery_log.c.notification_id == notification_id, delivery_log.c.status == "rate_limited"
            )
        )
        details = [r.detail or {} for r in rows.all()]
    paced = [d for d in details if d.get("reason") == "paced"]
    assert paced, details
    return str(paced[-1]["limit"])


async def _get(engine: AsyncEngine, notification_id: str) -> Notification:
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(notification_id)
    assert n is not None
    return n


async def _one_deferred(engine: AsyncEngine, ids: list[str]) -> tuple[list[Notification], Notification]:
    """Of these, all but one get sent and one waits: (the sent ones, the waiting one)."""
    waiting = [await wait_status(engine, nid, SENT | {"rate_limited"}) for nid in ids]
    sent = [n for n in waiting if n.status.value in SENT]
    held = [n for n in waiting if n.status.value == "rate_limited"]
    assert len(held) == 1, [n.status for n in waiting]
    return sent, held[0]


async def _wait_all_sent(engine: AsyncEngine, ids: list[str]) -> None:
    async def sent_count() -> int:
        async with engine.connect() as conn:
            query = select(func.count()).where(
                notifications.c.id.in_(ids), notifications.c.status.in_(sorted(SENT))
            )
            return int((await conn.execute(query)).scalar_one())

    await eventually(sent_count, lambda n: n == len(ids), timeout=60, what=f"{len(ids)} sends")


def _close(a: datetime | None, b: datetime, tolerance: float = 2.0) -> bool:
    return a is not None and abs((a - b).total_seconds()) <= tolerance


@pytest.mark.parametrize(
    ("limits", "window", "limit_name"),
    [
        (AntiSpamLimits(per_hour=2, per_day=0), timedelta(hours=1), "anti_spam_hour"),
        (AntiSpamLimits(per_hour=0, per_day=2), timedelta(days=1), "anti_spam_day"),
    ],
    ids=["hour", "day"],
)
async def test_the_anti_spam_window_defers_the_third_message_to_its_exact_slot(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    recipient: str,
    limits: AntiSpamLimits,
    window: timedelta,
    limit_name: str,
) -> None:
    await _set_policy(engine, tenant, TenantPolicy(anti_spam=limits))
    ids = [await _post(api, tenant, recipient) for _ in range(3)]
    sent, held = await _one_deferred(engine, ids)
    first = min(n.sent_at for n in sent if n.sent_at is not None)
    # The slot frees when the first message leaves the window: not a guess, not a backoff.
    assert _close(held.next_attempt_at, first + window), (held.next_attempt_at, first + window)
    assert held.attempt == 0, "waiting for a slot must not burn an attempt"
    assert await _paced_limit(engine, held.id) == limit_name
    # The client sees when it will go.
    shown = (await api.get(f"/v1/notifications/{held.id}", headers=tenant.auth)).json()
    assert shown["status"] == "rate_limited"
    assert _close(datetime.fromisoformat(shown["next_attempt_at"]), first + window)
    # Another recipient of the same tenant is not held back.
    other = await _post(api, tenant, recipient[:-1] + str((int(recipient[-1]) + 1) % 10))
    await wait_status(engine, other, SENT)


async def test_the_unique_user_tier_holds_the_251st_new_user_but_not_replies_or_repeats(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
) -> None:
    await _set_policy(engine, tenant, TenantPolicy(rate_limits=IngressLimits(per_minute=0, per_hour=0)))
    r = await api.patch(f"/v1/senders/{tenant.sender_id}", json={"messaging_limit": 250}, headers=tenant.auth)
    assert r.status_code == 200, r.text
    # Meta (the sandbox) enforces the same tier: without pacing the 251st would be refused.
    r = await sandbox.post(
        "/_sandbox/phone-numbers",
        json={
            "phone_number_id": tenant.phone_number_id,
            "waba_id": tenant.waba_id,
            "access_token": tenant.access_token,
            "display_phone_number": "+15550100002",
            "messaging_limit": 250,
        },
    )
    r.raise_for_status()
    base = 15_590_000_000 + int(tenant.phone_number_id[-4:]) * 1000
    users = [f"+{base + i}" for i in range(250)]
    first_ids: list[str] = []
    for start in range(0, 250, 100):
        body = {"notifications": [order_request(p) for p in users[start : start + 100]]}
        r = await api.post("/v1/notifications/bulk", json=body, headers=tenant.auth)
        assert r.status_code == 202, r.text
        first_ids += [item["id"] for item in r.json()["notifications"]]
    await _wait_all_sent(engine, first_ids)

    # A user who wrote to us (window open) does not count; nor does one already reached today.
    replier = f"+{base + 900}"
    inbound = await sandbox.post(
        "/_sandbox/inbound",
        json={"phone_number_id": tenant.phone_number_id, "from": replier, "text": "hi"},
    )
    inbound.raise_for_status()
    await wait_window(engine, tenant, replier)
    reply = await _post(api, tenant, replier)
    repeat = await _post(api, tenant, users[0])
    new_user = await _post(api, tenant, f"+{base + 901}")
    await wait_status(engine, reply, SENT)
    await wait_status(engine, repeat, SENT)
    held = await wait_status(engine, new_user, {"rate_limited"})
    earliest = min(n.sent_at for n in [await _get(engine, nid) for nid in first_ids] if n.sent_at is not None)
    assert _close(held.next_attempt_at, earliest + timedelta(days=1)), held.next_attempt_at
    assert await _paced_limit(engine, new_user) == "unique_users"
