"""Each request gets its own trace id, whatever the previous request on the connection did.

The app is built like the API (OpenTelemetry plugin with the API's config, the metrics and trace-id
middleware, an error handler that writes the trace id into the body) and served by real uvicorn;
one httpx client keeps one connection. A request body over uvicorn's 64 KiB high-water mark is
what used to make every later request on the connection inherit the earlier request's span.

Tracing is a real SDK provider built as ``configure_tracing`` builds it, handed to the plugin
rather than installed process-wide, so the rest of the test session keeps its default.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.types import ASGIApp
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from tests.unit.served import served
from wanotify.common.edge.trace_id import fresh_trace_context, trace_id_for, trace_id_middleware
from wanotify.common.http import metrics_middleware
from wanotify.common.metrics import Metrics
from wanotify.common.telemetry import current_trace_id

LARGE = b"x" * 100_000
CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{CLIENT_TRACE}-b7ad6b7169203331-01"
HEX32 = re.compile(r"[0-9a-f]{32}")


def _error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    trace_id = trace_id_for(request.scope)
    body = msgspec.json.encode(
        {"error": {"code": f"HTTP_{status}", "message": "failed", "field": None, "trace_id": trace_id}}
    )
    return Response(body, status_code=status, media_type=MediaType.JSON, headers={"X-Trace-Id": trace_id})


def make_app() -> Litestar:
    @get("/ok", sync_to_thread=False)
    def ok(request: Request[Any, Any, Any]) -> dict[str, Any]:
        span: Any = trace.get_current_span()
        return {
            "state": request.state.trace_id,
            "span": current_trace_id(),
            "root": span.parent is None,
            "kind": span.kind.name,
            "client_port": request.scope["client"][1] if request.scope["client"] else None,
        }

    @post("/boom")
    async def boom(request: Request[Any, Any, Any]) -> None:
        await request.body()
        raise RuntimeError("boom")

    @post("/bad")
    async def bad(request: Request[Any, Any, Any]) -> None:
        await request.body()
        raise HTTPException(status_code=400, detail="bad")

    provider = TracerProvider(
        resource=Resource.create({"service.name": "wa-notify-test"}),
        sampler=ParentBased(TraceIdRatioBased(1.0)),
    )
    return Litestar(
        route_handlers=[ok, boom, bad],
        logging_config=None,
        exception_handlers={HTTPException: _error, Exception: _error},
        middleware=[metrics_middleware(Metrics("api")), trace_id_middleware],
        plugins=[
            OpenTelemetryPlugin(
                OpenTelemetryConfig(
                    exclude=["/livez", "/metrics"],
                    exclude_spans=["receive", "send"],
                    tracer_provider=provider,
                )
            )
        ],
        debug=False,
    )


@pytest.fixture(scope="module")
async def base_url() -> AsyncIterator[str]:
    async with served(fresh_trace_context(make_app())) as (host, port):
        yield f"http://{host}:{port}"


def _trace_id(response: httpx.Response) -> str:
    trace_id = response.headers["x-trace-id"]
    if response.status_code >= 400:
        assert response.json()["error"]["trace_id"] == trace_id
    return trace_id


@pytest.mark.parametrize("body", [b"{}", LARGE], ids=["small", "large"])
@pytest.mark.parametrize(("path", "status"), [("/boom", 500), ("/bad", 400), ("/missing", 404)])
async def test_the_request_after_a_failed_one_has_its_own_trace_id(
    base_url: str, path: str, status: int, body: bytes
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        failed = await client.post(path, content=body)
        first = await client.get("/ok")
        second = await client.get("/ok")
        continued = await client.get("/ok", headers={"traceparent": TRACEPARENT})
    assert failed.status_code == status
    assert first.json()["client_port"] == second.json()["client_port"] == continued.json()["client_port"]
    ids = [_trace_id(r) for r in (failed, first, second)]
    assert all(HEX32.fullmatch(i) for i in ids)
    assert len(set(ids)) == 3, ids
    for response in (first, second):
        seen = response.json()
        assert seen["state"] == seen["span"] == response.headers["x-trace-id"]
        assert (seen["root"], seen["kind"]) == (True, "SERVER")
    # the client's traceparent is honoured again, not swallowed by an inherited span
    assert _trace_id(continued) == continued.json()["span"] == CLIENT_TRACE


@pytest.mark.parametrize("supplied", ["order-12345:attempt.2", "a" * 128, "A-b_c.d:e"])
async def test_a_sane_trace_id_is_echoed(base_url: str, supplied: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        ok = await client.get("/ok", headers={"X-Trace-Id": supplied})
        failed = await client.post("/boom", content=LARGE, headers={"X-Trace-Id": supplied})
        missing = await client.get("/missing", headers={"X-Trace-Id": supplied})
    assert ok.headers["x-trace-id"] == ok.json()["state"] == supplied
    assert _trace_id(failed) == supplied
    assert _trace_id(missing) == supplied


@pytest.mark.parametrize("supplied", ["has space", "a" * 129, "x" * 200, "semi;colon", "ünïcode"])
async def test_an_insane_trace_id_is_replaced(base_url: str, supplied: str) -> None:
    headers = {"X-Trace-Id": supplied.encode("utf-8")}
    async with httpx.AsyncClient(base_url=base_url) as client:
        ok = await client.get("/ok", headers=headers)
        failed = await client.post("/bad", content=b"{}", headers=headers)
    for response in (ok, failed):
        trace_id = _trace_id(response)
        assert trace_id != supplied
        assert HEX32.fullmatch(trace_id)
    assert ok.json()["state"] == ok.json()["span"] == ok.headers["x-trace-id"]


async def test_without_a_fresh_context_the_next_request_inherits_the_span() -> None:
    """The reproduction: the same app without ``fresh_trace_context``. If this starts failing,
    uvicorn (or asyncio) stopped leaking the request's context into the connection's later requests."""
    app: ASGIApp = make_app()
    async with served(app) as (host, port), httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
        failed = await client.post("/boom", content=LARGE)
        after = await client.get("/ok", headers={"traceparent": TRACEPARENT})
    assert failed.status_code == 500
    assert _trace_id(after) == _trace_id(failed) != CLIENT_TRACE
    assert (after.json()["root"], after.json()["kind"]) == (False, "INTERNAL")
