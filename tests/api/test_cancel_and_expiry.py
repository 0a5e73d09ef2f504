"""Cancel (``DELETE /v1/notifications/{id}``) and expiry (the worker at claim, the scheduler's sweep)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.processes import eventually
from tests.support.world import TenantFixture, make_tenant, order_request
from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.schema import notifications
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.notification import Notification
from wanotify.common.meta.client import MetaClient, create_http_client
from wanotify.common.metrics import Metrics
from wanotify.common.pacing import Pacer
from wanotify.common.publisher import Publisher, QueueJob
from wanotify.common.queue.base import ReceivedMessage
from wanotify.common.queue.postgres import PostgresQueue
from wanotify.scheduler.jobs import SchedulerJobs
from wanotify.worker.dispatcher import Dispatcher, Outcome

Client = AsyncTestClient[Any]
LATER = (datetime.now(UTC) + timedelta(days=20)).isoformat()


async def _scheduled(api: Client, tenant: TenantFixture, **extra: Any) -> str:
    r = await api.post(
        "/v1/notifications", json=order_request(scheduled_for=LATER, **extra), headers=tenant.auth
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _get(engine: AsyncEngine, nid: str) -> Notification:
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(nid)
    assert n is not None
    return n


async def test_cancel_a_waiting_notification(api: Client, tenant: TenantFixture, engine: AsyncEngine) -> None:
    nid = await _scheduled(api, tenant)
    r = await api.delete(f"/v1/notifications/{nid}", headers=tenant.auth)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "canceled"
    assert r.json()["canceled_at"].endswith("Z")
    n = await _get(engine, nid)
    assert n.status.value == "canceled" and n.canceled_at is not None
    async with UnitOfWork(engine) as uow:
        assert [h["event"] for h in await uow.notifications.history(nid)] == ["accepted", "canceled"]
    again = await api.delete(f"/v1/notifications/{nid}", headers=tenant.auth)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "NOT_CANCELABLE"


async def test_a_sent_notification_is_not_cancelable(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    nid = await _scheduled(api, tenant)
    async with engine.begin() as conn:
        await conn.execute(update(notifications).where(notifications.c.id == nid).values(status="sent"))
    r = await api.delete(f"/v1/notifications/{nid}", headers=tenant.auth)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "NOT_CANCELABLE"
    assert (await _get(engine, nid)).status.value == "sent"


async def test_cancel_is_tenant_scoped(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, box: SecretBox
) -> None:
    other = await make_tenant(engine, box, None)
    nid = await _scheduled(api, tenant)
    r = await api.delete(f"/v1/notifications/{nid}", headers=other.auth)
    assert r.status_code == 404
    assert (await api.delete("/v1/notifications/notif_nope", headers=tenant.auth)).status_code == 404
    assert (await _get(engine, nid)).status.value == "scheduled"


async def test_the_scheduler_expires_waiting_notifications(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, settings: Settings
) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    nid = await _scheduled(api, tenant, expires_at=soon)
    keep = await _scheduled(api, tenant, expires_at=(datetime.now(UTC) + timedelta(days=40)).isoformat())
    jobs = SchedulerJobs(
        lambda: UnitOfWork(engine),
        Publisher(PostgresQueue(engine, "test-expiry", visibility_timeout=30), engine),
        Metrics("scheduler"),
        batch_size=100,
        outbox_grace_seconds=5.0,
        stale_claim_seconds=600.0,
    )

    async def sweep() -> Notification:
        await jobs.expire_due()
        return await _get(engine, nid)

    expired = await eventually(sweep, lambda n: n.status.value == "expired", what="the sweep to expire it")
    assert expired.expires_at is not None
    assert (await _get(engine, keep)).status.value == "scheduled"
    doc = (await api.get(f"/v1/notifications/{nid}", headers=tenant.auth)).json()
    assert doc["status"] == "expired"
    assert (await api.delete(f"/v1/notifications/{nid}", headers=tenant.auth)).status_code == 409


async def test_the_worker_never_sends_after_expiry(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, settings: Settings, box: SecretBox
) -> None:
    nid = await _scheduled(api, tenant)
    async with engine.begin() as conn:
        await conn.execute(
            update(notifications)
            .where(notifications.c.id == nid)
            .values(
                status="queued",
                next_attempt_at=None,
                enqueued_at=datetime.now(UTC),
                expires_at=datetime.now(UTC) - timedelta(seconds=1),
            )
        )
    http = create_http_client(settings.meta)
    try:
        dispatcher = Dispatcher(
            lambda: UnitOfWork(engine),
            MetaClient(settings.meta, http),
            box,
            Publisher(PostgresQueue(engine, "test-expiry", visibility_timeout=30), engine),
            Metrics("worker"),
            claim_seconds=30.0,
            max_receives=10,
            pacer=Pacer(None, settings.pacing),
            pacing=settings.pacing,
        )
        body = QueueJob(nid, tenant.tenant_id)
        outcome = await dispatcher.process(
            ReceivedMessage("m1", msgspec.json.encode(body).decode(), {}, "r1", 1)
        )
    finally:
        await http.aclose()
    # The scheduler's sweep (if one runs in this session) may have expired it first.
    assert outcome in (Outcome.EXPIRED, Outcome.SKIPPED)
    n = await _get(engine, nid)
    assert n.status.value == "expired"
    assert n.attempt == 0
    assert n.whatsapp_message_id is None
