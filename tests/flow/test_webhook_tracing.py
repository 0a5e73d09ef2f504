"""A delivery's span links to the trace of the notification its event is about, so a trace viewer
leads from "why did my endpoint get this?" to the request that caused it."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.builders import stored_notification
from tests.support.sinks import running_sink
from tests.support.world import make_tenant
from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.metrics import Metrics
from wanotify.common.telemetry import current_traceparent
from wanotify.common.webhooks.secrets import generate_secret, secret_context
from wanotify.common.webhooks.transport import WebhookTransport, create_webhook_client
from wanotify.common.webhooks.urls import system_resolver
from wanotify.worker.webhook_delivery import WebhookDeliverer


async def test_a_delivery_span_links_to_the_notifications_trace(
    own_database: tuple[str, AsyncEngine], box: SecretBox, settings: Settings
) -> None:
    _, engine = own_database
    tenant = await make_tenant(engine, box, None)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    async with running_sink() as sink:
        async with UnitOfWork(engine) as uow:
            await uow.webhooks.add(
                tenant.tenant_id,
                url=sink.at("traced"),
                events=["notification.queued"],
                secret_encrypted=box.encrypt(generate_secret(), context=secret_context(tenant.tenant_id)),
                description=None,
                metadata={},
            )
            await uow.commit()
        with tracer.start_as_current_span("POST /v1/notifications") as request:
            await stored_notification(engine, tenant, traceparent=current_traceparent())
        http = create_webhook_client(settings.webhooks)
        deliverer = WebhookDeliverer(
            lambda: UnitOfWork(engine),
            WebhookTransport(http, settings.webhooks, system_resolver),
            box,
            settings.webhooks,
            Metrics("worker"),
            tracer=tracer,
        )
        try:
            [due] = await deliverer.claim()
            await deliverer.deliver(due)
        finally:
            await http.aclose()
        assert [r.answered for r in sink.received["traced"]] == [200]
    [span] = [s for s in exporter.get_finished_spans() if s.name == "webhook notification.queued"]
    assert [link.context.trace_id for link in span.links] == [request.get_span_context().trace_id]
    assert span.context.trace_id != request.get_span_context().trace_id  # a trace of its own, linked
