"""The outbox of the unit of work: what is staged is published once the transaction commits, in
it (PostgreSQL queue) or right after it (SQS); nothing is published for a rollback; a failed
publish leaves the row to the relay (``enqueued_at`` stays empty)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.builders import stored_notification
from tests.support.world import TenantFixture
from wanotify.common.db.schema import notifications
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.status import Status
from wanotify.common.ids import new_id
from wanotify.common.publisher import Publisher, QueueJob
from wanotify.common.queue.base import Queue
from wanotify.common.queue.postgres import PostgresQueue
from wanotify.common.queue.sqs import SqsQueue


async def enqueued_at(engine: AsyncEngine, nid: str) -> object:
    async with engine.connect() as conn:
        return await conn.scalar(select(notifications.c.enqueued_at).where(notifications.c.id == nid))


async def drained(queue: Queue) -> list[str]:
    messages = await queue.receive(10, 1)
    return [msgspec.json.decode(m.body, type=QueueJob).notification_id for m in messages]


@pytest.fixture(params=["postgres", "sqs"])
def queue(request: pytest.FixtureRequest, engine: AsyncEngine) -> Queue:
    if request.param == "postgres":
        return PostgresQueue(engine, f"outbox-{new_id('q')}", visibility_timeout=30)
    url: str = request.getfixturevalue("sqs_queue_url")
    return SqsQueue(url, region="us-east-1", endpoint_url=request.getfixturevalue("moto_endpoint"))


async def test_what_is_staged_is_published_after_the_commit(
    engine: AsyncEngine, tenant: TenantFixture, queue: Queue
) -> None:
    nid = await stored_notification(engine, tenant, status=Status.QUEUED)
    async with UnitOfWork(engine, Publisher(queue, engine)) as uow:
        n = await uow.notifications.get(nid)
        assert n is not None
        uow.stage([n])
        await uow.commit()
    assert uow.published == [nid]
    assert await drained(queue) == [nid]
    assert await enqueued_at(engine, nid) is not None
    await queue.close()


async def test_nothing_is_published_when_the_transaction_rolls_back(
    engine: AsyncEngine, tenant: TenantFixture, queue: Queue
) -> None:
    # Due tomorrow: the session's relay (a scheduler in this process) must not publish it meanwhile.
    later = datetime.now(UTC) + timedelta(days=1)
    nid = await stored_notification(engine, tenant, status=Status.QUEUED, next_attempt_at=later)
    async with UnitOfWork(engine, Publisher(queue, engine)) as uow:
        n = await uow.notifications.get(nid)
        assert n is not None
        uow.stage([n])
        await uow.rollback()  # the request failed before its commit
    assert uow.published == []
    assert await drained(queue) == []
    assert await enqueued_at(engine, nid) is None
    await queue.close()


async def test_a_failed_publish_leaves_the_row_to_the_relay(
    engine: AsyncEngine, tenant: TenantFixture, moto_endpoint: str
) -> None:
    missing = SqsQueue(
        f"{moto_endpoint}/123456789012/no-such-queue", region="us-east-1", endpoint_url=moto_endpoint
    )
    nid = await stored_notification(engine, tenant, status=Status.QUEUED)
    async with UnitOfWork(engine, Publisher(missing, engine)) as uow:
        n = await uow.notifications.get(nid)
        assert n is not None
        uow.stage([n])
        await uow.commit()
    assert uow.published == []
    assert await enqueued_at(engine, nid) is None  # the relay's signal
    await missing.close()


async def test_staging_needs_a_publisher(engine: AsyncEngine, tenant: TenantFixture) -> None:
    nid = await stored_notification(engine, tenant, status=Status.QUEUED)
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(nid)
        assert n is not None
        with pytest.raises(RuntimeError, match="no publisher"):
            uow.stage([n])
