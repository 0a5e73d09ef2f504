"""``NotificationRepository.transition``: the state machine checked, the row and its log row
written together, a row that moved on left alone, and what it publishes staged on the outbox."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.builders import stored_notification
from tests.support.world import TenantFixture
from wanotify.common.db.delivery_log import Change
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.status import IllegalTransition, Status
from wanotify.common.ids import new_id
from wanotify.common.publisher import Publisher, QueueJob
from wanotify.common.queue.postgres import PostgresQueue

CANCEL = Change(event="canceled", source="api")


async def _events(engine: AsyncEngine, nid: str) -> list[tuple[str, str]]:
    async with UnitOfWork(engine) as uow:
        return [(h["event"], h["status"]) for h in await uow.notifications.history(nid)]


async def test_a_transition_writes_the_row_and_one_log_row(
    engine: AsyncEngine, tenant: TenantFixture
) -> None:
    nid = await stored_notification(engine, tenant, status=Status.QUEUED)
    async with UnitOfWork(engine) as uow:
        moved = await uow.notifications.transition(nid, Status.CANCELED, CANCEL, sources=(Status.QUEUED,))
        await uow.commit()
    assert moved is not None and moved.status is Status.CANCELED
    assert await _events(engine, nid) == [("accepted", "queued"), ("canceled", "canceled")]


async def test_a_row_that_moved_on_is_left_alone_and_logs_nothing(
    engine: AsyncEngine, tenant: TenantFixture
) -> None:
    nid = await stored_notification(engine, tenant, status=Status.QUEUED)
    async with UnitOfWork(engine) as uow:
        stale = await uow.notifications.get(nid)
        assert stale is not None
        assert await uow.notifications.claim(nid, claim_seconds=30) is not None
        # The caller's copy says queued at attempt 0; the row is processing at attempt 1.
        assert await uow.notifications.transition(stale, Status.CANCELED, CANCEL) is None
        await uow.commit()
    assert await _events(engine, nid) == [("accepted", "queued"), ("claimed", "processing")]


async def test_a_move_the_machine_lacks_raises_before_any_write(
    engine: AsyncEngine, tenant: TenantFixture
) -> None:
    nid = await stored_notification(engine, tenant, status=Status.QUEUED)
    async with UnitOfWork(engine) as uow:
        n = await uow.notifications.get(nid)
        assert n is not None
        with pytest.raises(IllegalTransition):
            await uow.notifications.transition(n, Status.SCHEDULED, Change(event="back", source="test"))
    async with UnitOfWork(engine) as uow:
        still = await uow.notifications.get(nid)
    assert still is not None and still.status is Status.QUEUED


async def test_a_published_transition_goes_out_with_the_commit_and_not_with_a_rollback(
    engine: AsyncEngine, tenant: TenantFixture
) -> None:
    queue = PostgresQueue(engine, f"transitions-{new_id('q')}", visibility_timeout=30)
    replayed = Change(event="replayed", source="test")
    kept = await stored_notification(engine, tenant, status=Status.FAILED)
    dropped = await stored_notification(engine, tenant, status=Status.FAILED)
    async with UnitOfWork(engine, Publisher(queue, engine)) as uow:
        await uow.notifications.transition(
            dropped, Status.QUEUED, replayed, sources=(Status.FAILED,), publish=True
        )
        await uow.rollback()
    async with UnitOfWork(engine, Publisher(queue, engine)) as uow:
        await uow.notifications.transition(
            kept, Status.QUEUED, replayed, sources=(Status.FAILED,), publish=True
        )
        await uow.commit()
    assert uow.published == [kept]
    messages = await queue.receive(10, 1)
    assert [msgspec.json.decode(m.body, type=QueueJob).notification_id for m in messages] == [kept]
    assert await _events(engine, dropped) == [("accepted", "failed")]
    await queue.close()


async def test_publishing_needs_an_outbox(engine: AsyncEngine, tenant: TenantFixture) -> None:
    nid = await stored_notification(engine, tenant, status=Status.FAILED)
    async with UnitOfWork(engine) as uow:
        with pytest.raises(RuntimeError, match="publisher"):
            await uow.notifications.transition(
                nid,
                Status.QUEUED,
                Change(event="replayed", source="test"),
                sources=(Status.FAILED,),
                publish=True,
            )
