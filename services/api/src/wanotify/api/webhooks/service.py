"""Registering and managing a tenant's webhook endpoints.

Every rule on input is the pure one in ``wanotify.common.webhooks`` (URL and address rules, event
types, secrets); a breach is a 422 naming the field. The secret is encrypted at rest like sender
tokens and shown only when it is made (creation, rotation).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

import msgspec

from wanotify.api.paging import decode_cursor, encode_cursor
from wanotify.api.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    Recovered,
    RecoverIn,
    Redelivered,
    RotatedSecret,
    TestOutcome,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
)
from wanotify.common.clock import iso, utcnow
from wanotify.common.config import WebhookSettings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.errors import DependencyUnavailable, NotFound, Unprocessable, ValidationFailed
from wanotify.common.domain.notification import Principal
from wanotify.common.domain.webhook import DeliveryRecord, WebhookEndpoint, breaker_state
from wanotify.common.ids import new_id
from wanotify.common.webhooks.event_types import normalize_subscriptions
from wanotify.common.webhooks.secrets import check_secret, generate_secret, secret_context
from wanotify.common.webhooks.transport import WebhookTransport, endpoint_secrets
from wanotify.common.webhooks.urls import Resolver, UnsafeDestination, check_url, resolve_and_check


def view(e: WebhookEndpoint) -> WebhookOut:
    return WebhookOut(
        id=e.id,
        url=e.url,
        events=list(e.events),
        description=e.description,
        metadata={str(k): str(v) for k, v in e.metadata.items()},
        enabled=e.enabled,
        disabled_reason=e.disabled_reason,
        disabled_at=iso(e.disabled_at),
        failing_since=iso(e.failing_since),
        breaker=breaker_state(e, utcnow()),
        breaker_open_until=iso(e.breaker_open_until),
        previous_secret_expires_at=iso(e.previous_secret_expires_at),
        created_at=iso(e.created_at) or "",
        updated_at=iso(e.updated_at) or "",
    )


def delivery_view(d: DeliveryRecord) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        event_id=d.event_id,
        event_type=d.event_type,
        notification_id=d.notification_id,
        status=d.status,
        attempt=d.attempt,
        status_code=d.status_code,
        duration_ms=d.duration_ms,
        response_body=d.response_body,
        error=d.error,
        attempted_at=iso(d.attempted_at),
        next_attempt_at=iso(d.next_attempt_at) if d.status == "pending" else None,
        delivered_at=iso(d.delivered_at),
        created_at=iso(d.created_at) or "",
    )


class WebhookService:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        box: SecretBox | None,
        settings: WebhookSettings,
        resolver: Resolver,
        transport: WebhookTransport,
    ) -> None:
        self._uow = uow
        self._box = box
        self._settings = settings
        self._resolver = resolver
        self._transport = transport

    def _encrypt(self, secret: str, tenant_id: str) -> bytes:
        if self._box is None:
            raise DependencyUnavailable("WA_ENCRYPTION_KEY is not set: webhook secrets cannot be stored")
        return self._box.encrypt(secret, context=secret_context(tenant_id))

    async def _checked_url(self, url: str) -> str:
        s = self._settings
        try:
            checked = check_url(url, allow_http=s.allow_http, allow_private=s.allow_private_networks)
        except ValidationFailed as e:
            raise Unprocessable(e.message, field=e.field, code=e.code) from None
        parts = urlsplit(checked)
        host = parts.hostname or ""
        try:
            await resolve_and_check(
                host,
                parts.port or (443 if parts.scheme == "https" else 80),
                allow_private=s.allow_private_networks,
                resolver=self._resolver,
            )
        except UnsafeDestination as e:
            raise Unprocessable(e.message, field="url", code=e.code) from None
        except OSError:
            pass  # not resolvable now (DNS down, a name not yet published): delivery checks again
        return checked

    @staticmethod
    def _events(events: list[str]) -> list[str]:
        try:
            return list(normalize_subscriptions(events, field="events"))
        except ValidationFailed as e:
            raise Unprocessable(e.message, field=e.field, code=e.code) from None

    async def create(self, principal: Principal, body: WebhookIn) -> WebhookCreated:
        url = await self._checked_url(body.url)
        events = self._events(body.events)
        try:
            secret = check_secret(body.secret) if body.secret is not None else generate_secret()
        except ValidationFailed as e:
            raise Unprocessable(e.message, field=e.field, code=e.code) from None
        async with self._uow() as uow:
            if await uow.webhooks.count(principal.tenant_id) >= self._settings.max_endpoints_per_tenant:
                raise Unprocessable(
                    f"A tenant may have at most {self._settings.max_endpoints_per_tenant} webhook endpoints",
                    field="url",
                    code="TOO_MANY_WEBHOOKS",
                )
            endpoint = await uow.webhooks.add(
                principal.tenant_id,
                url=url,
                events=events,
                secret_encrypted=self._encrypt(secret, principal.tenant_id),
                description=body.description,
                metadata=dict(body.metadata),
            )
            await uow.commit()
        return WebhookCreated(view(endpoint), secret)

    async def page(self, principal: Principal, *, limit: int, cursor: str | None) -> WebhookPage:
        after = decode_cursor(cursor) if cursor else None
        async with self._uow() as uow:
            rows = await uow.webhooks.page(principal.tenant_id, limit=limit + 1, after=after)
        page = rows[:limit]
        more = len(rows) > limit and page
        return WebhookPage(
            [view(e) for e in page], encode_cursor(page[-1].created_at, page[-1].id) if more else None
        )

    async def get(self, principal: Principal, endpoint_id: str) -> WebhookOut:
        async with self._uow() as uow:
            endpoint = await uow.webhooks.get(endpoint_id, principal.tenant_id)
        if endpoint is None:
            raise NotFound(f"Webhook {endpoint_id} not found", field="id")
        return view(endpoint)

    async def update(self, principal: Principal, endpoint_id: str, body: WebhookPatch) -> WebhookOut:
        values: dict[str, object] = {}
        if body.url is not msgspec.UNSET:
            values["url"] = await self._checked_url(body.url)
        if body.events is not msgspec.UNSET:
            values["events"] = self._events(body.events)
        if body.description is not msgspec.UNSET:
            values["description"] = body.description
        if body.metadata is not msgspec.UNSET:
            values["metadata"] = dict(body.metadata)
        async with self._uow() as uow:
            if body.enabled is True:
                await uow.webhooks.enable(endpoint_id, principal.tenant_id)
            elif body.enabled is False:
                await uow.webhooks.disable(endpoint_id, principal.tenant_id, "disabled through the API")
            endpoint = await uow.webhooks.change(endpoint_id, principal.tenant_id, **values)
            await uow.commit()
        if endpoint is None:
            raise NotFound(f"Webhook {endpoint_id} not found", field="id")
        return view(endpoint)

    async def delete(self, principal: Principal, endpoint_id: str) -> None:
        async with self._uow() as uow:
            removed = await uow.webhooks.remove(endpoint_id, principal.tenant_id)
            await uow.commit()
        if not removed:
            raise NotFound(f"Webhook {endpoint_id} not found", field="id")

    async def rotate(self, principal: Principal, endpoint_id: str) -> RotatedSecret:
        secret = generate_secret()
        async with self._uow() as uow:
            endpoint = await uow.webhooks.rotate(
                endpoint_id,
                principal.tenant_id,
                secret_encrypted=self._encrypt(secret, principal.tenant_id),
                overlap_seconds=self._settings.secret_overlap_seconds,
            )
            await uow.commit()
        if endpoint is None:
            raise NotFound(f"Webhook {endpoint_id} not found", field="id")
        return RotatedSecret(secret, iso(endpoint.previous_secret_expires_at))

    async def _owned(self, uow: UnitOfWork, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
        endpoint = await uow.webhooks.get(endpoint_id, principal.tenant_id)
        if endpoint is None:
            raise NotFound(f"Webhook {endpoint_id} not found", field="id")
        return endpoint

    async def deliveries(
        self,
        principal: Principal,
        endpoint_id: str,
        *,
        status: str | None,
        event_type: str | None,
        notification_id: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> DeliveryPage:
        after = decode_cursor(cursor) if cursor else None
        async with self._uow() as uow:
            await self._owned(uow, principal, endpoint_id)
            rows = await uow.webhooks.deliveries(
                endpoint_id,
                limit=limit + 1,
                status=status,
                event_type=event_type,
                notification_id=notification_id,
                since=since,
                until=until,
                after=after,
            )
        page = rows[:limit]
        more = len(rows) > limit and page
        return DeliveryPage(
            [delivery_view(d) for d in page],
            encode_cursor(page[-1].created_at, page[-1].id) if more else None,
        )

    async def redeliver(self, principal: Principal, endpoint_id: str, delivery_id: str) -> Redelivered:
        async with self._uow() as uow:
            await self._owned(uow, principal, endpoint_id)
            if not await uow.webhooks.redeliver(endpoint_id, delivery_id):
                raise NotFound(
                    f"Delivery {delivery_id} not found, or being delivered right now", field="delivery_id"
                )
            await uow.commit()
        return Redelivered(delivery_id, "pending")

    async def recover(self, principal: Principal, endpoint_id: str, body: RecoverIn) -> Recovered:
        if body.until is not None and body.until <= body.since:
            raise Unprocessable("until must be after since", field="until", code="INVALID_RANGE")
        async with self._uow() as uow:
            await self._owned(uow, principal, endpoint_id)
            count = await uow.webhooks.recover(endpoint_id, since=body.since, until=body.until)
            await uow.commit()
        return Recovered(count)

    async def enable(self, principal: Principal, endpoint_id: str) -> WebhookOut:
        async with self._uow() as uow:
            endpoint = await uow.webhooks.enable(endpoint_id, principal.tenant_id)
            await uow.commit()
        if endpoint is None:
            raise NotFound(f"Webhook {endpoint_id} not found", field="id")
        return view(endpoint)

    async def send_test(self, principal: Principal, endpoint_id: str) -> TestOutcome:
        """A ``webhook.test`` event, delivered now and once (no retries; it does not count towards
        the endpoint's failing streak), logged like any delivery."""
        if self._box is None:
            raise DependencyUnavailable("WA_ENCRYPTION_KEY is not set: webhook secrets cannot be read")
        event_id = new_id("evt")
        payload = {
            "id": event_id,
            "event": "webhook.test",
            "timestamp": iso(utcnow()),
            "data": {"webhook_id": endpoint_id, "message": "A test event from wa-notify"},
        }
        async with self._uow() as uow:
            endpoint = await self._owned(uow, principal, endpoint_id)
            delivery = await uow.webhooks.add_test_delivery(endpoint, event_id, payload)
            await uow.commit()
        secrets = endpoint_secrets(
            self._box,
            endpoint.tenant_id,
            endpoint.secret_encrypted,
            endpoint.previous_secret_encrypted,
            endpoint.previous_secret_expires_at,
        )
        outcome = await self._transport.post(endpoint.url, event_id, payload, secrets)
        async with self._uow() as uow:
            await uow.webhooks.record_attempt(
                delivery,
                outcome,
                next_attempt_at=None,
                health=None,  # a test event says nothing of the endpoint's health
            )
            await uow.commit()
        return TestOutcome(
            event_id=event_id,
            delivery_id=delivery.id,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response_body=outcome.response_body,
            error=outcome.error,
        )
