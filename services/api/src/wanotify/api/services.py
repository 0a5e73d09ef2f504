"""The API's services, built once per process in the lifespan and handed to handlers by ``Provide``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from wanotify.api.api_keys.service import ApiKeyService
from wanotify.api.auth import Authenticator
from wanotify.api.dead_letters.service import DeadLetterService
from wanotify.api.ingress import IngressGate
from wanotify.api.notifications.rules import IngestRules
from wanotify.api.notifications.service import NotificationService
from wanotify.api.opt_outs.service import OptOutService
from wanotify.api.senders.service import SenderService
from wanotify.api.templates.service import TemplateService
from wanotify.api.webhooks.service import WebhookService
from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.engine import create_engine
from wanotify.common.db.policies import TenantPolicies
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.errors import DependencyUnavailable
from wanotify.common.health import database_check, meta_check, queue_check, redis_check, run_checks
from wanotify.common.meta.client import MetaClient, create_http_client
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher
from wanotify.common.queue.factory import create_queue
from wanotify.common.ratelimit import IngressLimiter
from wanotify.common.template_sync import TemplateSyncer
from wanotify.common.webhooks.transport import WebhookTransport, create_webhook_client
from wanotify.common.webhooks.urls import system_resolver

HealthCheck = Callable[[], Awaitable[tuple[int, dict[str, Any]]]]


@dataclass(frozen=True)
class Services:
    notifications: NotificationService
    templates: TemplateService
    senders: SenderService
    dead_letters: DeadLetterService
    opt_outs: OptOutService
    webhooks: WebhookService
    api_keys: ApiKeyService
    ingress: IngressGate
    health: HealthCheck


class ServiceSlot:
    """Where the lifespan puts the services; empty before startup and after shutdown."""

    def __init__(self) -> None:
        self._services: Services | None = None

    def get(self) -> Services:
        if self._services is None:
            raise DependencyUnavailable("The API is starting or stopping; retry shortly")
        return self._services

    def peek(self) -> Services | None:
        return self._services

    @asynccontextmanager
    async def holding(self, services: Services) -> AsyncIterator[None]:
        self._services = services
        try:
            yield
        finally:
            self._services = None


@asynccontextmanager
async def open_services(settings: Settings, metrics: Metrics) -> AsyncIterator[Services]:
    """Connect to the database, Redis, the queue and Meta; close them all on the way out."""
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    queue = create_queue(settings.queue, engine)
    http = create_http_client(settings.meta, max_connections=10)
    hooks_http = create_webhook_client(settings.webhooks)

    def uow() -> UnitOfWork:
        return UnitOfWork(engine)

    rules = IngestRules(settings.api_key_cache_seconds)
    policies = TenantPolicies(uow, settings.api_key_cache_seconds)
    publisher = Publisher(queue, engine)
    box = SecretBox(settings.encryption_key) if settings.encryption_key else None
    syncer = TemplateSyncer(uow, MetaClient(settings.meta, http), box) if box else None

    async def health() -> tuple[int, dict[str, Any]]:
        return await run_checks(
            settings.version,
            {
                "database": database_check(engine),
                "redis": redis_check(redis),
                "queue": queue_check(queue, metrics.queue_depth.set),
            },
            {"whatsapp_api": meta_check(http, settings.meta.graph_base_url)},
        )

    authenticator = Authenticator(uow, cache_seconds=settings.api_key_cache_seconds)
    try:
        yield Services(
            notifications=NotificationService(
                uow,
                publisher,
                metrics,
                max_attempts=settings.worker.max_attempts,
                cache_seconds=settings.api_key_cache_seconds,
                rules=rules,
                policies=policies,
            ),
            templates=TemplateService(uow, syncer, rules),
            senders=SenderService(uow),
            dead_letters=DeadLetterService(
                uow, publisher, metrics, max_attempts=settings.worker.max_attempts
            ),
            opt_outs=OptOutService(uow),
            webhooks=WebhookService(
                uow,
                box,
                settings.webhooks,
                system_resolver,
                WebhookTransport(hooks_http, settings.webhooks, system_resolver),
            ),
            api_keys=ApiKeyService(uow, authenticator),
            ingress=IngressGate(
                authenticator,
                IngressLimiter(redis, settings.ingress_limits),
                policies,
                settings.ingress_limits,
            ),
            health=health,
        )
    finally:
        await queue.close()
        await http.aclose()
        await hooks_http.aclose()
        await redis.aclose()
        await engine.dispose()
