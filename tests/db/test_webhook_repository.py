"""The webhook repository against PostgreSQL: events fan out to subscribed endpoints only, in the
transaction of the change; the retention purge keeps what is still due. On a database of their own:
no in-process worker tries to deliver these endpoints' (unsigned) events."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.builders import stored_notification
from tests.support.world import TenantFixture, make_tenant
from wanotify.common.crypto import SecretBox
from wanotify.common.db.delivery_log import Change
from wanotify.common.db.schema import webhook_deliveries, webhook_events
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.status import Status


async def _endpoint(
    engine: AsyncEngine, tenant: TenantFixture, events: list[str], enabled: bool = True
) -> str:
    async with UnitOfWork(engine) as uow:
        e = await uow.webhooks.add(
            tenant.tenant_id,
            url="https://x.example/h",
            events=events,
            secret_encrypted=b"s",
            description=None,
            metadata={},
        )
        if not enabled:
            await uow.webhooks.disable(e.id, tenant.tenant_id, "test")
        await uow.commit()
    return e.id


async def _deliveries(engine: AsyncEngine, nid: str) -> list[tuple[str, str, str, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                webhook_deliveries.c.endpoint_id,
                webhook_deliveries.c.event_type,
                webhook_deliveries.c.status,
                webhook_deliveries.c.sequence,
            )
            .where(webhook_deliveries.c.notification_id == nid)
            .order_by(webhook_deliveries.c.sequence, webhook_deliveries.c.endpoint_id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_events_fan_out_to_subscribed_endpoints_and_a_rollback_records_none(
    own_database: tuple[str, AsyncEngine], box: SecretBox
) -> None:
    _, engine = own_database
    tenant = await make_tenant(engine, box, None)
    everything = await _endpoint(engine, tenant, ["*"])
    cancels = await _endpoint(engine, tenant, ["notification.canceled"])
    off = await _endpoint(engine, tenant, ["notification.*"], enabled=False)
    nid = await stored_notification(engine, tenant, status=Status.QUEUED)
    async with UnitOfWork(engine) as uow:  # rolled back: no event
        await uow.notifications.cancel(nid, tenant.tenant_id)
        await uow.rollback()
    assert {d[1] for d in await _deliveries(engine, nid)} == {"notification.queued"}
    async with UnitOfWork(engine) as uow:
        await uow.notifications.transition(
            nid, Status.CANCELED, Change(event="canceled", source="test"), sources=(Status.QUEUED,)
        )
        await uow.commit()
    assert sorted(await _deliveries(engine, nid)) == sorted(
        [
            (everything, "notification.queued", "pending", 1),
            (off, "notification.queued", "held", 1),
            (everything, "notification.canceled", "pending", 2),
            (cancels, "notification.canceled", "pending", 2),
            (off, "notification.canceled", "held", 2),
        ]
    )


async def test_the_purge_removes_old_events_but_keeps_those_still_due(
    own_database: tuple[str, AsyncEngine], box: SecretBox
) -> None:
    _, engine = own_database
    tenant = await make_tenant(engine, box, None)
    await _endpoint(engine, tenant, ["*"])
    done = await stored_notification(engine, tenant, status=Status.QUEUED)
    due = await stored_notification(engine, tenant, status=Status.QUEUED)
    async with engine.begin() as conn:
        await conn.execute(
            update(webhook_events)
            .where(webhook_events.c.notification_id.in_([done, due]))
            .values(created_at=func.now() - func.make_interval(0, 0, 0, 31))
        )
        await conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.notification_id == done)
            .values(status="succeeded")
        )
    async with UnitOfWork(engine) as uow:
        assert await uow.webhooks.purge(older_than_days=30, limit=1000) >= 1
        await uow.commit()
    async with engine.connect() as conn:
        left = await conn.execute(
            select(webhook_events.c.notification_id).where(webhook_events.c.notification_id.in_([done, due]))
        )
        assert set(left.scalars()) == {due}
        assert await _deliveries(engine, done) == []  # its deliveries went with it
