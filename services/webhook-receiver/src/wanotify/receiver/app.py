"""``create_app(settings)``: Meta's webhook endpoint (handshake and signed notifications).

``POST /webhooks/whatsapp`` answers:

- 401 when ``X-Hub-Signature-256`` is missing or wrong (nothing is decoded);
- 400 when the signature is valid but the body is not Meta's envelope at all (not UTF-8, not JSON,
  nested too deeply, not ``{object, entry[].changes[]}``): one warning line (reason, byte count;
  never content or phone numbers) and ``wanotify_webhook_events_total{kind="envelope",result="malformed"}``;
- 200 for a signed envelope, even when some of its statuses, messages or template updates are
  malformed: the valid ones are applied, each malformed one is skipped and counted
  (``{kind, result="malformed"}``) and one warning line lists them. Meta retries anything but a
  200 for days, and a permanently bad item must not hold back the good ones;
- 413 for a body over 4 MiB, 500 (logged) when something unexpected fails, e.g. PostgreSQL, so
  that Meta retries later.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get, post, route
from litestar.datastructures import State
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from redis.asyncio import Redis

from wanotify.common.config import Settings
from wanotify.common.db.engine import create_engine
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.edge.trace_id import trace_id_for
from wanotify.common.edge.wiring import edge_middleware, wrap_edge
from wanotify.common.health import database_check, redis_check, run_checks
from wanotify.common.meta.signature import verify
from wanotify.common.metrics import Metrics
from wanotify.receiver.dispatch import Dispatcher
from wanotify.receiver.envelope import MalformedPayload, decode_envelope
from wanotify.receiver.inbound import InboundHandler
from wanotify.receiver.openapi import (
    HEALTH_RESPONSES,
    MAX_BODY_BYTES,
    RECEIVE,
    RECEIVE_RESPONSES,
    VERIFY,
    VERIFY_RESPONSES,
    openapi_config,
)
from wanotify.receiver.statuses import StatusApplier

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/whatsapp"
WEBHOOK_METHODS = "GET, OPTIONS, POST"


def _text(body: str, status: int) -> Response[str]:
    return Response(body, status_code=status, media_type=MediaType.TEXT)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[str]:
    """Litestar's own refusals (404, 405, 413) as text, keeping their headers (405's ``Allow``)."""
    headers = {**(exc.headers or {}), "X-Trace-Id": trace_id_for(request.scope)}
    return Response(exc.detail, status_code=exc.status_code, media_type=MediaType.TEXT, headers=headers)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    trace_id = trace_id_for(request.scope)
    log.error("webhook request failed", exc_info=exc, extra={"route": request.scope.get("path_template")})
    return Response(
        "internal error", status_code=500, media_type=MediaType.TEXT, headers={"X-Trace-Id": trace_id}
    )


def create_app(settings: Settings) -> Litestar:
    metrics = Metrics("receiver")
    app_state: dict[str, Any] = {}

    # Declared before GET and POST: Litestar's own OPTIONS handler would only list the methods of
    # the first handler registered for the path.
    @route(WEBHOOK_PATH, http_method=[HttpMethod.OPTIONS], include_in_schema=False, sync_to_thread=False)
    def webhook_options() -> Response[None]:
        return Response(None, status_code=204, headers={"Allow": WEBHOOK_METHODS})

    @get(
        WEBHOOK_PATH,
        sync_to_thread=False,
        media_type=MediaType.TEXT,
        operation_id=VERIFY,
        responses=VERIFY_RESPONSES,
        tags=["webhooks"],
    )
    def verify_subscription(request: Request[Any, Any, State]) -> Response[str]:
        """Meta's handshake: echo `hub.challenge` when `hub.mode` is `subscribe` and the token matches."""
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

    @post(
        WEBHOOK_PATH,
        status_code=200,
        media_type=MediaType.TEXT,
        operation_id=RECEIVE,
        responses=RECEIVE_RESPONSES,
        response_description="Acknowledged: the valid items were applied, malformed ones skipped and counted",
        tags=["webhooks"],
    )
    async def receive(request: Request[Any, Any, State]) -> Response[str]:
        """Meta's notifications: statuses, inbound messages and template status updates."""
        body = await request.body()
        if not verify(settings.meta.app_secret, body, request.headers.get("x-hub-signature-256")):
            metrics.signature_failures.inc()
            log.warning("webhook with a missing or bad signature", extra={"bytes": len(body)})
            return _text("invalid signature", 401)
        try:
            envelope = decode_envelope(body)
        except MalformedPayload as exc:
            metrics.webhook_events.labels("envelope", "malformed").inc()
            log.warning("malformed webhook payload refused", extra={"reason": exc.reason, "bytes": len(body)})
            return _text("malformed payload", 400)
        dispatcher: Dispatcher = app_state["dispatcher"]
        skipped = await dispatcher.dispatch(envelope)
        if skipped:
            log.warning(
                "malformed webhook items skipped",
                extra={"skipped": dict(skipped.counts), "reasons": skipped.reasons, "bytes": len(body)},
            )
        return _text("ok", 200)

    @get("/livez", sync_to_thread=False, include_in_schema=False)
    def livez() -> dict[str, str]:
        return {"status": "alive"}

    @get("/metrics", sync_to_thread=False, include_in_schema=False)
    def metrics_endpoint() -> Response[bytes]:
        payload, content_type = metrics.exposition()
        return Response(payload, media_type=content_type)

    @get("/health", operation_id="getHealth", responses=HEALTH_RESPONSES, tags=["operations"])
    async def health() -> Response[dict[str, Any]]:
        """Dependencies' health: 200 when the receiver can take webhooks, 503 when it cannot."""
        code, body = await app_state["health"]()
        return Response(body, status_code=code)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        app_state["dispatcher"] = Dispatcher(
            StatusApplier(lambda: UnitOfWork(engine), metrics),
            InboundHandler(lambda: UnitOfWork(engine), metrics),
            metrics,
        )

        async def check() -> tuple[int, dict[str, Any]]:
            return await run_checks(
                settings.version, {"database": database_check(engine)}, {"redis": redis_check(redis)}
            )

        app_state["health"] = check
        try:
            yield
        finally:
            await redis.aclose()
            await engine.dispose()

    app = Litestar(
        logging_config=None,
        route_handlers=[webhook_options, verify_subscription, receive, livez, metrics_endpoint, health],
        lifespan=[lifespan],
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
        middleware=edge_middleware(metrics, settings.receiver),
        plugins=[
            OpenTelemetryPlugin(
                OpenTelemetryConfig(exclude=["/livez", "/metrics"], exclude_spans=["receive", "send"])
            )
        ],
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=openapi_config(settings.version),
        debug=False,
    )
    return wrap_edge(app, "wanotify.receiver.access")
