"""Accepting notifications: validate, write the rows (and the idempotency record) in one
transaction, then publish after commit. The row is the truth; publishing is best effort."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec

from wanotify.api.batches.schemas import BatchOut
from wanotify.api.notifications.rules import IngestRules
from wanotify.api.notifications.schemas import (
    MAX_BULK,
    BulkCreated,
    BulkIn,
    BulkItem,
    ErrorOut,
    ItemError,
    NotificationCreated,
    NotificationHistory,
    NotificationIn,
    NotificationPage,
    NotificationStatus,
    NotificationView,
    TemplateRef,
)
from wanotify.api.notifications.validation import check_request, content_of
from wanotify.api.paging import decode_cursor, encode_cursor
from wanotify.common.cache import TtlCache
from wanotify.common.clock import iso, utcnow
from wanotify.common.db.idempotency import StoredResponse
from wanotify.common.db.notification_filter import NotificationFilter
from wanotify.common.db.policies import TenantPolicies
from wanotify.common.db.uow import UnitOfWork, with_outbox
from wanotify.common.domain.errors import (
    DomainError,
    IdempotencyConflict,
    NoSender,
    NotCancelable,
    NotFound,
    ValidationFailed,
)
from wanotify.common.domain.history import history_of
from wanotify.common.domain.message import TemplateContent, TextContent
from wanotify.common.domain.notification import NewNotification, Notification, Principal
from wanotify.common.domain.phone import recipient_country
from wanotify.common.domain.status import Status
from wanotify.common.domain.tenant import TenantPolicy
from wanotify.common.edge.body import decode_json
from wanotify.common.ids import new_id
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher

log = logging.getLogger(__name__)

# What we promise a client about "when": a p95 processing time, not a guarantee.
EXPECTED_PROCESSING = timedelta(seconds=5)
RATE_LIMITED_ITEM = "Over the tenant's rate limit; submit it again after X-RateLimit-Reset"


class Reply(msgspec.Struct, frozen=True):
    status_code: int
    body: bytes
    replayed: bool = False


class Built(msgspec.Struct):
    """The rows one request will write, the per-item errors of a bulk request, and its batch."""

    items: list[NewNotification]
    errors: list[ItemError] = []
    bulk: tuple[str, int] | None = None


class RequestContext(msgspec.Struct, frozen=True):
    principal: Principal
    trace_id: str
    traceparent: str | None
    idempotency_key: str | None
    request_hash: str


class _BulkShape(msgspec.Struct):
    notifications: list[msgspec.Raw] = []


def bulk_size(body: bytes) -> int:
    """What a bulk request takes from the tenant's quota: one per submitted item, 1 if unusable."""
    try:
        size = len(msgspec.json.decode(body, type=_BulkShape).notifications)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return 1
    return size if 0 < size <= MAX_BULK else 1


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _created(n: Notification) -> NotificationCreated:
    base = n.scheduled_for if n.status is Status.SCHEDULED and n.scheduled_for else n.created_at
    return NotificationCreated(
        id=n.id,
        status=n.status.value,
        recipient=n.recipient_phone,
        created_at=iso(n.created_at) or "",
        estimated_delivery=iso(base + EXPECTED_PROCESSING),
    )


def _content_view(n: Notification) -> dict[str, Any]:
    m = n.message
    if isinstance(m, TemplateContent):
        return {"message_type": "template", "template": TemplateRef(name=m.name, language=m.language)}
    return {"message_type": "text" if isinstance(m, TextContent) else m.type}


# Statuses in which ``next_attempt_at`` says when the notification will be tried (its pacing slot,
# its retry time, or the end of a pause's re-check interval).
_WAITING = (Status.QUEUED, Status.RATE_LIMITED)


def _error_of(n: Notification) -> ErrorOut | None:
    if n.status is Status.FAILED or n.error_code:
        return ErrorOut(
            code=n.error_code or "UNKNOWN", message=n.error_message or "", retryable=n.error_retryable
        )
    return None


def status_of(n: Notification) -> NotificationStatus:
    return NotificationStatus(
        id=n.id,
        status=n.status.value,
        recipient=n.recipient_phone,
        recipient_country=n.recipient_country,
        created_at=iso(n.created_at) or "",
        sent_at=iso(n.sent_at),
        delivered_at=iso(n.delivered_at),
        read_at=iso(n.read_at),
        error=_error_of(n),
        delivery_attempts=n.attempt,
    )


def view_of(n: Notification) -> NotificationView:
    error = _error_of(n)
    return NotificationView(
        id=n.id,
        event_type=n.event_type,
        recipient=n.recipient_phone,
        recipient_country=n.recipient_country,
        status=n.status.value,
        priority=n.priority,
        whatsapp_message_id=n.whatsapp_message_id,
        created_at=iso(n.created_at) or "",
        scheduled_for=iso(n.scheduled_for),
        sent_at=iso(n.sent_at),
        delivered_at=iso(n.delivered_at),
        read_at=iso(n.read_at),
        failed_at=iso(n.failed_at),
        delivery_attempts=n.attempt,
        metadata=n.metadata,
        error=error,
        batch_id=n.batch_id,
        expires_at=iso(n.expires_at),
        canceled_at=iso(n.canceled_at),
        next_attempt_at=iso(n.next_attempt_at) if n.status in _WAITING else None,
        **_content_view(n),
    )


class NotificationService:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        publisher: Publisher,
        metrics: Metrics,
        *,
        max_attempts: int,
        cache_seconds: float = 10.0,
        rules: IngestRules | None = None,
        policies: TenantPolicies | None = None,
    ) -> None:
        self._uow = with_outbox(uow, publisher)
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._senders: TtlCache[str, str] = TtlCache(cache_seconds)
        self._policies = policies or TenantPolicies(uow, cache_seconds)
        self._rules = rules or IngestRules(cache_seconds)

    def _new(
        self,
        ctx: RequestContext,
        req: NotificationIn,
        sender_id: str,
        batch_id: str | None,
        now: datetime,
        policy: TenantPolicy,
    ) -> NewNotification:
        check_request(req)
        content = content_of(req)
        scheduled = req.scheduled_for is not None and req.scheduled_for > now
        return NewNotification(
            id=new_id("notif"),
            tenant_id=ctx.principal.tenant_id,
            sender_id=sender_id,
            event_type=req.event_type,
            recipient_phone=req.recipient.phone_number,
            recipient_country=recipient_country(req.recipient.phone_number),
            priority=req.priority,
            status=Status.SCHEDULED if scheduled else Status.QUEUED,
            message=content,
            metadata=req.metadata,
            max_attempts=policy.max_attempts.get(req.priority, self._max_attempts),
            scheduled_for=req.scheduled_for,
            next_attempt_at=req.scheduled_for if scheduled else None,
            batch_id=batch_id,
            trace_id=ctx.trace_id,
            traceparent=ctx.traceparent,
            expires_at=req.expires_at,
        )

    async def accept_one(self, ctx: RequestContext, req: NotificationIn) -> Reply:
        def build(sender_id: str, now: datetime, policy: TenantPolicy) -> Built:
            return Built([self._new(ctx, req, sender_id, None, now, policy)])

        return await self._accept(ctx, build)

    async def accept_bulk(self, ctx: RequestContext, bulk: BulkIn, granted: int = MAX_BULK) -> Reply:
        """The first ``granted`` items (what the tenant's quota allowed) are processed; the rest are
        refused one by one with ``RATE_LIMITED``."""

        def build(sender_id: str, now: datetime, policy: TenantPolicy) -> Built:
            if not bulk.notifications:
                raise ValidationFailed("notifications must hold at least one item", field="notifications")
            if len(bulk.notifications) > MAX_BULK:
                raise ValidationFailed(f"at most {MAX_BULK} notifications per request", field="notifications")
            batch_id = bulk.batch_id or new_id("batch")
            built = Built([], [], (batch_id, len(bulk.notifications)))
            for index, raw in enumerate(bulk.notifications):
                if index >= granted:
                    built.errors.append(ItemError(index, "RATE_LIMITED", RATE_LIMITED_ITEM))
                    continue
                try:
                    req = decode_json(raw, NotificationIn, prefix=f"notifications[{index}].")
                    built.items.append(self._new(ctx, req, sender_id, batch_id, now, policy))
                except DomainError as exc:
                    field = exc.field
                    if field is not None and not field.startswith("notifications["):
                        field = f"notifications[{index}].{field}"
                    built.errors.append(
                        ItemError(index=index, code=exc.code, message=exc.message, field=field)
                    )
            return built

        return await self._accept(ctx, build)

    async def _accept(
        self, ctx: RequestContext, build: Callable[[str, datetime, TenantPolicy], Built]
    ) -> Reply:
        """Replay a stored idempotent response first; otherwise build, write and commit, then publish."""
        tenant_id = ctx.principal.tenant_id
        async with self._uow() as uow:
            if ctx.idempotency_key:
                stored = await uow.idempotency.get(tenant_id, ctx.idempotency_key)
                if stored is not None:
                    return self._replay(stored, ctx)
            sender_id = await self._default_sender(uow, tenant_id)
            policy, now = await self._policies.get(tenant_id, uow), utcnow()
            built = await self._enforce_rules(
                uow, tenant_id, sender_id, policy, build(sender_id, now, policy)
            )
            created = await uow.notifications.add_many(built.items)
            reply = self._reply(created, built)
            if ctx.idempotency_key:
                stored_new = StoredResponse(ctx.request_hash, reply.status_code, reply.body)
                if not await uow.idempotency.put(tenant_id, ctx.idempotency_key, stored_new):
                    await uow.rollback()
                    return await self._replay_after_race(ctx)
            uow.stage([n for n in created if n.status is Status.QUEUED])
            await uow.commit()
        for n in created:
            self._metrics.accepted.labels(n.priority, n.recipient_country or "").inc()
        return reply

    async def _enforce_rules(
        self, uow: UnitOfWork, tenant_id: str, sender_id: str, policy: TenantPolicy, built: Built
    ) -> Built:
        """Templates, the customer-service window and opt-outs (422; per item in a bulk request)."""
        checked = await self._rules.check(uow, tenant_id, sender_id, policy, built.items, utcnow())
        if built.bulk is None:
            for result in checked:
                if isinstance(result, DomainError):
                    raise result
        kept = [r for r in checked if not isinstance(r, DomainError)]
        if built.bulk is None or len(kept) == len(checked):
            return Built(kept, built.errors, built.bulk)
        errors = list(built.errors)
        indexes = sorted(set(range(built.bulk[1])) - {e.index for e in errors})
        for index, result in zip(indexes, checked, strict=True):
            if isinstance(result, DomainError):
                field = f"notifications[{index}].{result.field}" if result.field else None
                errors.append(ItemError(index=index, code=result.code, message=result.message, field=field))
        return Built(kept, sorted(errors, key=lambda e: e.index), built.bulk)

    async def _default_sender(self, uow: UnitOfWork, tenant_id: str) -> str:
        cached = self._senders.get(tenant_id)
        if cached is not None:
            return cached
        sender = await uow.senders.default_for(tenant_id)
        if sender is None:
            raise NoSender("This tenant has no WhatsApp sender configured")
        self._senders.put(tenant_id, sender.id)
        return sender.id

    def _reply(self, created: list[Notification], built: Built) -> Reply:
        if built.bulk is None:
            return Reply(201, msgspec.json.encode(_created(created[0])))
        batch_id, total = built.bulk
        errors = built.errors
        indexes = sorted(set(range(total)) - {e.index for e in errors})
        body = BulkCreated(
            batch_id=batch_id,
            total=total,
            queued=len(created),
            failed=len(errors),
            errors=errors,
            notifications=[
                BulkItem(index=i, id=n.id, status=n.status.value)
                for i, n in zip(indexes, created, strict=True)
            ],
        )
        return Reply(202, msgspec.json.encode(body))

    def _replay(self, stored: StoredResponse, ctx: RequestContext) -> Reply:
        if stored.request_hash != ctx.request_hash:
            raise IdempotencyConflict(
                "This X-Idempotency-Key was used with a different request body", field="X-Idempotency-Key"
            )
        return Reply(stored.status_code, stored.body, replayed=True)

    async def _replay_after_race(self, ctx: RequestContext) -> Reply:
        assert ctx.idempotency_key is not None
        async with self._uow() as uow:
            stored = await uow.idempotency.get(ctx.principal.tenant_id, ctx.idempotency_key)
        assert stored is not None
        return self._replay(stored, ctx)

    async def cancel(self, principal: Principal, notification_id: str) -> NotificationView:
        """Cancel a notification not yet handed to Meta: 404 if not the tenant's, 409 if too late."""
        async with self._uow() as uow:
            canceled = await uow.notifications.cancel(notification_id, principal.tenant_id)
            current = canceled or await uow.notifications.get(notification_id, principal.tenant_id)
            await uow.commit()
        if current is None:
            raise NotFound(f"Notification {notification_id} not found", field="id")
        if canceled is None:
            raise NotCancelable(
                f"Notification {notification_id} is {current.status.value}: only scheduled, queued or "
                "rate_limited notifications can be canceled",
                field="id",
            )
        self._metrics.transitions.labels("canceled").inc()
        return view_of(canceled)

    async def list(
        self, principal: Principal, flt: NotificationFilter, *, limit: int, cursor: str | None
    ) -> NotificationPage:
        after = decode_cursor(cursor) if cursor else None
        async with self._uow() as uow:
            rows = await uow.notifications.page(principal.tenant_id, flt, limit=limit + 1, after=after)
        page = rows[:limit]
        more = len(rows) > limit
        next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if more else None
        return NotificationPage([view_of(n) for n in page], next_cursor)

    async def batch(self, principal: Principal, batch_id: str) -> BatchOut:
        async with self._uow() as uow:
            summary = await uow.notifications.batch_summary(principal.tenant_id, batch_id)
        if summary is None:
            raise NotFound(f"Batch {batch_id} not found", field="batch_id")
        return BatchOut(
            id=summary.id,
            total=summary.total,
            counts=summary.counts,
            settled=summary.settled,
            created_at=iso(summary.created_at) or "",
            updated_at=iso(summary.updated_at) or "",
        )

    async def get(self, principal: Principal, notification_id: str) -> NotificationView:
        return view_of(await self._owned(principal, notification_id))

    async def status(self, principal: Principal, notification_id: str) -> NotificationStatus:
        return status_of(await self._owned(principal, notification_id))

    async def history(self, principal: Principal, notification_id: str) -> NotificationHistory:
        async with self._uow() as uow:
            n = await uow.notifications.get(notification_id, principal.tenant_id)
            rows = await uow.notifications.history(notification_id) if n is not None else []
        if n is None:
            raise NotFound(f"Notification {notification_id} not found", field="id")
        return NotificationHistory(notification_id=n.id, events=history_of(rows))

    async def _owned(self, principal: Principal, notification_id: str) -> Notification:
        async with self._uow() as uow:
            n = await uow.notifications.get(notification_id, principal.tenant_id)
        if n is None:
            raise NotFound(f"Notification {notification_id} not found", field="id")
        return n
