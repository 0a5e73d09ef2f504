"""Unit of work: one connection, one transaction, the repositories bound to it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from wanotify.common.db.idempotency import IdempotencyRepository
from wanotify.common.db.notifications import NotificationRepository
from wanotify.common.db.opt_outs import OptOutRepository
from wanotify.common.db.templates import TemplateRepository
from wanotify.common.db.tenants import SenderRepository, TenantRepository
from wanotify.common.db.windows import WindowRepository


class UnitOfWork:
    notifications: NotificationRepository
    tenants: TenantRepository
    senders: SenderRepository
    idempotency: IdempotencyRepository
    templates: TemplateRepository
    windows: WindowRepository
    opt_outs: OptOutRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self._engine.connect()
        self._tx = await self._conn.begin()
        self.notifications = NotificationRepository(self._conn)
        self.tenants = TenantRepository(self._conn)
        self.senders = SenderRepository(self._conn)
        self.idempotency = IdempotencyRepository(self._conn)
        self.templates = TemplateRepository(self._conn)
        self.windows = WindowRepository(self._conn)
        self.opt_outs = OptOutRepository(self._conn)
        return self

    @property
    def connection(self) -> AsyncConnection:
        assert self._conn is not None
        return self._conn

    async def commit(self) -> None:
        assert self._tx is not None
        await self._tx.commit()

    async def rollback(self) -> None:
        assert self._tx is not None
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
