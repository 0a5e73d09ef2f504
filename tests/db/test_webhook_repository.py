"""The webhook repository against PostgreSQL: events fan out to subscribed endpoints only, in the
transaction of the change; the retention purge keeps what is still due. On a database of their own:
no in-process worker tries to deliver these endpoints' (unsigned) events."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.builders import stored_notification
from tests.support.world import TenantFixture, make_tenant
from wanotify.common.clock import utcnow
from wanotify.common.config import WebhookSettings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.delivery_log import Change
from wanotify.common.db.schema import webhook_deliveries, webhook_endpoints, webhook_events
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.status import Status
from wanotify.common.domain.webhook import AttemptOutcome, DueDelivery, breaker_state


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


# --- the claim: per endpoint, in order, behind a breaker -------------------------------------------

RULES = WebhookSettings(breaker_failures=3, breaker_cooldown_seconds=3600)
_ADD_DUE = text(
    """
    WITH events AS (
        INSERT INTO webhook_events (id, tenant_id, type, notification_id, sequence, payload)
        SELECT 'evt_' || :tag || g, :tenant, 'message.received', :nid, g, '{}'::jsonb
        FROM generate_series(1, :n) g
        RETURNING id, sequence
    )
    INSERT INTO webhook_deliveries
        (id, event_id, endpoint_id, tenant_id, event_type, notification_id, sequence, status, next_attempt_at)
    SELECT 'whd_' || e.id, e.id, :endpoint, :tenant, 'message.received', :nid, e.sequence, 'pending',
           now() - make_interval(secs => :age) + e.sequence * interval '1 millisecond'
    FROM events e
    """
)


async def _add_due(
    engine: AsyncEngine, tenant: TenantFixture, endpoint: str, n: int, *, age: float, nid: str | None = None
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            _ADD_DUE,
            {
                "tag": secrets.token_hex(4),
                "tenant": tenant.tenant_id,
                "nid": nid,
                "n": n,
                "endpoint": endpoint,
                "age": age,
            },
        )


async def _claim(engine: AsyncEngine, *, limit: int = 20, wait: float = 300) -> list[DueDelivery]:
    async with UnitOfWork(engine) as uow:
        claimed = await uow.webhooks.claim_due(
            limit=limit, per_endpoint=4, claim_seconds=60, ordering_wait_seconds=wait
        )
        await uow.commit()
    return claimed


async def _fail(engine: AsyncEngine, d: DueDelivery, *, retry_in: float = 3600) -> None:
    async with UnitOfWork(engine) as uow:
        await uow.webhooks.record_attempt(
            d,
            AttemptOutcome(5, status_code=500),
            next_attempt_at=utcnow() + timedelta(seconds=retry_in),
            health=RULES,
        )
        await uow.commit()


async def _breaker(engine: AsyncEngine, tenant: TenantFixture, endpoint: str) -> str:
    async with UnitOfWork(engine) as uow:
        e = await uow.webhooks.get(endpoint, tenant.tenant_id)
    assert e is not None
    return breaker_state(e, utcnow())


async def _cool_down(engine: AsyncEngine, endpoint: str) -> None:
    """The cooldown passed (rather than waiting an hour)."""
    async with engine.begin() as conn:
        await conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint)
            .values(breaker_open_until=func.now() - func.make_interval(0, 0, 0, 0, 0, 0, 1))
        )


async def test_one_endpoints_backlog_hides_no_other_endpoints_deliveries(
    own_database: tuple[str, AsyncEngine], box: SecretBox
) -> None:
    _, engine = own_database
    tenant = await make_tenant(engine, box, None)
    swamped, quiet = await _endpoint(engine, tenant, ["*"]), await _endpoint(engine, tenant, ["*"])
    await _add_due(engine, tenant, swamped, 500, age=3600)  # all older than the quiet one's
    await _add_due(engine, tenant, quiet, 1, age=60)
    claimed = await _claim(engine, limit=8)
    assert Counter(d.endpoint_id for d in claimed) == {swamped: 4, quiet: 1}
    # The cap counts what is in flight, not what this claim took: the next claim takes no more.
    assert await _claim(engine) == []


async def test_a_later_event_waits_while_an_earlier_one_is_retried_but_only_for_the_wait(
    own_database: tuple[str, AsyncEngine], box: SecretBox
) -> None:
    _, engine = own_database
    tenant = await make_tenant(engine, box, None)
    endpoint = await _endpoint(engine, tenant, ["*"])
    nid = await stored_notification(engine, tenant, status=Status.SENT)
    async with engine.begin() as conn:  # only this test's rows
        await conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.notification_id == nid))
    await _add_due(engine, tenant, endpoint, 2, age=1, nid=nid)
    [first] = await _claim(engine)  # the second waits while the first is in flight
    await _fail(engine, first)  # and while it waits for its retry
    assert await _claim(engine) == []
    [second] = await _claim(engine, wait=0)  # until the ordering wait is over
    assert second.id != first.id and second.notification_id == nid


async def test_the_breaker_opens_after_failures_in_a_row_and_lets_one_probe_through(
    own_database: tuple[str, AsyncEngine], box: SecretBox
) -> None:
    _, engine = own_database
    tenant = await make_tenant(engine, box, None)
    endpoint = await _endpoint(engine, tenant, ["*"])
    await _add_due(engine, tenant, endpoint, 10, age=60)
    for d in await _claim(engine):  # four in flight: the third failure in a row opens it
        await _fail(engine, d, retry_in=0)
    assert await _breaker(engine, tenant, endpoint) == "open"
    assert await _claim(engine) == []  # though ten are due
    async with UnitOfWork(engine) as uow:  # wanotify_webhook_breakers_open counts it
        assert await uow.webhooks.unhealthy_counts() == (0, 1)
    await _cool_down(engine, endpoint)
    assert await _breaker(engine, tenant, endpoint) == "half_open"
    [probe] = await _claim(engine)  # one, not the cap of four
    await _fail(engine, probe)
    assert await _breaker(engine, tenant, endpoint) == "open"  # a failed probe opens it again
    await _cool_down(engine, endpoint)
    [probe] = await _claim(engine)
    async with UnitOfWork(engine) as uow:
        await uow.webhooks.record_attempt(
            probe, AttemptOutcome(5, status_code=204), next_attempt_at=None, health=RULES
        )
        await uow.commit()
    assert await _breaker(engine, tenant, endpoint) == "closed"
    assert len(await _claim(engine)) == 4  # the cap again


async def test_concurrent_claims_never_take_the_same_delivery(
    own_database: tuple[str, AsyncEngine], box: SecretBox
) -> None:
    _, engine = own_database
    tenant = await make_tenant(engine, box, None)
    endpoint = await _endpoint(engine, tenant, ["*"])
    await _add_due(engine, tenant, endpoint, 20, age=60)
    async with UnitOfWork(engine) as one_worker:  # still claiming: its transaction is open
        taken = await one_worker.webhooks.claim_due(
            limit=4, per_endpoint=4, claim_seconds=60, ordering_wait_seconds=300
        )
        other_worker = await _claim(engine)  # skips the rows the first holds
        await one_worker.commit()
    assert len(taken) == 4 and other_worker
    assert not {d.id for d in taken} & {d.id for d in other_worker}
    assert await _claim(engine) == []  # once both committed, the endpoint is over its cap
