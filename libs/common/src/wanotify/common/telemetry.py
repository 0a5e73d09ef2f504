"""OpenTelemetry: one tracer provider per process, W3C trace context carried across queues and rows."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, SpanContext

from wanotify.common.config import TelemetrySettings


def configure_tracing(settings: TelemetrySettings, service: str, version: str) -> TracerProvider:
    """Install the process's tracer provider; spans are exported only when an OTLP endpoint is set."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"wa-notify-{service}", "service.version": version}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    return provider


def instrument_clients() -> None:
    """Client spans for the Graph API (httpx), PostgreSQL (asyncpg) and Redis."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    asyncpg = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    for instrumentor in (HTTPXClientInstrumentor(), asyncpg, RedisInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def carrier_from_current() -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from_carrier(carrier: Mapping[str, str]) -> otel_context.Context:
    return propagate.extract(dict(carrier))


def link_to(traceparent: str | None) -> list[Link]:
    """A span link to a stored ``traceparent`` (a Meta webhook arrives in a trace of its own)."""
    if not traceparent:
        return []
    span_context: SpanContext = trace.get_current_span(
        propagate.extract({"traceparent": traceparent})
    ).get_span_context()
    return [Link(span_context)] if span_context.is_valid else []


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
