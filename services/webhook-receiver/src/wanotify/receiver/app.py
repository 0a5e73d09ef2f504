"""``create_app(settings)``: Meta's webhook endpoint (handshake and signed notifications)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from redis.asyncio import Redis

from wanotify.common.config import Settings
from wanotify.common.db.engine import create_engine
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.health import database_check, redis_check, run_checks
from wanotify.common.http import metrics_middleware, ops_handlers
from wanotify.common.meta.signature import verify
from wanotify.common.meta.webhooks import ChangeValue, WebhookEnvelope
from wanotify.common.metrics import Metrics
from wanotify.receiver.inbound import InboundHandler
from wanotify.receiver.statuses import StatusApplier

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/whatsapp"


def _text(body: str, status: int) -> Response[str]:
    return Response(body, status_code=status, media_type=MediaType.TEXT)


def create_app(settings: Settings) -> Litestar:
    metrics = Metrics("receiver")
    app_state: dict[str, Any] = {}

    @get(WEBHOOK_PATH, sync_to_thread=False)
    def verify_subscription(request: Request[Any, Any, State]) -> Response[str]:
        """Meta's handshake: echo ``hub.challenge`` when the verify token matches."""
        params = request.query_params
        token = params.get("hub.verify_token") or ""
        expected = settings.meta.verify_token
        if (
            params.get("hub.mode") == "subscribe"
            and expected
            and hmac.compare_digest(token.encode(), expected.encode())
        ):
            return _text(params.get("hub.challenge") or "", 200)
        return _text("verification failed", 403)

    @post(WEBHOOK_PATH, status_code=200)
    async def receive(request: Request[Any, Any, State]) -> Response[str]:
        body = await request.body()
        if not verify(settings.meta.app_secret, body, request.headers.get("x-hub-signature-256")):
            metrics.signature_failures.inc()
            log.warning("webhook with a missing or bad signature", extra={"bytes": len(body)})
            return _text("invalid signature", 401)
        try:
            envelope = msgspec.json.decode(body, type=WebhookEnvelope)
        except (msgspec.DecodeError, msgspec.ValidationError):
            metrics.webhook_events.labels("envelope", "malformed").inc()
            return _text("malformed payload", 400)
        applier: StatusApplier = app_state["applier"]
        inbound: InboundHandler = app_state["inbound"]
        for entry in envelope.entry:
            for change in entry.changes:
                if change.field == "message_template_status_update":
                    await inbound.template_status(entry.id, change.value)
                    continue
                if change.field != "messages":
                    metrics.webhook_events.labels(change.field[:40], "ignored").inc()
                    continue
                try:
                    value = msgspec.json.decode(change.value, type=ChangeValue)
                except msgspec.ValidationError:
                    metrics.webhook_events.labels("messages", "malformed").inc()
                    continue
                for item in value.statuses:
                    await applier.apply(item)
                for _message in value.messages:
                    metrics.webhook_events.labels("inbound", "received").inc()
                await inbound.messages(value)
        return _text("ok", 200)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        app_state["applier"] = StatusApplier(lambda: UnitOfWork(engine), metrics)
        app_state["inbound"] = InboundHandler(lambda: UnitOfWork(engine), metrics)

        async def health() -> tuple[int, dict[str, Any]]:
            return await run_checks(
                settings.version, {"database": database_check(engine)}, {"redis": redis_check(redis)}
            )

        app_state["health"] = health
        try:
            yield
        finally:
            await redis.aclose()
            await engine.dispose()

    async def health() -> tuple[int, dict[str, Any]]:
        check = app_state["health"]
        result: tuple[int, dict[str, Any]] = await check()
        return result

    return Litestar(
        logging_config=None,
        route_handlers=[verify_subscription, receive, *ops_handlers(metrics, health)],
        lifespan=[lifespan],
        middleware=[metrics_middleware(metrics)],
        plugins=[
            OpenTelemetryPlugin(
                OpenTelemetryConfig(exclude=["/livez", "/metrics"], exclude_spans=["receive", "send"])
            )
        ],
        request_max_body_size=4 * 1024 * 1024,  # Meta sends at most 3 MB
    )
