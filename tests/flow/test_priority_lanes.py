"""Priority lanes end to end: a burst of high behind a backlog of low is served first, and low still
progresses while high is waiting (weighted polling, not strict priority).

The worker is the real one (``serve_worker``) on a database of its own, so no other test's worker
shares its lanes, with a small concurrency so the order of service is visible in ``sent_at``.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.builders import notification
from tests.support.processes import eventually
from tests.support.world import TenantFixture, make_tenant
from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.schema import notifications, senders
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.notification import NewNotification
from wanotify.common.domain.status import Status
from wanotify.common.publisher import Publisher
from wanotify.common.queue.factory import create_queue
from wanotify.common.queue.postgres import PostgresQueue
from wanotify.worker.main import serve_worker

LOW_BACKLOG = 200
HIGH_BURST = 40


def _rows(tenant: TenantFixture, priority: str, count: int) -> list[NewNotification]:
    prefix = f"+1{secrets.randbelow(900) + 100}"
    # One recipient each: per-recipient pacing must not be what orders the sends.
    return [
        notification(tenant, recipient_phone=f"{prefix}{i:07d}", priority=priority, event_type="lanes")
        for i in range(count)
    ]


async def _accept(engine: AsyncEngine, publisher: Publisher, items: list[NewNotification]) -> None:
    """As the API does: rows and their queue messages in one transaction (the PostgreSQL outbox)."""
    async with UnitOfWork(engine) as uow:
        added = await uow.notifications.add_many(items)
        assert await publisher.publish_in(uow.connection, added)
        await uow.commit()


async def _sent_at(engine: AsyncEngine, priority: str) -> list[datetime | None]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(notifications.c.sent_at).where(notifications.c.priority == priority))
        return [r.sent_at for r in rows]


async def test_a_high_burst_overtakes_a_low_backlog_and_low_still_progresses(
    own_database: tuple[str, AsyncEngine], settings: Settings, box: SecretBox, sandbox_url: str
) -> None:
    url, engine = own_database
    tenant = await make_tenant(engine, box, sandbox_url)
    async with engine.begin() as conn:  # Meta's throughput cap must not be the bottleneck either
        await conn.execute(
            update(senders).where(senders.c.id == tenant.sender_id).values(throughput_mps=1000)
        )

    queue = create_queue(settings.queue, engine)
    publisher = Publisher(queue, engine)
    await _accept(engine, publisher, _rows(tenant, "low", LOW_BACKLOG))
    await _accept(engine, publisher, _rows(tenant, "high", HIGH_BURST))
    assert {k: d.visible for k, d in (await queue.lane_depths()).items()} == {
        "high": HIGH_BURST,
        "normal": 0,
        "low": LOW_BACKLOG,
    }
    await queue.close()

    own = msgspec.structs.replace(
        settings,
        database_url=url,
        worker=msgspec.structs.replace(settings.worker, concurrency=4, batch_size=4),
        pacing=msgspec.structs.replace(settings.pacing, anti_spam_per_hour=0, anti_spam_per_day=0),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve_worker(own, stop))
    try:

        async def high_sent() -> int:
            return sum(1 for s in await _sent_at(engine, "high") if s is not None)

        await eventually(high_sent, lambda n: n == HIGH_BURST, timeout=60, what="every high to be sent")
    finally:
        stop.set()
        await task

    high = [s for s in await _sent_at(engine, "high") if s is not None]
    low = [s for s in await _sent_at(engine, "low") if s is not None]
    last_high = max(high)
    low_before_last_high = sum(1 for s in low if s < last_high)
    # First-in-first-out (one lane) would send all 200 low before the last high; strict priority
    # would send none. Weighted polling (6/3/1, normal empty) gives low about one cycle in ten.
    assert low_before_last_high >= 1, "low made no progress while high was waiting"
    assert low_before_last_high < HIGH_BURST, f"{low_before_last_high} low were sent before the last high"


async def test_due_work_scans_take_high_before_older_low(
    own_database: tuple[str, AsyncEngine], box: SecretBox
) -> None:
    """Release of due scheduled rows and the outbox relay take high first under a backlog, even when
    the low rows have been due for longer."""
    _, engine = own_database
    tenant = await make_tenant(engine, box, None)
    now = datetime.now(UTC)
    scheduled = [
        msgspec.structs.replace(n, status=Status.SCHEDULED, next_attempt_at=now - timedelta(minutes=10))
        for n in _rows(tenant, "low", 5)
    ] + [
        msgspec.structs.replace(n, status=Status.SCHEDULED, next_attempt_at=now - timedelta(minutes=1))
        for n in _rows(tenant, "high", 3)
    ]
    unpublished = _rows(tenant, "low", 5) + _rows(tenant, "normal", 2) + _rows(tenant, "high", 2)
    async with UnitOfWork(engine) as uow:
        await uow.notifications.add_many(scheduled + unpublished)
        await uow.commit()

    queue = PostgresQueue(engine, "scan-order", visibility_timeout=30)
    async with UnitOfWork(engine, Publisher(queue, engine)) as uow:
        released = await uow.notifications.release_due_scheduled(4)
        await uow.commit()
    assert sorted(n.priority for n in released) == ["high", "high", "high", "low"]
    assert sorted(uow.published) == sorted(n.id for n in released)
    await queue.close()

    async with UnitOfWork(engine) as uow:
        relayed = await uow.notifications.claim_unpublished(grace_seconds=0, horizon_seconds=900, limit=3)
        await uow.commit()
    assert sorted(n.priority for n in relayed) == ["high", "high", "normal"]
