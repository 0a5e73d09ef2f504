"""A tenant's opt-outs: recipients who must not be messaged (from the API, or a STOP reply)."""

from __future__ import annotations

from collections.abc import Callable

from wanotify.api.opt_outs.schemas import OptOutIn, OptOutList, OptOutOut
from wanotify.common.clock import iso
from wanotify.common.db.opt_outs import OptOut
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.errors import NotFound
from wanotify.common.domain.notification import Principal


def _out(o: OptOut) -> OptOutOut:
    return OptOutOut(o.recipient_phone, o.source, o.reason, iso(o.created_at))


class OptOutService:
    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow

    async def page(self, principal: Principal, *, limit: int, after: str | None) -> OptOutList:
        async with self._uow() as u:
            found = await u.opt_outs.page(principal.tenant_id, limit=limit, after=after)
        next_after = found[-1].recipient_phone if len(found) == limit else None
        return OptOutList([_out(o) for o in found], next_after)

    async def add(self, principal: Principal, body: OptOutIn) -> tuple[OptOutOut, bool]:
        """The opt-out and whether it is new (an existing one is kept as it was)."""
        async with self._uow() as u:
            opt_out, created = await u.opt_outs.add(
                principal.tenant_id, body.phone_number, source="api", reason=body.reason
            )
            await u.commit()
        return _out(opt_out), created

    async def remove(self, principal: Principal, phone: str) -> None:
        async with self._uow() as u:
            removed = await u.opt_outs.remove(principal.tenant_id, phone)
            await u.commit()
        if not removed:
            raise NotFound(f"{phone} has not opted out", field="phone_number")
