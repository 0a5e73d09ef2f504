"""The notification aggregate: notifications and their delivery log.

Every status change is one conditional UPDATE plus one log row per notification it moved, checked
against the state machine (:data:`wanotify.common.domain.status.TRANSITIONS`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec
from sqlalchemy import and_, case, func, insert, or_, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.db.client_events import ClientEvents
from wanotify.common.db.dead_letter_filter import DeadLetterFilter
from wanotify.common.db.delivery_log import Change, DeliveryLog
from wanotify.common.db.notification_filter import NotificationFilter
from wanotify.common.db.rows import convert
from wanotify.common.db.schema import delivery_log, notifications
from wanotify.common.domain.batch import BatchSummary, summarize_batch
from wanotify.common.domain.client_events import notification_events
from wanotify.common.domain.notification import NewNotification, Notification
from wanotify.common.domain.priority import PRIORITY_ORDER, Priority
from wanotify.common.domain.status import CANCELABLE, CLAIMABLE, Status, check_transition

_n = notifications

# Not yet handed to Meta and not final: what a sweep may expire and a poison message may fail.
WAITING_STATUSES = (Status.SCHEDULED, Status.QUEUED, Status.RATE_LIMITED)
WAITING = tuple(s.value for s in WAITING_STATUSES)


class Stage(Protocol):
    """The unit of work's outbox: publish these when the transaction commits."""

    def __call__(self, items: Sequence[Notification], *, use_stored_trace: bool = False) -> None: ...


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
    """Every read and write of a notification and its delivery log.

    Status changes go through :meth:`transition` (one row) or :meth:`_move` (a set chosen by a
    subquery): the state machine is checked, the row is updated only if it is still in a status it
    may leave, the log gets one row per moved notification, the client events the move makes are
    recorded (and fanned out to the tenant's endpoints), and ``publish`` stages the moved rows on
    the unit of work's outbox, all in the caller's transaction.
    """

    def __init__(self, conn: AsyncConnection, stage: Stage | None = None) -> None:
        self._conn = conn
        self._stage = stage
        self._log = DeliveryLog(conn)
        self._events = ClientEvents(conn)

    # --- the one way a status changes ------------------------------------------------------
    async def transition(
        self,
        target: Notification | str,
        to: Status,
        change: Change,
        *,
        sources: Collection[Status] | None = None,
        values: Mapping[str, Any] | None = None,
        attempt_delta: int = 0,
        publish: bool = False,
        where: Sequence[Any] = (),
    ) -> Notification | None:
        """Move one notification to ``to``; None when it had moved on meanwhile.

        ``target`` is the row as the caller last read it (the update then also requires the same
        attempt, so a lapsed claim never overwrites a newer one) or an id with its ``sources``.
        """
        if isinstance(target, str):
            if sources is None:
                raise TypeError("a transition by id names the statuses it leaves")
            conds: list[Any] = [_n.c.id == target]
        else:
            conds = [_n.c.id == target.id, _n.c.attempt == target.attempt]
            sources = sources if sources is not None else (target.status,)
        moved = await self._move(
            [*conds, *where], sources, to, change, values=values, attempt_delta=attempt_delta, publish=publish
        )
        return moved[0] if moved else None

    async def _move(
        self,
        where: Sequence[Any],
        sources: Collection[Status],
        to: Status,
        change: Change,
        *,
        values: Mapping[str, Any] | None = None,
        attempt_delta: int = 0,
        publish: bool = False,
        stored_trace: bool = False,
    ) -> list[Notification]:
        check_transition(tuple(sources), to)
        events = notification_events(tuple(sources), to)
        stmt = (
            update(_n)
            .where(*where, _n.c.status.in_([s.value for s in sources]))
            .values(
                status=to.value,
                updated_at=func.now(),
                **({"attempt": _n.c.attempt + attempt_delta} if attempt_delta else {}),
                **({"event_sequence": _n.c.event_sequence + len(events)} if events else {}),
                **(values or {}),
            )
            .returning(*_n.c)
        )
        moved = [to_notification(r) for r in (await self._conn.execute(stmt)).all()]
        await self._log.add([change.row(n.id, to, n.attempt) for n in moved])
        if events:
            await self._events.notification_changed(events, moved)
        if publish and moved:
            if self._stage is None:
                raise RuntimeError("publishing a transition needs a unit of work's outbox")
            self._stage(moved, use_stored_trace=stored_trace)
        return moved

    # --- writes from the API ---------------------------------------------------------------
    async def add_many(self, items: Sequence[NewNotification]) -> list[Notification]:
        if not items:
            return []
        rows = [
            {
                **{f: getattr(item, f) for f in item.__struct_fields__ if f != "message"},
                "status": item.status.value,
                "message": msgspec.to_builtins(item.message),
                "event_sequence": len(notification_events(None, item.status)),
            }
            for item in items
        ]
        result = await self._conn.execute(insert(_n).returning(*_n.c), rows)
        created = [to_notification(r) for r in result.all()]
        accepted = Change(event="accepted", source="api")
        await self._log.add([accepted.row(n.id, n.status, n.attempt) for n in created])
        queued = [n for n in created if notification_events(None, n.status)]
        if queued:
            await self._events.notification_changed(("notification.queued",), queued)
        return created

    async def cancel(self, notification_id: str, tenant_id: str) -> Notification | None:
        """``scheduled|queued|rate_limited → canceled``; None when it is not (or no longer) cancelable."""
        return await self.transition(
            notification_id,
            Status.CANCELED,
            Change(event="canceled", source="api"),
            sources=CANCELABLE,
            where=[_n.c.tenant_id == tenant_id],
            values={"canceled_at": func.now(), "claim_expires_at": None},
        )

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
        """Failed → ``queued`` as new attempts, published: ``max_attempts = attempt + the tenant's
        attempts for the priority``, the error cleared, a ``replayed`` log row."""
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
        return await self._move(
            [_n.c.id.in_(chosen)],
            (Status.FAILED,),
            Status.QUEUED,
            Change(event="replayed", source="api"),
            values={
                "max_attempts": _n.c.attempt + per_priority,
                "whatsapp_message_id": None,
                "next_attempt_at": None,
                "enqueued_at": None,
                "claim_expires_at": None,
                "sent_at": None,
                "failed_at": None,
                "error_code": None,
                "error_message": None,
                "error_retryable": None,
            },
            publish=True,
        )

    # --- reads -----------------------------------------------------------------------------
    async def get(self, notification_id: str, tenant_id: str | None = None) -> Notification | None:
        stmt = select(_n).where(_n.c.id == notification_id)
        if tenant_id is not None:
            stmt = stmt.where(_n.c.tenant_id == tenant_id)
        row = (await self._conn.execute(stmt)).first()
        return to_notification(row) if row else None

    async def page(
        self,
        tenant_id: str,
        flt: NotificationFilter,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> list[Notification]:
        """The tenant's notifications that ``flt`` speaks of, newest first by ``(created_at, id)``;
        ``after`` is the last row of the previous page (keyset, no OFFSET)."""
        stmt = select(_n).where(*flt.conditions(tenant_id))
        if after is not None:
            at, last_id = after
            stmt = stmt.where(or_(_n.c.created_at < at, and_(_n.c.created_at == at, _n.c.id < last_id)))
        stmt = stmt.order_by(_n.c.created_at.desc(), _n.c.id.desc()).limit(limit)
        return [to_notification(r) for r in (await self._conn.execute(stmt)).all()]

    async def batch_summary(self, tenant_id: str, batch_id: str) -> BatchSummary | None:
        """A batch's notifications counted by status, on the batch index; None for no such batch."""
        stmt = (
            select(_n.c.status, func.count(), func.min(_n.c.created_at), func.max(_n.c.updated_at))
            .where(_n.c.tenant_id == tenant_id, _n.c.batch_id == batch_id)
            .group_by(_n.c.status)
        )
        rows = (await self._conn.execute(stmt)).all()
        return summarize_batch(batch_id, [(Status(r[0]), int(r[1]), r[2], r[3]) for r in rows])

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

    async def id_for_wamid(self, tenant_id: str, wamid: str) -> str | None:
        """Our notification Meta knows as ``wamid`` (what an inbound reply's context names)."""
        stmt = select(_n.c.id).where(_n.c.whatsapp_message_id == wamid, _n.c.tenant_id == tenant_id)
        return (await self._conn.execute(stmt)).scalar_one_or_none()

    async def history(self, notification_id: str) -> list[dict[str, Any]]:
        return await self._log.history(notification_id)

    async def log(self, notification_id: str, status: Status, attempt: int, change: Change) -> None:
        """A log row that moves nothing (a Meta report that changed nothing, say): marked
        ``applied: false``, so the history does not read it as a move to ``status``."""
        row = change.row(notification_id, status, attempt)
        row["detail"] = {**(change.detail or {}), "applied": False}
        await self._log.add([row])

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
        return await self.transition(
            notification_id,
            Status.PROCESSING,
            Change(event="claimed", source="worker"),
            sources=(*CLAIMABLE, Status.PROCESSING),
            where=[
                or_(
                    _n.c.status.in_([s.value for s in CLAIMABLE]),
                    _n.c.claim_expires_at < func.now(),
                ),
                or_(
                    _n.c.next_attempt_at.is_(None),
                    # Messages are published to arrive up to a second early (see publisher); the
                    # second second absorbs clock skew between workers and the database.
                    _n.c.next_attempt_at <= func.now() + text("interval '2 seconds'"),
                ),
            ],
            values={"claim_expires_at": func.now() + _seconds(claim_seconds)},
            attempt_delta=1,
        )

    async def record_sent(self, n: Notification, wamid: str, detail: dict[str, Any]) -> bool:
        """Store Meta's acceptance: ``processing → sent``. A status webhook may have moved the row on
        already (Meta's own ``sent``, or later): then only the wamid and ``sent_at`` are filled in,
        never going back. Logged either way: the log is the evidence of what Meta accepted."""
        change = Change(event="sent", source="worker", wamid=wamid, detail=detail)
        cleared = {
            "claim_expires_at": None,
            "error_code": None,
            "error_message": None,
            "error_retryable": None,
        }
        moved = await self.transition(
            n,
            Status.SENT,
            change,
            sources=(Status.PROCESSING,),
            values={"whatsapp_message_id": wamid, "sent_at": func.now(), **cleared},
        )
        if moved is not None:
            return True
        stmt = (
            update(_n)
            .where(_n.c.id == n.id, _n.c.attempt == n.attempt, _n.c.status.notin_([Status.FAILED.value]))
            .values(
                whatsapp_message_id=func.coalesce(_n.c.whatsapp_message_id, wamid),
                sent_at=func.coalesce(_n.c.sent_at, func.now()),
                updated_at=func.now(),
                **cleared,
            )
            .returning(_n.c.id)
        )
        updated = (await self._conn.execute(stmt)).first() is not None
        await self.log(n.id, Status.SENT, n.attempt, change)
        return updated

    async def record_failed(
        self, n: Notification, *, code: str, message: str, retryable: bool, source: str = "worker"
    ) -> bool:
        """``processing → failed`` (the dead-letter set)."""
        moved = await self.transition(
            n,
            Status.FAILED,
            Change(event="failed", source=source, error_code=code, error_message=message),
            sources=(Status.PROCESSING,),
            values=_failed(code, message, retryable),
        )
        return moved is not None

    async def wait_again(
        self,
        n: Notification,
        to: Status,
        change: Change,
        *,
        next_attempt_at: datetime,
        give_back_attempt: bool = False,
        publish: bool = False,
        values: Mapping[str, Any] | None = None,
    ) -> Notification | None:
        """The one "wait and try again later" transition: back to ``to`` (queued or rate_limited)
        with ``next_attempt_at`` set and the claim released. ``publish`` stages it on the outbox;
        otherwise (or if that publish fails) the relay publishes it when it comes near."""
        return await self.transition(
            n,
            to,
            change,
            values={
                "next_attempt_at": next_attempt_at,
                "enqueued_at": None,
                "claim_expires_at": None,
                **(values or {}),
            },
            attempt_delta=-1 if give_back_attempt else 0,
            publish=publish,
        )

    async def record_retry(
        self, n: Notification, *, next_attempt_at: datetime, code: str, message: str, publish: bool
    ) -> Notification | None:
        """``processing → queued`` for a later attempt."""
        return await self.wait_again(
            n,
            Status.QUEUED,
            Change(
                event="retry_scheduled",
                source="worker",
                error_code=code,
                error_message=message,
                detail={"next_attempt_at": next_attempt_at.isoformat()},
            ),
            next_attempt_at=next_attempt_at,
            values={"error_code": code, "error_message": message, "error_retryable": True},
            publish=publish,
        )

    async def defer(
        self,
        n: Notification,
        *,
        until: datetime,
        reason: str,
        detail: dict[str, Any] | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        publish: bool,
    ) -> Notification | None:
        """``processing → rate_limited`` with the attempt given back (a paused sender, an open
        breaker, a pacing wait: the notification was not at fault)."""
        return await self.wait_again(
            n,
            Status.RATE_LIMITED,
            Change(
                event="deferred",
                source="worker",
                error_code=error_code,
                error_message=error_message,
                detail={"reason": reason, "until": until.isoformat(), **(detail or {})},
            ),
            next_attempt_at=until,
            give_back_attempt=True,
            publish=publish,
        )

    async def expire_claimed(self, n: Notification) -> bool:
        """A claimed notification whose deadline passed: never sent, now ``expired``."""
        moved = await self.transition(
            n,
            Status.EXPIRED,
            Change(event="expired", source="worker"),
            sources=(Status.PROCESSING,),
            values={"claim_expires_at": None},
            attempt_delta=-1,
        )
        return moved is not None

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
        change: Change,
        *,
        at: datetime,
        error_retryable: bool = False,
        pricing: dict[str, Any] | None = None,
        conversation: dict[str, Any] | None = None,
    ) -> None:
        """Move forward to ``target`` (the row is locked), filling every timestamp it implies
        (read ⇒ delivered ⇒ sent)."""
        values: dict[str, Any] = {
            "whatsapp_message_id": func.coalesce(_n.c.whatsapp_message_id, change.wamid)
        }
        if target in (Status.SENT, Status.DELIVERED, Status.READ):
            values["sent_at"] = func.coalesce(_n.c.sent_at, at)
            values["claim_expires_at"] = None
        if target in (Status.DELIVERED, Status.READ):
            values["delivered_at"] = func.coalesce(_n.c.delivered_at, at)
        if target is Status.READ:
            values["read_at"] = func.coalesce(_n.c.read_at, at)
        if target is Status.FAILED:
            values.update(_failed(change.error_code, change.error_message, error_retryable, at=at))
        if pricing is not None:
            values["pricing"] = pricing
        if conversation is not None:
            values["conversation"] = conversation
        # Meta reports about the wamid, not an attempt: the lock, not the attempt, guards the row.
        await self.transition(n.id, target, change, sources=(n.status,), values=values)

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
        moved = await self.wait_again(
            n,
            waiting,
            Change(
                event="retry_scheduled",
                source="meta",
                wamid=wamid,
                error_code=code,
                error_message=message,
                detail={"next_attempt_at": next_attempt_at.isoformat(), "failed_wamid": wamid},
            ),
            next_attempt_at=next_attempt_at,
            give_back_attempt=give_back_attempt,
            values={
                "whatsapp_message_id": None,
                "sent_at": None,
                "error_code": code,
                "error_message": message,
                "error_retryable": True,
            },
        )
        return moved is not None

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

    # --- scheduler -------------------------------------------------------------------------
    async def release_due_scheduled(self, limit: int) -> list[Notification]:
        """``scheduled → queued`` for rows now due, published with the trace that accepted them."""
        due = (
            select(_n.c.id)
            .where(_n.c.status == Status.SCHEDULED.value, _n.c.next_attempt_at <= func.now())
            .order_by(_priority_rank(), _n.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        return await self._move(
            [_n.c.id.in_(due)],
            (Status.SCHEDULED,),
            Status.QUEUED,
            Change(event="released", source="scheduler"),
            values={"enqueued_at": func.now()},
            publish=True,
            stored_trace=True,
        )

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
        """`processing` rows whose claim lapsed long ago and whose queue message is gone; the
        relay publishes them."""
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
        moved = await self._move(
            [_n.c.id.in_(stale)],
            (Status.PROCESSING,),
            Status.QUEUED,
            Change(event="claim_expired", source="scheduler"),
            values={"enqueued_at": None, "claim_expires_at": None},
        )
        return [n.id for n in moved]

    async def expire_due(self, limit: int) -> list[str]:
        """Waiting notifications whose ``expires_at`` passed → ``expired`` (``ix_notifications_expiring``)."""
        due = (
            select(_n.c.id)
            .where(_n.c.expires_at.is_not(None), _n.c.status.in_(WAITING), _n.c.expires_at <= func.now())
            .order_by(_n.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        moved = await self._move(
            [_n.c.id.in_(due)],
            WAITING_STATUSES,
            Status.EXPIRED,
            Change(event="expired", source="scheduler"),
            values={"claim_expires_at": None},
        )
        return [n.id for n in moved]

    async def fail_poison(self, notification_id: str) -> bool:
        """A message SQS's dead-letter queue gave up on: the notification fails, if still unfinished."""
        moved = await self.transition(
            notification_id,
            Status.FAILED,
            Change(
                event="failed",
                source="scheduler",
                error_code="POISON_MESSAGE",
                error_message="Folded back from the SQS dead-letter queue",
            ),
            sources=(*WAITING_STATUSES, Status.PROCESSING),
            values=_failed(
                "POISON_MESSAGE", "The queue gave up on this message (SQS dead-letter queue)", False
            ),
        )
        return moved is not None

    async def wake_deferred(self, sender_id: str) -> int:
        """A resumed sender's deferred (``rate_limited``) notifications, due now: the relay
        publishes rows whose ``enqueued_at`` is empty. Returns how many."""
        rows = (
            await self._conn.execute(
                update(_n)
                .where(_n.c.sender_id == sender_id, _n.c.status == Status.RATE_LIMITED.value)
                .values(next_attempt_at=func.now(), enqueued_at=None, updated_at=func.now())
                .returning(_n.c.id)
            )
        ).all()
        return len(rows)


def _failed(code: str | None, message: str | None, retryable: bool, *, at: Any = None) -> dict[str, Any]:
    return {
        "failed_at": func.now() if at is None else at,
        "claim_expires_at": None,
        "error_code": code,
        "error_message": message,
        "error_retryable": retryable,
    }
