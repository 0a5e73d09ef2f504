"""The webhook endpoint aggregate: a tenant's endpoints, their deliveries and the attempt log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import and_, case, delete, exists, func, insert, or_, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.config import WebhookSettings
from wanotify.common.db.rows import convert
from wanotify.common.db.schema import webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events
from wanotify.common.domain.webhook import AttemptOutcome, DeliveryRecord, DueDelivery, WebhookEndpoint
from wanotify.common.ids import new_id

_e = webhook_endpoints
_d = webhook_deliveries

# Due deliveries, taken per endpoint so that one endpoint's backlog never hides another's: each
# enabled endpoint whose breaker is not open gets at most its free slots (`per_endpoint` less what
# any worker has in flight to it; one probe while its breaker is half-open), oldest due first, read
# from `ix_webhook_deliveries_endpoint_due` in order. Claims running at the same moment skip each
# other's rows, but do not see each other's in flight until they commit, so for that moment an
# endpoint may have up to the cap per claiming worker. A notification's later event waits while an
# earlier one is unfinished, for at most `wait` seconds after it was recorded. A `delivering` row
# whose claim lapsed (its worker died) is due again.
_CLAIM = text(
    """
    WITH slots AS (
        SELECT e.id,
               CASE WHEN e.breaker_open_until IS NULL THEN :per_endpoint ELSE 1 END
               - (SELECT count(*) FROM webhook_deliveries f
                  WHERE f.endpoint_id = e.id AND f.status = 'delivering' AND f.claim_expires_at >= now())
               AS free
        FROM webhook_endpoints e
        WHERE e.enabled AND (e.breaker_open_until IS NULL OR e.breaker_open_until <= now())
    ), candidates AS (
        SELECT due.id, due.next_attempt_at
        FROM slots s
        CROSS JOIN LATERAL (
            SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
            WHERE d.endpoint_id = s.id
              AND d.status IN ('pending', 'delivering')
              AND (d.status = 'pending' OR d.claim_expires_at < now())
              AND d.next_attempt_at <= now()
              AND (
                d.notification_id IS NULL
                OR d.created_at <= now() - make_interval(secs => :wait)
                OR NOT EXISTS (
                    SELECT 1 FROM webhook_deliveries p
                    WHERE p.endpoint_id = d.endpoint_id AND p.notification_id = d.notification_id
                      AND p.sequence < d.sequence AND p.status IN ('pending', 'delivering')
                )
              )
            ORDER BY d.next_attempt_at, d.id
            LIMIT GREATEST(s.free, 0)
            FOR UPDATE OF d SKIP LOCKED
        ) due
        WHERE s.free > 0
    ), chosen AS (
        SELECT id FROM candidates ORDER BY next_attempt_at LIMIT :limit
    ), claimed AS (
        UPDATE webhook_deliveries d
        SET status = 'delivering', attempt = d.attempt + 1,
            claim_expires_at = now() + make_interval(secs => :claim)
        FROM chosen WHERE d.id = chosen.id
        RETURNING d.*
    )
    SELECT c.id, c.event_id, c.endpoint_id, c.tenant_id, c.event_type, c.attempt, c.created_at,
           c.notification_id, ev.payload, ev.traceparent, e.url, e.secret_encrypted,
           e.previous_secret_encrypted, e.previous_secret_expires_at
    FROM claimed c
    JOIN webhook_events ev ON ev.id = c.event_id
    JOIN webhook_endpoints e ON e.id = c.endpoint_id
    ORDER BY c.notification_id, c.event_id
    """
)


def _seconds(seconds: float) -> Any:
    return func.make_interval(0, 0, 0, 0, 0, 0, seconds)


class WebhookRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # --- endpoints -------------------------------------------------------------------------
    async def add(
        self,
        tenant_id: str,
        *,
        url: str,
        events: Sequence[str],
        secret_encrypted: bytes,
        description: str | None,
        metadata: dict[str, Any],
    ) -> WebhookEndpoint:
        row = (
            await self._conn.execute(
                insert(_e)
                .values(
                    id=new_id("whep"),
                    tenant_id=tenant_id,
                    url=url,
                    events=list(events),
                    secret_encrypted=secret_encrypted,
                    description=description,
                    metadata=metadata,
                )
                .returning(*_e.c)
            )
        ).one()
        return convert(row, WebhookEndpoint)

    async def count(self, tenant_id: str) -> int:
        stmt = select(func.count()).select_from(_e).where(_e.c.tenant_id == tenant_id)
        return int((await self._conn.execute(stmt)).scalar_one())

    async def get(self, endpoint_id: str, tenant_id: str) -> WebhookEndpoint | None:
        row = (
            await self._conn.execute(select(_e).where(_e.c.id == endpoint_id, _e.c.tenant_id == tenant_id))
        ).first()
        return convert(row, WebhookEndpoint) if row else None

    async def page(
        self, tenant_id: str, *, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[WebhookEndpoint]:
        """Newest first by ``(created_at, id)``; ``after`` is the last row of the previous page."""
        stmt = select(_e).where(_e.c.tenant_id == tenant_id)
        if after is not None:
            at, last_id = after
            stmt = stmt.where(or_(_e.c.created_at < at, and_(_e.c.created_at == at, _e.c.id < last_id)))
        stmt = stmt.order_by(_e.c.created_at.desc(), _e.c.id.desc()).limit(limit)
        return [convert(r, WebhookEndpoint) for r in (await self._conn.execute(stmt)).all()]

    async def change(self, endpoint_id: str, tenant_id: str, **values: Any) -> WebhookEndpoint | None:
        """Set ``values`` (url, events, description, metadata, enabled …); None when not the tenant's."""
        row = (
            await self._conn.execute(
                update(_e)
                .where(_e.c.id == endpoint_id, _e.c.tenant_id == tenant_id)
                .values(updated_at=func.now(), **values)
                .returning(*_e.c)
            )
        ).first()
        return convert(row, WebhookEndpoint) if row else None

    async def enable(self, endpoint_id: str, tenant_id: str) -> WebhookEndpoint | None:
        return await self.change(
            endpoint_id,
            tenant_id,
            enabled=True,
            disabled_reason=None,
            disabled_at=None,
            failing_since=None,
            consecutive_failures=0,
            breaker_open_until=None,
        )

    async def disable(self, endpoint_id: str, tenant_id: str, reason: str) -> WebhookEndpoint | None:
        return await self.change(
            endpoint_id, tenant_id, enabled=False, disabled_reason=reason, disabled_at=func.now()
        )

    async def rotate(
        self, endpoint_id: str, tenant_id: str, *, secret_encrypted: bytes, overlap_seconds: float
    ) -> WebhookEndpoint | None:
        """The new secret signs from now on; the old one too, until the overlap ends."""
        return await self.change(
            endpoint_id,
            tenant_id,
            previous_secret_encrypted=_e.c.secret_encrypted,
            previous_secret_expires_at=func.now() + _seconds(overlap_seconds),
            secret_encrypted=secret_encrypted,
        )

    async def remove(self, endpoint_id: str, tenant_id: str) -> bool:
        stmt = delete(_e).where(_e.c.id == endpoint_id, _e.c.tenant_id == tenant_id).returning(_e.c.id)
        return (await self._conn.execute(stmt)).first() is not None

    # --- deliveries ------------------------------------------------------------------------
    async def claim_due(
        self,
        *,
        limit: int,
        per_endpoint: int,
        claim_seconds: float,
        ordering_wait_seconds: float,
    ) -> list[DueDelivery]:
        rows = (
            await self._conn.execute(
                _CLAIM,
                {
                    "limit": limit,
                    "per_endpoint": per_endpoint,
                    "claim": float(claim_seconds),
                    "wait": float(ordering_wait_seconds),
                },
            )
        ).all()
        return [convert(r, DueDelivery) for r in rows]

    async def add_test_delivery(
        self, endpoint: WebhookEndpoint, event_id: str, payload: dict[str, Any]
    ) -> DueDelivery:
        """A ``webhook.test`` event for this endpoint alone, claimed for the caller to deliver now."""
        await self._conn.execute(
            insert(webhook_events).values(
                id=event_id, tenant_id=endpoint.tenant_id, type="webhook.test", payload=payload
            )
        )
        row = (
            await self._conn.execute(
                insert(_d)
                .values(
                    id=new_id("whd"),
                    event_id=event_id,
                    endpoint_id=endpoint.id,
                    tenant_id=endpoint.tenant_id,
                    event_type="webhook.test",
                    status="delivering",
                    attempt=1,
                    claim_expires_at=func.now() + _seconds(60),
                )
                .returning(_d.c.id, _d.c.created_at)
            )
        ).one()
        return DueDelivery(
            id=row.id,
            event_id=event_id,
            endpoint_id=endpoint.id,
            tenant_id=endpoint.tenant_id,
            event_type="webhook.test",
            attempt=1,
            payload=payload,
            url=endpoint.url,
            secret_encrypted=endpoint.secret_encrypted,
            previous_secret_encrypted=endpoint.previous_secret_encrypted,
            previous_secret_expires_at=endpoint.previous_secret_expires_at,
            created_at=row.created_at,
        )

    async def record_attempt(
        self,
        d: DueDelivery,
        outcome: AttemptOutcome,
        *,
        next_attempt_at: datetime | None,
        health: WebhookSettings | None,
        disable_reason: str | None = None,
    ) -> str:
        """Write the attempt to the log and settle the delivery: ``succeeded``, back to ``pending``
        for ``next_attempt_at``, or ``failed`` (no next attempt). A success clears the endpoint's
        failing streak and closes its breaker. The ``breaker_failures``-th failure in a row opens the
        breaker for ``breaker_cooldown_seconds`` (as does a failed probe after it); a streak older
        than ``disable_after_seconds`` (or a ``disable_reason``, a 410 Gone) disables the endpoint.
        Those rules are ``health``'s; without it (a test event) the endpoint's health is left alone.
        Returns the delivery's new status."""
        status = (
            "succeeded" if outcome.succeeded else ("pending" if next_attempt_at is not None else "failed")
        )
        await self._conn.execute(
            insert(webhook_attempts).values(
                delivery_id=d.id,
                attempt=d.attempt,
                status_code=outcome.status_code,
                duration_ms=outcome.duration_ms,
                response_body=outcome.response_body,
                error=outcome.error,
                next_attempt_at=next_attempt_at if status == "pending" else None,
            )
        )
        await self._conn.execute(
            update(_d)
            .where(_d.c.id == d.id, _d.c.attempt == d.attempt)
            .values(
                status=status,
                claim_expires_at=None,
                next_attempt_at=next_attempt_at if status == "pending" else _d.c.next_attempt_at,
                last_status_code=outcome.status_code,
                last_error=outcome.error,
                last_attempt_at=func.now(),
                delivered_at=func.now() if status == "succeeded" else None,
            )
        )
        if health is None:
            return status
        if outcome.succeeded:
            await self._conn.execute(
                update(_e)
                .where(
                    _e.c.id == d.endpoint_id,
                    or_(_e.c.consecutive_failures > 0, _e.c.failing_since.is_not(None)),
                )
                .values(failing_since=None, consecutive_failures=0, breaker_open_until=None)
            )
            return status
        failures = _e.c.consecutive_failures + 1
        reopened = func.now() + _seconds(health.breaker_cooldown_seconds)
        await self._conn.execute(
            update(_e)
            .where(_e.c.id == d.endpoint_id)
            .values(
                failing_since=func.coalesce(_e.c.failing_since, func.now()),
                consecutive_failures=failures,
                breaker_open_until=case(
                    (failures >= health.breaker_failures, reopened), else_=_e.c.breaker_open_until
                ),
            )
        )
        too_long = _e.c.failing_since < func.now() - _seconds(health.disable_after_seconds)
        await self._conn.execute(
            update(_e)
            .where(_e.c.id == d.endpoint_id, _e.c.enabled, true() if disable_reason else too_long)
            .values(
                enabled=False,
                disabled_reason=disable_reason or "every delivery failed for too long",
                disabled_at=func.now(),
                updated_at=func.now(),
            )
        )
        return status

    # --- the delivery log ------------------------------------------------------------------
    async def deliveries(
        self,
        endpoint_id: str,
        *,
        limit: int,
        status: str | None = None,
        event_type: str | None = None,
        notification_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> list[DeliveryRecord]:
        """An endpoint's deliveries newest first, each with its last attempt (the caller has checked
        that the endpoint is the tenant's)."""
        last = (
            select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id == _d.c.id)
            .order_by(webhook_attempts.c.id.desc())
            .limit(1)
            .lateral("last")
        )
        stmt = (
            select(
                _d.c.id,
                _d.c.event_id,
                _d.c.event_type,
                _d.c.notification_id,
                _d.c.status,
                _d.c.attempt,
                _d.c.created_at,
                _d.c.delivered_at,
                _d.c.next_attempt_at,
                last.c.status_code,
                last.c.duration_ms,
                last.c.response_body,
                last.c.error,
                last.c.attempted_at,
            )
            .select_from(_d.outerjoin(last, true()))
            .where(_d.c.endpoint_id == endpoint_id)
        )
        for column, value in (
            (_d.c.status, status),
            (_d.c.event_type, event_type),
            (_d.c.notification_id, notification_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if since is not None:
            stmt = stmt.where(_d.c.created_at >= since)
        if until is not None:
            stmt = stmt.where(_d.c.created_at < until)
        if after is not None:
            at, last_id = after
            stmt = stmt.where(or_(_d.c.created_at < at, and_(_d.c.created_at == at, _d.c.id < last_id)))
        stmt = stmt.order_by(_d.c.created_at.desc(), _d.c.id.desc()).limit(limit)
        rows = (await self._conn.execute(stmt)).mappings().all()
        return [msgspec.convert({str(k): v for k, v in r.items()}, DeliveryRecord) for r in rows]

    async def redeliver(self, endpoint_id: str, delivery_id: str) -> bool:
        """One delivery due again now, whatever became of it (not while it is being delivered)."""
        stmt = (
            update(_d)
            .where(_d.c.id == delivery_id, _d.c.endpoint_id == endpoint_id, _d.c.status != "delivering")
            .values(status="pending", next_attempt_at=func.now(), claim_expires_at=None)
            .returning(_d.c.id)
        )
        return (await self._conn.execute(stmt)).first() is not None

    async def recover(self, endpoint_id: str, *, since: datetime, until: datetime | None) -> int:
        """Every delivery that failed, or was held while the endpoint was disabled, in the range:
        due again now. Returns how many."""
        conds = [
            _d.c.endpoint_id == endpoint_id,
            _d.c.status.in_(["failed", "held"]),
            _d.c.created_at >= since,
        ]
        if until is not None:
            conds.append(_d.c.created_at < until)
        stmt = (
            update(_d)
            .where(*conds)
            .values(status="pending", next_attempt_at=func.now(), claim_expires_at=None)
            .returning(_d.c.id)
        )
        return len((await self._conn.execute(stmt)).all())

    async def purge(self, *, older_than_days: int, limit: int) -> int:
        """Events older than the retention, with their deliveries and attempts, unless one is still
        due (a pending retry keeps its event). Returns how many events went."""
        old = (
            select(webhook_events.c.id)
            .where(
                webhook_events.c.created_at < func.now() - func.make_interval(0, 0, 0, older_than_days),
                ~exists().where(
                    _d.c.event_id == webhook_events.c.id, _d.c.status.in_(["pending", "delivering"])
                ),
            )
            .limit(limit)
            .scalar_subquery()
        )
        stmt = delete(webhook_events).where(webhook_events.c.id.in_(old)).returning(webhook_events.c.id)
        return len((await self._conn.execute(stmt)).all())

    async def unhealthy_counts(self) -> tuple[int, int]:
        """Endpoints disabled, and enabled endpoints whose breaker is open or half-open."""
        stmt = select(
            func.count().filter(_e.c.enabled.is_(False)),
            func.count().filter(_e.c.enabled, _e.c.breaker_open_until.is_not(None)),
        ).select_from(_e)
        disabled, breakers = (await self._conn.execute(stmt)).one()
        return int(disabled), int(breakers)

    async def backlog(self) -> int:
        stmt = select(func.count()).select_from(_d).where(_d.c.status.in_(["pending", "delivering"]))
        return int((await self._conn.execute(stmt)).scalar_one())
