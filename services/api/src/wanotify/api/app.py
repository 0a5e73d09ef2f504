"""``create_app(settings)``: the ingest API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Response, get
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

from wanotify.api.api_keys.controller import ApiKeyController
from wanotify.api.batches.controller import BatchController
from wanotify.api.dead_letters.controller import DeadLetterController
from wanotify.api.dependencies import dependencies
from wanotify.api.errors import EXCEPTION_HANDLERS
from wanotify.api.examples import REQUEST_EXAMPLES, REQUEST_MODELS
from wanotify.api.guards import authorize
from wanotify.api.ingress import IngressGate, ingress_headers_middleware
from wanotify.api.notifications.controller import NotificationController
from wanotify.api.openapi import HEALTH_RESPONSES, docs_assets, openapi_config
from wanotify.api.opt_outs.controller import OptOutController
from wanotify.api.senders.controller import SenderController
from wanotify.api.services import ServiceSlot, open_services
from wanotify.api.templates.controller import TemplateController
from wanotify.api.webhooks.controller import WebhookController
from wanotify.common.config import Settings
from wanotify.common.edge.wiring import edge_middleware, wrap_edge
from wanotify.common.metrics import Metrics


def create_app(settings: Settings) -> Litestar:
    metrics = Metrics("api")
    slot = ServiceSlot()

    @get("/livez", include_in_schema=False, sync_to_thread=False)
    def livez() -> dict[str, str]:
        return {"status": "alive"}

    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def metrics_endpoint() -> Response[bytes]:
        payload, content_type = metrics.exposition()
        return Response(payload, media_type=content_type)

    @get("/health", tags=["operations"], operation_id="getHealth", security=[], responses=HEALTH_RESPONSES)
    async def health() -> Response[dict[str, Any]]:
        """Dependencies' health: 200 when the service can take requests, 503 when it cannot."""
        code, body = await slot.get().health()
        return Response(body, status_code=code)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services(settings, metrics) as services, slot.holding(services):
            yield

    def gate() -> IngressGate | None:
        services = slot.peek()
        return services.ingress if services is not None else None

    app = Litestar(
        logging_config=None,
        route_handlers=[
            NotificationController,
            BatchController,
            TemplateController,
            OptOutController,
            WebhookController,
            SenderController,
            ApiKeyController,
            DeadLetterController,
            health,
            livez,
            metrics_endpoint,
            docs_assets(),
        ],
        lifespan=[lifespan],
        guards=[authorize(slot)],
        dependencies=dependencies(slot),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[*edge_middleware(metrics, settings.api), ingress_headers_middleware(gate)],
        plugins=[
            OpenTelemetryPlugin(
                OpenTelemetryConfig(exclude=["/livez", "/metrics"], exclude_spans=["receive", "send"])
            )
        ],
        request_max_body_size=settings.api_max_body_bytes,
        openapi_config=openapi_config(settings.version, REQUEST_EXAMPLES, REQUEST_MODELS),
        debug=False,
    )
    return wrap_edge(app, "wanotify.api.access")
