"""Listing and replaying a tenant's failed notifications.

Failed notifications are the dead-letter set (poison messages from SQS's DLQ are folded back into
it by the scheduler). A replay sends them again as new attempts: ``queued``, ``max_attempts =
attempt + the tenant's attempts for the priority``, the error cleared, a ``replayed`` log row.
"""

from __future__ import annotations

from collections.abc import Callable

from wanotify.api.dead_letters.schemas import MAX_REPLAY, DeadLetterPage, FilterIn, ReplayIn, ReplayOut
from wanotify.api.notifications.service import view_of
from wanotify.api.paging import decode_cursor, encode_cursor
from wanotify.common.db.dead_letter_filter import DeadLetterFilter
from wanotify.common.db.uow import UnitOfWork, with_outbox
from wanotify.common.domain.errors import Unprocessable
from wanotify.common.domain.notification import Principal
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher


def _filter(f: FilterIn) -> DeadLetterFilter:
    return DeadLetterFilter(error_code=f.error_code, event_type=f.event_type, since=f.since, until=f.until)


class DeadLetterService:
    def __init__(
        self, uow: Callable[[], UnitOfWork], publisher: Publisher, metrics: Metrics, *, max_attempts: int
    ) -> None:
        self._uow = with_outbox(uow, publisher)
        self._metrics = metrics
        self._max_attempts = max_attempts

    async def list(
        self, principal: Principal, flt: FilterIn, *, limit: int, cursor: str | None
    ) -> DeadLetterPage:
        after = decode_cursor(cursor) if cursor else None
        async with self._uow() as uow:
            rows = await uow.notifications.dead_letters(
                principal.tenant_id, _filter(flt), limit=limit + 1, after=after
            )
        page = rows[:limit]
        last = page[-1] if page else None
        more = len(rows) > limit and last is not None and last.failed_at is not None
        next_cursor = encode_cursor(last.failed_at, last.id) if more and last and last.failed_at else None
        return DeadLetterPage([view_of(n) for n in page], next_cursor)

    async def replay(self, principal: Principal, req: ReplayIn) -> ReplayOut:
        if (req.ids is None) == (req.filter is None):
            raise Unprocessable("Give exactly one of ids or filter", field="ids", code="INVALID_COMBINATION")
        async with self._uow() as uow:
            policy = await uow.tenants.policy(principal.tenant_id)
            replayed = await uow.notifications.replay(
                principal.tenant_id,
                ids=req.ids,
                flt=_filter(req.filter) if req.filter is not None else None,
                attempts=policy.max_attempts,
                default_attempts=self._max_attempts,
                limit=MAX_REPLAY,
            )
            await uow.commit()
        self._metrics.transitions.labels("queued").inc(len(replayed))
        ids = [n.id for n in replayed]
        done = set(ids)
        return ReplayOut(len(ids), ids, [i for i in (req.ids or []) if i not in done])
