"""Unit of work: one connection, one transaction, the repositories bound to it, and the outbox.

The outbox is the one place that publishes notifications to the send queue after their rows
change: a transition that makes rows due stages them (``publish=True``, or
:meth:`UnitOfWork.stage` for rows made due otherwise), and :meth:`UnitOfWork.commit`
enqueues them in the same transaction (the PostgreSQL queue: a true transactional outbox) or, for
SQS, once the connection is back in the pool. A publish that fails leaves ``enqueued_at`` empty
and the scheduler's relay publishes the row again; :attr:`UnitOfWork.published` says which went out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from wanotify.common.db.api_keys import ApiKeyRepository
from wanotify.common.db.client_events import ClientEvents
from wanotify.common.db.idempotency import IdempotencyRepository
from wanotify.common.db.notifications import NotificationRepository
from wanotify.common.db.opt_outs import OptOutRepository
from wanotify.common.db.senders import SenderRepository
from wanotify.common.db.templates import TemplateRepository
from wanotify.common.db.tenants import TenantRepository
from wanotify.common.db.webhooks import WebhookRepository
from wanotify.common.db.windows import WindowRepository
from wanotify.common.domain.notification import Notification

if TYPE_CHECKING:
    from wanotify.common.publisher import Publisher


class UnitOfWork:
    notifications: NotificationRepository
    tenants: TenantRepository
    api_keys: ApiKeyRepository
    senders: SenderRepository
    idempotency: IdempotencyRepository
    templates: TemplateRepository
    windows: WindowRepository
    opt_outs: OptOutRepository
    webhooks: WebhookRepository
    client_events: ClientEvents

    def __init__(self, engine: AsyncEngine, publisher: Publisher | None = None) -> None:
        self._engine = engine
        self._publisher = publisher
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None
        self._staged: list[Notification] = []
        self._stored_trace = False
        self._after_commit: list[Notification] = []
        # The ids the outbox published (or enqueued in the transaction), once the block has ended.
        self.published: list[str] = []

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self._engine.connect()
        self._tx = await self._conn.begin()
        self.notifications = NotificationRepository(self._conn, stage=self.stage)
        self.tenants = TenantRepository(self._conn)
        self.api_keys = ApiKeyRepository(self._conn)
        self.senders = SenderRepository(self._conn)
        self.idempotency = IdempotencyRepository(self._conn)
        self.templates = TemplateRepository(self._conn)
        self.windows = WindowRepository(self._conn)
        self.opt_outs = OptOutRepository(self._conn)
        self.webhooks = WebhookRepository(self._conn)
        self.client_events = ClientEvents(self._conn)
        return self

    @property
    def connection(self) -> AsyncConnection:
        assert self._conn is not None
        return self._conn

    def publishing_to(self, publisher: Publisher) -> UnitOfWork:
        """This unit of work, with ``publisher`` as its outbox's (before it is entered)."""
        self._publisher = publisher
        return self

    def stage(self, items: Sequence[Notification], *, use_stored_trace: bool = False) -> None:
        """Publish these (due) notifications when this unit of work commits. ``use_stored_trace``
        links each message to the trace that accepted it rather than the current one (relays)."""
        if items and self._publisher is None:
            raise RuntimeError("this unit of work has no publisher: build it with one to stage messages")
        self._staged.extend(items)
        self._stored_trace = self._stored_trace or use_stored_trace
        self.published = []

    async def commit(self) -> None:
        assert self._tx is not None
        staged, self._staged = self._staged, []
        in_transaction = False
        if staged and self._publisher is not None:
            in_transaction = await self._publisher.publish_in(
                self.connection, staged, use_stored_trace=self._stored_trace
            )
        await self._tx.commit()
        if in_transaction:
            self.published = [n.id for n in staged]
        else:
            self._after_commit.extend(staged)

    async def rollback(self) -> None:
        assert self._tx is not None
        self._staged = []  # nothing the rolled-back work made due is published
        await self._tx.rollback()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._conn is not None
        assert self._tx is not None
        try:
            if self._tx.is_active:
                await self._tx.rollback()
        finally:
            await self._conn.close()
        pending, self._after_commit = self._after_commit, []
        if pending and self._publisher is not None:
            self.published = await self._publisher.publish(pending, use_stored_trace=self._stored_trace)


def with_outbox(uow: Callable[[], UnitOfWork], publisher: Publisher) -> Callable[[], UnitOfWork]:
    """A unit-of-work factory whose units of work publish what they stage through ``publisher``."""
    return lambda: uow().publishing_to(publisher)
