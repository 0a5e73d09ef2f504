"""Notifications and their delivery log. Every transition is one conditional UPDATE plus one log row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import and_, case, func, insert, or_, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.db.rows import convert, row_dict
from wanotify.common.db.schema import delivery_log, notifications
from wanotify.common.domain.notification import NewNotification, Notification
from wanotify.common.domain.priority import PRIORITY_ORDER, Priority
from wanotify.common.domain.status import CLAIMABLE, Status

_n = notifications


def _seconds(value: float) -> Any:
    return func.make_interval(0, 0, 0, 0, 0, 0, float(value))


def _priority_rank() -> Any:
    """High before normal before low in the scheduler's due-work scans (unknown ranks as normal)."""
    return case(
        {p.value: rank for rank, p in enumerate(PRIORITY_ORDER)},
        value=_n.c.priority,
        else_=PRIORITY_ORDER.index(Priority.NORMAL),
    )


def to_notification(row: Row[Any]) -> Notification:
    return convert(row, Notification)


class NotificationRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # --- writes from the API -------------------------------------------------------------
    async def add_many(self, items: Sequence[NewNotification]) -> list[Notification]:
        if not items:
            return []
        rows = [
            {
                **{f: getattr(item, f) for f in item.__struct_fields__ if f != "message"},
                "status": item.status.value,
                "message": msgspec.to_builtins(item.message),
            }
            for item in items
        ]
        result = await self._conn.execute(insert(_n).returning(*_n.c), rows)
        created = [to_notification(r) for r in result.all()]
        await self.log_many(
            [
                {"notification_id": n.id, "event": "accepted", "status": n.status.value, "source": "api"}
                for n in created
            ]
        )
        return created

    async def get(self, notification_id: str, tenant_id: str | None = None) -> Notification | None:
        stmt = select(_n).where(_n.c.id == notification_id)
        if tenant_id is not None:
            stmt = stmt.where(_n.c.tenant_id == tenant_id)
        row = (await self._conn.execute(stmt)).first()
        return to_notification(row) if row else None

    async def page(
        self,
        tenant_id: str,
        *,
        statuses: Sequence[Status] = (),
        event_type: str | None = None,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> list[Notification]:
        """The tenant's notifications newest first by ``(created_at, id)``, on the tenant's
        ``created_at`` index; ``after`` is the last row of the previous page (keyset, no OFFSET)."""
        stmt = select(_n).where(_n.c.tenant_id == tenant_id)
        if statuses:
            stmt = stmt.where(_n.c.status.in_([s.value for s in statuses]))
        if event_type is not None:
            stmt = stmt.where(_n.c.event_type == event_type)
        if after is not None:
            at, last_id = after
            stmt = stmt.where(or_(_n.c.created_at < at, and_(_n.c.created_at == at, _n.c.id < last_id)))
        stmt = stmt.order_by(_n.c.created_at.desc(), _n.c.id.desc()).limit(limit)
        return [to_notification(r) for r in (await self._conn.execute(stmt)).all()]

    async def mark_enqueued(self, ids: Sequence[str]) -> None:
        if ids:
            await self._conn.execute(
                update(_n).where(_n.c.id.in_(ids), _n.c.enqueued_at.is_(None)).values(enqueued_at=func.now())
            )

    # --- worker ----------------------------------------------------------------------------
    async def claim(self, notification_id: str, claim_seconds: float) -> Notification | None:
        """``queued|rate_limited → processing`` (or a `processing` row whose claim expired).

        Returns None when another worker owns it or it is already past dispatch: a redelivered
        queue message is then a no-op.
        """
        stmt = (
            update(_n)
            .where(
                _n.c.id == notification_id,
                or_(
                    _n.c.status.in_([s.value for s in CLAIMABLE]),
                    and_(_n.c.status == Status.PROCESSING.value, _n.c.claim_expires_at < func.now()),
                ),
                or_(
                    _n.c.next_attempt_at.is_(None),
                    # Messages are published to arrive up to a second early (see publisher); the
                    # second second absorbs clock skew between workers and the database.
                    _n.c.next_attempt_at <= func.now() + text("interval '2 seconds'"),
                ),
            )
            .values(
                status=Status.PROCESSING.value,
                attempt=_n.c.attempt + 1,
                claim_expires_at=func.now() + _seconds(claim_seconds),
                updated_at=func.now(),
            )
            .returning(*_n.c)
        )
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        claimed = to_notification(row)
        await self.log(claimed.id, "claimed", Status.PROCESSING, source="worker", attempt=claimed.attempt)
        return claimed

    async def record_sent(self, n: Notification, wamid: str, detail: dict[str, Any]) -> bool:
        """Store Meta's acceptance. A status webhook may have moved the row on already: never go back."""
        stmt = (
            update(_n)
            .where(_n.c.id == n.id, _n.c.attempt == n.attempt, _n.c.status.notin_([Status.FAILED.value]))
            .values(
                status=func.coalesce(func.nullif(_n.c.status, Status.PROCESSING.value), Status.SENT.value),
                whatsapp_message_id=func.coalesce(_n.c.whatsapp_message_id, wamid),
                sent_at=func.coalesce(_n.c.sent_at, func.now()),
                claim_expires_at=None,
                error_code=None,
                error_message=None,
                error_retryable=None,
                updated_at=func.now(),
            )
            .returning(_n.c.id)
        )
        updated = (await self._conn.execute(stmt)).first() is not None
        await self.log(
            n.id, "sent", Status.SENT, source="worker", attempt=n.attempt, wamid=wamid, detail=detail
        )
        return updated

    async def record_failed(
        self, n: Notification, *, code: str, message: str, retryable: bool, source: str = "worker"
    ) -> bool:
        stmt = (
            update(_n)
            .where(_n.c.id == n.id, _n.c.status == Status.PROCESSING.value, _n.c.attempt == n.attempt)
            .values(
                status=Status.FAILED.value,
                failed_at=func.now(),
                claim_expires_at=None,
                error_code=code,
                error_message=message,
                error_retryable=retryable,
                updated_at=func.now(),
            )
            .returning(_n.c.id)
        )
        updated = (await self._conn.execute(stmt)).first() is not None
        await self.log(
            n.id,
            "failed",
            Status.FAILED,
            source=source,
            attempt=n.attempt,
            error_code=code,
            error_message=message,
        )
        return updated

    async def back_to_waiting(
        self,
        n: Notification,
        *,
        from_status: Status,
        to_status: Status,
        next_attempt_at: datetime,
        give_back_attempt: bool = False,
        **values: Any,
    ) -> bool:
        """The one "wait and try again later" transition: ``from_status → to_status`` (still at the
        same attempt) with ``next_attempt_at`` set, the claim released and no queue message
        recorded, so the outbox relay (or the caller) publishes it again. ``values`` are further
        columns to set (error fields, a cleared wamid). False when the row had moved on."""
        stmt = (
            update(_n)
            .where(_n.c.id == n.id, _n.c.status == from_status.value, _n.c.attempt == n.attempt)
            .values(
                status=to_status.value,
                next_attempt_at=next_attempt_at,
                enqueued_at=None,
                claim_expires_at=None,
                updated_at=func.now(),
                **({"attempt": _n.c.attempt - 1} if give_back_attempt else {}),
                **values,
            )
            .returning(_n.c.id)
        )
        return (await self._conn.execute(stmt)).first() is not None

    async def record_retry(
        self, n: Notification, *, next_attempt_at: datetime, code: str, message: str
    ) -> bool:
        """Back to ``queued`` for a later attempt; the outbox relay republishes it if we die now."""
        updated = await self.back_to_waiting(
            n,
            from_status=Status.PROCESSING,
            to_status=Status.QUEUED,
            next_attempt_at=next_attempt_at,
            error_code=code,
            error_message=message,
            error_retryable=True,
        )
        await self.log(
            n.id,
            "retry_scheduled",
            Status.QUEUED,
            source="worker",
            attempt=n.attempt,
            error_code=code,
            error_message=message,
            detail={"next_attempt_at": next_attempt_at.isoformat()},
        )
        return updated

    # --- receiver --------------------------------------------------------------------------
    async def lock_for_status(self, wamid: str, callback_id: str | None) -> Notification | None:
        """Find the notification a Meta status speaks of: by wamid, else by our callback id."""
        row = (
            await self._conn.execute(select(_n).where(_n.c.whatsapp_message_id == wamid).with_for_update())
        ).first()
        if row is None and callback_id:
            row = (
                await self._conn.execute(
                    select(_n)
                    .where(
                        _n.c.id == callback_id,
                        or_(_n.c.whatsapp_message_id.is_(None), _n.c.whatsapp_message_id == wamid),
                    )
                    .with_for_update()
                )
            ).first()
        return to_notification(row) if row else None

    async def apply_meta_status(
        self,
        n: Notification,
        target: Status,
        *,
        wamid: str,
        at: datetime,
        error_code: str | None = None,
        error_message: str | None = None,
        error_retryable: bool = False,
        pricing: dict[str, Any] | None = None,
        conversation: dict[str, Any] | None = None,
    ) -> None:
        """Move forward to ``target``, filling every timestamp it implies (read ⇒ delivered ⇒ sent)."""
        values: dict[str, Any] = {
            "status": target.value,
            "whatsapp_message_id": func.coalesce(_n.c.whatsapp_message_id, wamid),
            "updated_at": func.now(),
        }
        if target in (Status.SENT, Status.DELIVERED, Status.READ):
            values["sent_at"] = func.coalesce(_n.c.sent_at, at)
            values["claim_expires_at"] = None
        if target in (Status.DELIVERED, Status.READ):
            values["delivered_at"] = func.coalesce(_n.c.delivered_at, at)
        if target is Status.READ:
            values["read_at"] = func.coalesce(_n.c.read_at, at)
        if target is Status.FAILED:
            values.update(
                failed_at=at,
                error_code=error_code,
                error_message=error_message,
                error_retryable=error_retryable,
                claim_expires_at=None,
            )
        if pricing is not None:
            values["pricing"] = pricing
        if conversation is not None:
            values["conversation"] = conversation
        await self._conn.execute(update(_n).where(_n.c.id == n.id).values(**values))

    # --- scheduler -------------------------------------------------------------------------
    async def release_due_scheduled(self, limit: int) -> list[Notification]:
        """``scheduled → queued`` for rows now due, stamped as being published (see ``unmark_enqueued``)."""
        due = (
            select(_n.c.id)
            .where(_n.c.status == Status.SCHEDULED.value, _n.c.next_attempt_at <= func.now())
            .order_by(_priority_rank(), _n.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        rows = (
            await self._conn.execute(
                update(_n)
                .where(_n.c.id.in_(due))
                .values(status=Status.QUEUED.value, enqueued_at=func.now(), updated_at=func.now())
                .returning(*_n.c)
            )
        ).all()
        released = [to_notification(r) for r in rows]
        await self.log_many(
            [
                {"notification_id": n.id, "event": "released", "status": "queued", "source": "scheduler"}
                for n in released
            ]
        )
        return released

    async def claim_unpublished(
        self, *, grace_seconds: float, horizon_seconds: float, limit: int
    ) -> list[Notification]:
        """Queued rows with no queue message (a failed publish, or a retry due within the horizon),
        stamped ``enqueued_at`` in the same statement so two relays never take the same row."""
        pending = (
            select(_n.c.id)
            .where(
                _n.c.enqueued_at.is_(None),
                _n.c.status.in_([Status.QUEUED.value, Status.RATE_LIMITED.value]),
                _n.c.updated_at < func.now() - _seconds(grace_seconds),
                or_(
                    _n.c.next_attempt_at.is_(None),
                    _n.c.next_attempt_at <= func.now() + _seconds(horizon_seconds),
                ),
            )
            .order_by(_priority_rank(), _n.c.next_attempt_at.nulls_first(), _n.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        rows = (
            await self._conn.execute(
                update(_n).where(_n.c.id.in_(pending)).values(enqueued_at=func.now()).returning(*_n.c)
            )
        ).all()
        return [to_notification(r) for r in rows]

    async def unmark_enqueued(self, ids: Sequence[str]) -> None:
        """Publishing failed for these: leave them to the next relay pass."""
        if ids:
            await self._conn.execute(update(_n).where(_n.c.id.in_(ids)).values(enqueued_at=None))

    async def requeue_stale_claims(self, *, older_than_seconds: float, limit: int) -> list[str]:
        """`processing` rows whose claim lapsed long ago and whose queue message is gone."""
        stale = (
            select(_n.c.id)
            .where(
                _n.c.status == Status.PROCESSING.value,
                _n.c.claim_expires_at < func.now() - _seconds(older_than_seconds),
            )
            .order_by(_priority_rank(), _n.c.claim_expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        rows = (
            await self._conn.execute(
                update(_n)
                .where(_n.c.id.in_(stale))
                .values(
                    status=Status.QUEUED.value, enqueued_at=None, claim_expires_at=None, updated_at=func.now()
                )
                .returning(_n.c.id)
            )
        ).all()
        ids = [r.id for r in rows]
        await self.log_many(
            [
                {"notification_id": i, "event": "claim_expired", "status": "queued", "source": "scheduler"}
                for i in ids
            ]
        )
        return ids

    # --- delivery log ----------------------------------------------------------------------
    async def log(
        self,
        notification_id: str,
        event: str,
        status: Status,
        *,
        source: str,
        attempt: int = 0,
        wamid: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        detail: dict[str, Any] | None = None,
        occurred_at: datetime | None = None,
    ) -> None:
        row: dict[str, Any] = {
            "notification_id": notification_id,
            "event": event,
            "status": status.value,
            "source": source,
            "attempt": attempt,
            "whatsapp_message_id": wamid,
            "error_code": error_code,
            "error_message": error_message,
            "detail": detail,
        }
        if occurred_at is not None:
            row["occurred_at"] = occurred_at
        await self._conn.execute(insert(delivery_log), [row])

    async def log_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self._conn.execute(insert(delivery_log), rows)

    async def history(self, notification_id: str) -> list[dict[str, Any]]:
        stmt = (
            select(delivery_log)
            .where(delivery_log.c.notification_id == notification_id)
            .order_by(delivery_log.c.id)
        )
        return [row_dict(r) for r in (await self._conn.execute(stmt)).all()]
