"""Failure handling end to end (API → worker → the sandbox → receiver, plus the scheduler):
sender pauses, the circuit breaker, asynchronous failures, attempts per tenant and priority."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.flow.conftest import sandbox_messages, wait_status
from tests.support.faults import inject_fault
from tests.support.processes import eventually
from tests.support.world import TenantFixture, make_tenant, order_request
from wanotify.common.breaker import KEY_PREFIX
from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.tenant import TenantPolicy

Client = AsyncTestClient[Any]


async def _send(api: Client, tenant: TenantFixture, body: dict[str, Any]) -> str:
    r = await api.post("/v1/notifications", json=body, headers=tenant.auth)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _events(engine: AsyncEngine, nid: str) -> list[dict[str, Any]]:
    async with UnitOfWork(engine) as uow:
        return await uow.notifications.history(nid)


async def _tenant_with_policy(
    engine: AsyncEngine, box: SecretBox, sandbox_url: str, policy: TenantPolicy
) -> TenantFixture:
    t = await make_tenant(engine, box, sandbox_url)
    async with UnitOfWork(engine) as uow:
        await uow.tenants.set_policy(t.tenant_id, policy)
        await uow.commit()
    return t


def _phone() -> str:
    return f"+1557{secrets.randbelow(10**7):07d}"


async def test_a_sender_level_error_pauses_the_sender_until_resumed(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    scheduler: None,
    sandbox: httpx.AsyncClient,
) -> None:
    first, second = _phone(), _phone()
    await inject_fault(sandbox, first, 190)
    n1 = await _send(api, tenant, order_request(first))
    paused = await wait_status(engine, n1, {"rate_limited"})
    assert paused.attempt == 0  # the attempt was given back

    listing = (await api.get("/v1/senders", headers=tenant.auth)).json()["senders"]
    assert [s["status"] for s in listing] == ["paused"]
    assert listing[0]["pause"]["code"] == "190"
    assert "access_token" not in str(listing)

    n2 = await _send(api, tenant, order_request(second))
    waiting = await wait_status(engine, n2, {"rate_limited"})
    assert waiting.attempt == 0
    assert await sandbox_messages(sandbox, second) == []  # never handed to Meta while paused
    assert any(
        e["event"] == "deferred" and e["detail"]["reason"] == "sender_paused"
        for e in await _events(engine, n2)
    )

    r = await api.post(f"/v1/senders/{tenant.sender_id}/resume", headers=tenant.auth)
    assert r.status_code == 200, r.text
    assert r.json()["sender"]["status"] == "active"
    assert r.json()["notifications_resumed"] == 2
    for nid in (n1, n2):
        sent = await wait_status(engine, nid, {"sent", "delivered", "read"})
        assert sent.attempt == 1
    assert len(await sandbox_messages(sandbox, first)) == 2  # the 190 and the success
    assert len(await sandbox_messages(sandbox, second)) == 1


async def test_the_circuit_breaker_opens_defers_probes_and_closes(
    api: Client,
    engine: AsyncEngine,
    box: SecretBox,
    sandbox_url: str,
    settings: Settings,
    worker: None,
    scheduler: None,
    sandbox: httpx.AsyncClient,
) -> None:
    tenant = await _tenant_with_policy(engine, box, sandbox_url, TenantPolicy(max_attempts={"normal": 20}))
    threshold = settings.worker.breaker_failure_threshold
    phones = [_phone() for _ in range(threshold)]
    for phone in phones:
        await inject_fault(sandbox, phone, 131000, times=2)
    ids = [await _send(api, tenant, order_request(p)) for p in phones]

    redis = Redis.from_url(settings.redis_url)
    try:

        async def breaker() -> dict[Any, Any]:
            found: dict[Any, Any] = await redis.hgetall(KEY_PREFIX + tenant.sender_id)
            return found

        await eventually(breaker, lambda h: float(h.get(b"open_until", b"0")) > 0, what="the breaker to open")
        late = _phone()
        ids.append(await _send(api, tenant, order_request(late)))  # arrives while the breaker is open

        for nid in ids:
            await wait_status(engine, nid, {"sent", "delivered", "read"}, timeout=60)
        await eventually(breaker, lambda h: h == {}, what="the breaker to close")
    finally:
        await redis.aclose()

    deferred = 0
    for phone, nid in zip([*phones, late], ids, strict=True):
        async with UnitOfWork(engine) as uow:
            n = await uow.notifications.get(nid)
        assert n is not None
        # Deferrals never burn attempts: every attempt is one call Meta saw.
        assert n.attempt == len(await sandbox_messages(sandbox, phone))
        deferred += sum(
            1
            for e in await _events(engine, nid)
            if e["event"] == "deferred" and e["detail"]["reason"] == "breaker_open"
        )
    assert deferred >= 1


async def test_an_async_retryable_failure_is_sent_again(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    scheduler: None,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    await inject_fault(sandbox, recipient, 131000, mode="async")
    nid = await _send(api, tenant, order_request(recipient))

    async def retried() -> list[dict[str, Any]]:
        return await _events(engine, nid)

    events = await eventually(
        retried,
        lambda es: any(e["event"] == "retry_scheduled" and e["source"] == "meta" for e in es),
        what="the async failure to schedule a retry",
    )
    failed_wamid = next(e for e in events if e["event"] == "retry_scheduled")["whatsapp_message_id"]
    n = await wait_status(engine, nid, {"delivered", "read"}, timeout=60)
    assert n.attempt == 2
    assert n.whatsapp_message_id and n.whatsapp_message_id != failed_wamid
    outcomes = [m["error_code"] for m in await sandbox_messages(sandbox, recipient)]
    assert outcomes == [131000, None]


async def test_an_async_permanent_failure_fails_and_131047_is_permanent(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sandbox: httpx.AsyncClient,
) -> None:
    first, second = _phone(), _phone()
    await inject_fault(sandbox, first, 131026, mode="async")
    await inject_fault(sandbox, second, 131047, mode="async")
    for phone, code in ((first, "131026"), (second, "131047")):
        n = await wait_status(engine, await _send(api, tenant, order_request(phone)), {"failed"})
        assert n.error_code == code
        assert n.error_retryable is False
        assert n.attempt == 1
        assert len(await sandbox_messages(sandbox, phone)) == 1


async def test_an_async_retryable_failure_without_attempts_left_fails_as_retryable(
    api: Client,
    engine: AsyncEngine,
    box: SecretBox,
    sandbox_url: str,
    worker: None,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    tenant = await _tenant_with_policy(engine, box, sandbox_url, TenantPolicy(max_attempts={"normal": 1}))
    await inject_fault(sandbox, recipient, 131000, mode="async")
    n = await wait_status(engine, await _send(api, tenant, order_request(recipient)), {"failed"})
    assert n.error_code == "131000"
    assert n.error_retryable is True
    assert n.max_attempts == 1


async def test_attempts_follow_the_tenant_policy_per_priority(
    api: Client,
    engine: AsyncEngine,
    box: SecretBox,
    sandbox_url: str,
    worker: None,
    sandbox: httpx.AsyncClient,
) -> None:
    tenant = await _tenant_with_policy(
        engine, box, sandbox_url, TenantPolicy(max_attempts={"high": 2, "low": 1})
    )
    high, low = _phone(), _phone()
    await inject_fault(sandbox, high, 133004, times=None)
    await inject_fault(sandbox, low, 133004, times=None)
    nh = await _send(api, tenant, order_request(high, priority="high"))
    nl = await _send(api, tenant, order_request(low, priority="low"))
    for nid, phone, attempts in ((nh, high, 2), (nl, low, 1)):
        n = await wait_status(engine, nid, {"failed"}, timeout=60)
        assert n.max_attempts == attempts
        assert n.attempt == attempts
        assert n.error_retryable is True
        assert len(await sandbox_messages(sandbox, phone)) == attempts


async def test_an_async_sender_level_failure_pauses_the_sender_and_the_notification_waits(
    api: Client,
    engine: AsyncEngine,
    box: SecretBox,
    sandbox_url: str,
    worker: None,
    sandbox: httpx.AsyncClient,
) -> None:
    tenant = await make_tenant(engine, box, sandbox_url)
    phone = _phone()
    await inject_fault(sandbox, phone, 131031, mode="async")  # account locked, reported in a `failed` webhook
    nid = await _send(api, tenant, order_request(phone))

    async def paused() -> Any:
        async with UnitOfWork(engine) as uow:
            return await uow.senders.get(tenant.sender_id)

    sender = await eventually(
        paused, lambda s: s is not None and s.paused_at is not None, what="the sender to be paused"
    )
    assert sender.paused_code == "131031"
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(nid)
    assert n is not None
    assert n.status.value in {"queued", "rate_limited"}, "it waits for the resume instead of failing"
    assert n.whatsapp_message_id is None
    assert n.attempt == 0  # the sender was at fault: the attempt is given back, as for a sync error
    r = await api.post(f"/v1/senders/{tenant.sender_id}/resume", headers=tenant.auth)
    assert r.status_code == 200, r.text
    n = await wait_status(engine, nid, {"sent", "delivered", "read"})
    assert len(await sandbox_messages(sandbox, phone)) == 2
    assert n.attempt == 1
