"""The scheduler's jobs on the real database and queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.flow.conftest import wait_status
from tests.support.builders import stored_notification
from tests.support.world import TenantFixture, order_request
from wanotify.cli.embedded import free_port
from wanotify.common.db.schema import notifications
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.status import Status
from wanotify.common.ids import new_id
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher
from wanotify.common.queue.postgres import PostgresQueue
from wanotify.common.queue.sqs import SqsQueue
from wanotify.scheduler.jobs import SchedulerJobs

Client = AsyncTestClient[Any]


def _jobs(engine: AsyncEngine, queue: Any) -> SchedulerJobs:
    return SchedulerJobs(
        lambda: UnitOfWork(engine),
        Publisher(queue, engine),
        Metrics("scheduler"),
        batch_size=100,
        outbox_grace_seconds=0.0,
        stale_claim_seconds=0.0,
    )


async def _unpublished(engine: AsyncEngine, tenant: TenantFixture) -> str:
    """A queued row whose publish never happened (as if the API died right after commit)."""
    return await stored_notification(engine, tenant, status=Status.QUEUED)


async def _messages_for(engine: AsyncEngine, queue: str, nid: str) -> int:
    async with engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    text("SELECT count(*) FROM queue_messages WHERE queue = :q AND body LIKE :id"),
                    {"q": queue, "id": f"%{nid}%"},
                )
            ).scalar_one()
        )


async def test_outbox_relay_publishes_rows_whose_publish_was_lost(
    engine: AsyncEngine, tenant: TenantFixture
) -> None:
    queue = PostgresQueue(engine, f"relay-{new_id('q')}", visibility_timeout=5)
    nid = await _unpublished(engine, tenant)
    assert await _jobs(engine, queue).relay_outbox() >= 1
    assert await _messages_for(engine, queue.name, nid) == 1
    # Stamped: the next pass does not publish it again.
    await _jobs(engine, queue).relay_outbox()
    assert await _messages_for(engine, queue.name, nid) == 1


async def test_outbox_relay_leaves_rows_for_later_when_the_queue_is_down(
    engine: AsyncEngine, tenant: TenantFixture
) -> None:
    dead = SqsQueue(
        f"http://127.0.0.1:{free_port()}/123456789012/gone",
        region="us-east-1",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
    )
    nid = await _unpublished(engine, tenant)
    await _jobs(engine, dead).relay_outbox()
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(nid)
    assert n is not None
    async with engine.connect() as conn:
        enqueued = (
            await conn.execute(text("SELECT enqueued_at FROM notifications WHERE id=:i"), {"i": nid})
        ).scalar()
    assert enqueued is None, "a failed publish must leave the row for the next relay pass"
    await dead.close()


async def test_due_scheduled_notifications_are_released(
    api: Client, tenant: TenantFixture, engine: AsyncEngine
) -> None:
    queue = PostgresQueue(engine, f"sched-{new_id('q')}", visibility_timeout=5)
    when = datetime.now(UTC) + timedelta(hours=1)
    nid = (
        await api.post(
            "/v1/notifications", json=order_request(scheduled_for=when.isoformat()), headers=tenant.auth
        )
    ).json()["id"]
    jobs = _jobs(engine, queue)
    await jobs.release_due()
    assert (await wait_status(engine, nid, {"scheduled"})).status is Status.SCHEDULED
    async with engine.begin() as conn:  # time passes
        await conn.execute(
            update(notifications)
            .where(notifications.c.id == nid)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await jobs.release_due() >= 1
    assert (await wait_status(engine, nid, {"queued"})).status is Status.QUEUED
    assert await _messages_for(engine, queue.name, nid) == 1


async def test_lapsed_claims_are_requeued(engine: AsyncEngine, tenant: TenantFixture) -> None:
    queue = PostgresQueue(engine, f"stale-{new_id('q')}", visibility_timeout=5)
    nid = await _unpublished(engine, tenant)
    async with UnitOfWork(engine) as uow:
        claimed = await uow.notifications.claim(nid, 0.0)
        await uow.commit()
    assert claimed is not None
    jobs = _jobs(engine, queue)
    assert await jobs.recover_stale_claims() >= 1
    assert (await wait_status(engine, nid, {"queued"})).status is Status.QUEUED
    await jobs.relay_outbox()
    assert await _messages_for(engine, queue.name, nid) == 1


async def test_scheduled_notification_is_sent_when_due(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, scheduler: None
) -> None:
    when = datetime.now(UTC) + timedelta(seconds=2)
    r = await api.post(
        "/v1/notifications", json=order_request(scheduled_for=when.isoformat()), headers=tenant.auth
    )
    assert r.json()["status"] == "scheduled"
    n = await wait_status(engine, r.json()["id"], {"sent", "delivered", "read"})
    assert n.sent_at is not None and n.sent_at >= when - timedelta(seconds=1)


async def test_a_wait_beyond_the_queues_maximum_delay_is_held_in_the_database_until_near(
    engine: AsyncEngine, tenant: TenantFixture
) -> None:
    """SQS delays at most 15 minutes: a notification paced 40 minutes out stays unpublished in the
    database, and the relay publishes it once its slot comes within the queue's reach."""
    queue = PostgresQueue(engine, f"horizon-{new_id('q')}", visibility_timeout=5)
    nid = await stored_notification(engine, tenant, status=Status.RATE_LIMITED)

    async def wait_until(delta: timedelta) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                update(notifications)
                .where(notifications.c.id == nid)
                .values(next_attempt_at=datetime.now(UTC) + delta, enqueued_at=None)
            )

    await wait_until(timedelta(minutes=40))
    await _jobs(engine, queue).relay_outbox()
    assert await _messages_for(engine, queue.name, nid) == 0, "published 40 minutes early"
    # Time passes: the slot is now 10 minutes away, within SQS's 15.
    await wait_until(timedelta(minutes=10))
    await _jobs(engine, queue).relay_outbox()
    assert await _messages_for(engine, queue.name, nid) == 1
    async with engine.connect() as conn:
        visible_in = (
            await conn.execute(
                text("SELECT extract(epoch FROM visible_at - now()) FROM queue_messages WHERE queue = :q"),
                {"q": queue.name},
            )
        ).scalar_one()
    # Delayed to arrive just before its slot (up to a second early), not released at once.
    assert 590 <= float(visible_in) <= 600
