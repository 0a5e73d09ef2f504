"""Failure handling in the database: deferring without burning an attempt, pausing senders,
cancel and expiry, the dead-letter set (failed notifications) and its replay, asynchronous
failures sent back for a new attempt, and poison messages folded back from SQS's DLQ.

Every transition is one conditional UPDATE plus one delivery-log row, like the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.db.notifications import NotificationRepository, to_notification
from wanotify.common.db.rows import convert
from wanotify.common.db.schema import delivery_log, notifications, senders
from wanotify.common.domain.notification import Notification, Sender
from wanotify.common.domain.status import CANCELABLE, Status

_n = notifications
_s = senders

# Not yet handed to Meta and not final: what a sweep may expire and a resume may wake.
WAITING = (Status.SCHEDULED.value, Status.QUEUED.value, Status.RATE_LIMITED.value)
# Statuses a poison message may still turn into `failed`.
UNFINISHED = (*WAITING, Status.PROCESSING.value)


class DeadLetterFilter:
    """Filters of the dead-letter listing and of a replay by filter."""

    def __init__(
        self,
        *,
        error_code: str | None = None,
        event_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        self.error_code = error_code
        self.event_type = event_type
        self.since = since
        self.until = until

    def conditions(self, tenant_id: str) -> list[Any]:
        conds: list[Any] = [_n.c.tenant_id == tenant_id, _n.c.status == Status.FAILED.value]
        if self.error_code is not None:
            conds.append(_n.c.error_code == self.error_code)
        if self.event_type is not None:
            conds.append(_n.c.event_type == self.event_type)
        if self.since is not None:
            conds.append(_n.c.failed_at >= self.since)
        if self.until is not None:
            conds.append(_n.c.failed_at < self.until)
        return conds


class FailureRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._log = NotificationRepository(conn)

    # --- worker: defer a claimed notification without spending its attempt ----------------
    async def defer(
        self,
        n: Notification,
        *,
        until: datetime,
        reason: str,
        detail: dict[str, Any] | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> bool:
        """``processing → rate_limited`` with the attempt counter given back; the outbox relay (or
        the caller) publishes it again for ``until``."""
        updated = await self._log.back_to_waiting(
            n,
            from_status=Status.PROCESSING,
            to_status=Status.RATE_LIMITED,
            next_attempt_at=until,
            give_back_attempt=True,
        )
        if updated:
            await self._log.log(
                n.id,
                "deferred",
                Status.RATE_LIMITED,
                source="worker",
                attempt=n.attempt - 1,
                error_code=error_code,
                error_message=error_message,
                detail={"reason": reason, "until": until.isoformat(), **(detail or {})},
            )
        return updated

    async def expire_claimed(self, n: Notification) -> bool:
        """A claimed notification whose deadline passed: never sent, now ``expired``."""
        stmt = (
            update(_n)
            .where(_n.c.id == n.id, _n.c.status == Status.PROCESSING.value, _n.c.attempt == n.attempt)
            .values(
                status=Status.EXPIRED.value,
                attempt=_n.c.attempt - 1,
                claim_expires_at=None,
                updated_at=func.now(),
            )
            .returning(_n.c.id)
        )
        updated = (await self._conn.execute(stmt)).first() is not None
        if updated:
            await self._log.log(n.id, "expired", Status.EXPIRED, source="worker", attempt=n.attempt - 1)
        return updated

    # --- senders ---------------------------------------------------------------------------
    async def pause_sender(self, sender_id: str, *, code: str, reason: str) -> bool:
        """Returns True when this call paused it (False: it was already paused)."""
        row = (
            await self._conn.execute(
                update(_s)
                .where(_s.c.id == sender_id, _s.c.paused_at.is_(None))
                .values(paused_at=func.now(), paused_code=code, paused_reason=reason)
                .returning(_s.c.id)
            )
        ).first()
        return row is not None

    async def sender(self, sender_id: str, tenant_id: str | None = None) -> Sender | None:
        stmt = select(_s).where(_s.c.id == sender_id)
        if tenant_id is not None:
            stmt = stmt.where(_s.c.tenant_id == tenant_id)
        row = (await self._conn.execute(stmt)).first()
        return convert(row, Sender) if row else None

    async def senders_of(self, tenant_id: str) -> list[Sender]:
        stmt = select(_s).where(_s.c.tenant_id == tenant_id).order_by(_s.c.created_at, _s.c.id)
        return [convert(r, Sender) for r in (await self._conn.execute(stmt)).all()]

    async def resume_sender(self, sender_id: str) -> int:
        """Clear the pause and make the sender's deferred (``rate_limited``) notifications due now:
        the outbox relay publishes rows whose ``enqueued_at`` is empty. Returns how many were woken
        (0 when the sender was not paused: retries keep their backoff)."""
        was_paused = (
            await self._conn.execute(
                update(_s)
                .where(_s.c.id == sender_id, _s.c.paused_at.is_not(None))
                .values(paused_at=None, paused_code=None, paused_reason=None)
                .returning(_s.c.id)
            )
        ).first()
        if was_paused is None:
            return 0
        rows = (
            await self._conn.execute(
                update(_n)
                .where(_n.c.sender_id == sender_id, _n.c.status == Status.RATE_LIMITED.value)
                .values(next_attempt_at=func.now(), enqueued_at=None, updated_at=func.now())
                .returning(_n.c.id)
            )
        ).all()
        return len(rows)

    async def count_paused_senders(self) -> int:
        stmt = select(func.count()).select_from(_s).where(_s.c.paused_at.is_not(None))
        return int((await self._conn.execute(stmt)).scalar_one())

    # --- cancel and expiry -----------------------------------------------------------------
    async def cancel(self, notification_id: str, tenant_id: str) -> Notification | None:
        """``scheduled|queued|rate_limited → canceled``; None when it is not (or no longer) cancelable."""
        row = (
            await self._conn.execute(
                update(_n)
                .where(
                    _n.c.id == notification_id,
                    _n.c.tenant_id == tenant_id,
                    _n.c.status.in_([s.value for s in CANCELABLE]),
                )
                .values(
                    status=Status.CANCELED.value,
                    canceled_at=func.now(),
                    claim_expires_at=None,
                    updated_at=func.now(),
                )
                .returning(*_n.c)
            )
        ).first()
        if row is None:
            return None
        n = to_notification(row)
        await self._log.log(n.id, "canceled", Status.CANCELED, source="api", attempt=n.attempt)
        return n

    async def expire_due(self, limit: int) -> list[str]:
        """Waiting notifications whose ``expires_at`` passed → ``expired`` (``ix_notifications_expiring``)."""
        due = (
            select(_n.c.id)
            .where(
                _n.c.expires_at.is_not(None),
                _n.c.status.in_(WAITING),
                _n.c.expires_at <= func.now(),
            )
            .order_by(_n.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        rows = (
            await self._conn.execute(
                update(_n)
                .where(_n.c.id.in_(due))
                .values(status=Status.EXPIRED.value, claim_expires_at=None, updated_at=func.now())
                .returning(_n.c.id, _n.c.attempt)
            )
        ).all()
        await self._log.log_many(
            [
                {
                    "notification_id": r.id,
                    "event": "expired",
                    "status": Status.EXPIRED.value,
                    "source": "scheduler",
                    "attempt": r.attempt,
                }
                for r in rows
            ]
        )
        return [r.id for r in rows]

    # --- receiver: an asynchronous failure worth another attempt ---------------------------
    async def retry_after_async_failure(
        self,
        n: Notification,
        *,
        wamid: str,
        next_attempt_at: datetime,
        code: str,
        message: str,
        waiting: Status = Status.QUEUED,
        give_back_attempt: bool = False,
    ) -> bool:
        """``sent → queued`` for a new attempt: the wamid is cleared so the next send records its
        own (the failed one stays in the delivery log). ``waiting=rate_limited`` parks it behind a
        paused sender, so that resuming the sender wakes it; the sender was at fault, not the
        notification, so that attempt is given back (``give_back_attempt``), as the worker does."""
        updated = await self._log.back_to_waiting(
            n,
            from_status=Status.SENT,
            to_status=waiting,
            give_back_attempt=give_back_attempt,
            next_attempt_at=next_attempt_at,
            whatsapp_message_id=None,
            sent_at=None,
            error_code=code,
            error_message=message,
            error_retryable=True,
        )
        if updated:
            await self._log.log(
                n.id,
                "retry_scheduled",
                waiting,
                source="meta",
                attempt=n.attempt - 1 if give_back_attempt else n.attempt,
                wamid=wamid,
                error_code=code,
                error_message=message,
                detail={"next_attempt_at": next_attempt_at.isoformat(), "failed_wamid": wamid},
            )
        return updated

    async def wamid_was_retried(self, notification_id: str, wamid: str) -> bool:
        """Whether an asynchronous failure of this wamid already sent the notification back."""
        stmt = (
            select(delivery_log.c.id)
            .where(
                delivery_log.c.notification_id == notification_id,
                delivery_log.c.whatsapp_message_id == wamid,
                delivery_log.c.event == "retry_scheduled",
            )
            .limit(1)
        )
        return (await self._conn.execute(stmt)).first() is not None

    # --- dead letters ----------------------------------------------------------------------
    async def dead_letters(
        self,
        tenant_id: str,
        flt: DeadLetterFilter,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> list[Notification]:
        """Newest first by ``(failed_at, id)``; ``after`` is the last row of the previous page."""
        conds = flt.conditions(tenant_id)
        if after is not None:
            at, last_id = after
            conds.append(or_(_n.c.failed_at < at, and_(_n.c.failed_at == at, _n.c.id < last_id)))
        stmt = (
            select(_n).where(*conds).order_by(_n.c.failed_at.desc().nulls_last(), _n.c.id.desc()).limit(limit)
        )
        return [to_notification(r) for r in (await self._conn.execute(stmt)).all()]

    async def replay(
        self,
        tenant_id: str,
        *,
        ids: Sequence[str] | None,
        flt: DeadLetterFilter | None,
        attempts: Mapping[str, int],
        default_attempts: int,
        limit: int,
    ) -> list[Notification]:
        """Failed → ``queued`` as new attempts: ``max_attempts = attempt + the tenant's attempts for
        the priority``, the error cleared, a ``replayed`` log row. The caller publishes them."""
        conds = (flt or DeadLetterFilter()).conditions(tenant_id)
        if ids is not None:
            conds.append(_n.c.id.in_(list(ids)))
        chosen = (
            select(_n.c.id)
            .where(*conds)
            .order_by(_n.c.failed_at.desc().nulls_last(), _n.c.id.desc())
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        per_priority = (
            case({p: a for p, a in attempts.items()}, value=_n.c.priority, else_=default_attempts)
            if attempts
            else default_attempts
        )
        rows = (
            await self._conn.execute(
                update(_n)
                .where(_n.c.id.in_(chosen), _n.c.status == Status.FAILED.value)
                .values(
                    status=Status.QUEUED.value,
                    max_attempts=_n.c.attempt + per_priority,
                    whatsapp_message_id=None,
                    next_attempt_at=None,
                    enqueued_at=None,
                    claim_expires_at=None,
                    sent_at=None,
                    failed_at=None,
                    error_code=None,
                    error_message=None,
                    error_retryable=None,
                    updated_at=func.now(),
                )
                .returning(*_n.c)
            )
        ).all()
        replayed = [to_notification(r) for r in rows]
        await self._log.log_many(
            [
                {
                    "notification_id": n.id,
                    "event": "replayed",
                    "status": Status.QUEUED.value,
                    "source": "api",
                    "attempt": n.attempt,
                    "detail": {"max_attempts": n.max_attempts},
                }
                for n in replayed
            ]
        )
        return replayed

    # --- scheduler: SQS dead-letter queue --------------------------------------------------
    async def fail_poison(self, notification_id: str) -> bool:
        row = (
            await self._conn.execute(
                update(_n)
                .where(_n.c.id == notification_id, _n.c.status.in_(UNFINISHED))
                .values(
                    status=Status.FAILED.value,
                    failed_at=func.now(),
                    claim_expires_at=None,
                    error_code="POISON_MESSAGE",
                    error_message="The queue gave up on this message (SQS dead-letter queue)",
                    error_retryable=False,
                    updated_at=func.now(),
                )
                .returning(_n.c.id, _n.c.attempt)
            )
        ).first()
        if row is None:
            return False
        await self._log.log(
            notification_id,
            "failed",
            Status.FAILED,
            source="scheduler",
            attempt=row.attempt,
            error_code="POISON_MESSAGE",
            error_message="Folded back from the SQS dead-letter queue",
        )
        return True
