"""The edge middlewares wired as the services wire them, over real uvicorn: a fresh trace context
and the access log around the Litestar app; metrics, trace id and the body timeout inside it."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from opentelemetry.sdk.trace import TracerProvider

from tests.unit.served import served
from wanotify.common.edge.access_log import access_log_middleware
from wanotify.common.edge.body_timeout import body_timeout_middleware
from wanotify.common.edge.trace_id import fresh_trace_context, trace_id_for, trace_id_middleware
from wanotify.common.http import metrics_middleware
from wanotify.common.metrics import Metrics

LOGGER = "wanotify.tests.edge_wiring"


def _error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    trace_id = trace_id_for(request.scope)
    body = msgspec.json.encode({"error": {"code": "X", "message": "x", "field": None, "trace_id": trace_id}})
    return Response(body, status_code=status, media_type=MediaType.JSON, headers={"X-Trace-Id": trace_id})


def make_app(metrics: Metrics) -> Litestar:
    @post("/v1/notifications", status_code=202)
    async def accept(request: Request[Any, Any, Any]) -> dict[str, int]:
        request.scope["state"]["tenant_id"] = "tnt_1"
        return {"bytes": len(await request.body())}

    @post("/v1/boom")
    async def boom(request: Request[Any, Any, Any]) -> None:
        await request.body()
        raise RuntimeError("boom")

    @get("/v1/ok", sync_to_thread=False)
    def ok() -> dict[str, bool]:
        return {"ok": True}

    app = Litestar(
        route_handlers=[accept, boom, ok],
        logging_config=None,
        exception_handlers={HTTPException: _error, Exception: _error},
        middleware=[metrics_middleware(metrics), trace_id_middleware, body_timeout_middleware(0.5)],
        plugins=[
            OpenTelemetryPlugin(
                OpenTelemetryConfig(
                    exclude=["/livez", "/metrics"],
                    exclude_spans=["receive", "send"],
                    tracer_provider=TracerProvider(),
                )
            )
        ],
    )
    return app


@pytest.fixture(scope="module")
def metrics() -> Metrics:
    return Metrics("api")


@pytest.fixture(scope="module")
async def base_url(metrics: Metrics) -> AsyncIterator[str]:
    edge = fresh_trace_context(access_log_middleware(LOGGER)(make_app(metrics)))
    async with served(edge) as (host, port):
        yield f"http://{host}:{port}"


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


async def test_each_request_one_line_with_the_trace_id_the_client_saw(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with httpx.AsyncClient(base_url=base_url) as client:
        responses = [
            await client.post("/v1/boom", content=b"x" * 100_000),
            await client.post("/v1/notifications", content=b"x" * 100_000),
            await client.get("/v1/ok"),
            await client.get("/v1/nothing/+14155550123"),
        ]
    assert [r.status_code for r in responses] == [500, 202, 200, 404]
    lines = access_lines(caplog)
    assert [r.getMessage() for r in lines] == [
        "POST /v1/boom 500",
        "POST /v1/notifications 202",
        "GET /v1/ok 200",
        "GET unmatched 404",
    ]
    sent = [r.headers["x-trace-id"] for r in responses]
    assert [r.trace_id for r in lines] == sent  # type: ignore[attr-defined]
    assert len(set(sent)) == 4
    assert [r.tenant_id for r in lines] == [None, "tnt_1", None, None]  # type: ignore[attr-defined]


async def test_a_slow_body_is_one_408_line_and_counted_as_408(
    base_url: str, metrics: Metrics, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /v1/notifications HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    trace_id = json.loads(body)["error"]["trace_id"]
    assert f"x-trace-id: {trace_id}".encode() in head.lower()
    (line,) = access_lines(caplog)
    assert line.getMessage() == "POST /v1/notifications 408"
    assert line.trace_id == trace_id  # type: ignore[attr-defined]
    counted = metrics.registry.get_sample_value(
        "wanotify_http_requests_total",
        {"service": "api", "route": "/v1/notifications", "method": "POST", "status": "408"},
    )
    assert counted == 1.0
