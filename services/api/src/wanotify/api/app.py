"""``create_app(settings)``: the ingest API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Response, get
from litestar.openapi import OpenAPIConfig
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from redis.asyncio import Redis

from wanotify.api.auth import Authenticator
from wanotify.api.dead_letters.controller import DeadLetterController, DeadLetterService
from wanotify.api.errors import EXCEPTION_HANDLERS
from wanotify.api.ingress import IngressGate, ingress_headers_middleware
from wanotify.api.notifications.controller import NotificationController
from wanotify.api.notifications.rules import IngestRules
from wanotify.api.notifications.service import NotificationService
from wanotify.api.opt_outs.controller import OptOutController
from wanotify.api.senders.controller import SenderController, SenderService
from wanotify.api.state import AppState
from wanotify.api.templates.controller import TemplateController
from wanotify.api.templates.service import TemplateService
from wanotify.api.tracing import trace_id_middleware
from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.engine import create_engine
from wanotify.common.db.policies import TenantPolicies
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.health import database_check, meta_check, queue_check, redis_check, run_checks
from wanotify.common.http import metrics_middleware
from wanotify.common.meta.client import MetaClient, create_http_client
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher
from wanotify.common.queue.factory import create_queue
from wanotify.common.ratelimit import IngressLimiter
from wanotify.common.template_sync import TemplateSyncer


@get("/livez", include_in_schema=False, sync_to_thread=False)
def livez() -> dict[str, str]:
    return {"status": "alive"}


@get("/health", tags=["operations"])
async def health(state: AppState) -> Response[dict[str, Any]]:
    code, body = await state.health()
    return Response(body, status_code=code)


def create_app(settings: Settings) -> Litestar:
    metrics = Metrics("api")

    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def metrics_endpoint() -> Response[bytes]:
        payload, content_type = metrics.exposition()
        return Response(payload, media_type=content_type)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        queue = create_queue(settings.queue, engine)
        http = create_http_client(settings.meta, max_connections=10)

        def uow() -> UnitOfWork:
            return UnitOfWork(engine)

        state: Any = app.state
        rules = IngestRules(settings.api_key_cache_seconds)
        policies = TenantPolicies(uow, settings.api_key_cache_seconds)
        state.notifications = NotificationService(
            uow,
            Publisher(queue, engine),
            metrics,
            max_attempts=settings.worker.max_attempts,
            cache_seconds=settings.api_key_cache_seconds,
            rules=rules,
            policies=policies,
        )
        syncer = (
            TemplateSyncer(uow, MetaClient(settings.meta, http), SecretBox(settings.encryption_key))
            if settings.encryption_key
            else None
        )
        state.templates = TemplateService(uow, syncer, rules)
        state.uow = uow
        state.senders = SenderService(uow)
        state.dead_letters = DeadLetterService(
            uow, Publisher(queue, engine), metrics, max_attempts=settings.worker.max_attempts
        )
        state.ingress = IngressGate(
            Authenticator(uow, cache_seconds=settings.api_key_cache_seconds),
            IngressLimiter(redis, settings.ingress_limits),
            policies,
            settings.ingress_limits,
        )
        state.authenticate = state.ingress.authenticate

        async def check() -> tuple[int, dict[str, Any]]:
            return await run_checks(
                settings.version,
                {
                    "database": database_check(engine),
                    "redis": redis_check(redis),
                    "queue": queue_check(queue, metrics.queue_depth.set),
                },
                {"whatsapp_api": meta_check(http, settings.meta.graph_base_url)},
            )

        state.health = check
        try:
            yield
        finally:
            await queue.close()
            await http.aclose()
            await redis.aclose()
            await engine.dispose()

    return Litestar(
        logging_config=None,
        route_handlers=[
            NotificationController,
            TemplateController,
            OptOutController,
            SenderController,
            DeadLetterController,
            health,
            livez,
            metrics_endpoint,
        ],
        lifespan=[lifespan],
        state=AppState(),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[metrics_middleware(metrics), trace_id_middleware, ingress_headers_middleware],
        plugins=[
            OpenTelemetryPlugin(
                OpenTelemetryConfig(exclude=["/livez", "/metrics"], exclude_spans=["receive", "send"])
            )
        ],
        request_max_body_size=settings.api_max_body_bytes,
        openapi_config=OpenAPIConfig(title="wa-notify", version=settings.version, path="/schema"),
        debug=False,
    )
