"""One access-log line per request, with the route template (never the raw path)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.testing import AsyncTestClient

from wanotify.common.edge.access_log import access_log_middleware
from wanotify.common.edge.trace_id import trace_id_middleware
from wanotify.common.logging import JsonFormatter

LOGGER = "wanotify.tests.access"
PHONE = "+14155550123"
FIELDS = {"method", "route", "status", "duration_ms", "tenant_id", "trace_id"}


def tenant_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    connection.scope["state"]["tenant_id"] = "tnt_42"


def make_app() -> Litestar:
    @get("/v1/recipients/{phone:str}", guards=[tenant_guard], sync_to_thread=False)
    def recipient(phone: FromPath[str]) -> dict[str, str]:
        return {"phone": phone}

    @post("/v1/notifications", status_code=202, sync_to_thread=False)
    def accept(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        return data

    @get("/v1/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("boom")

    @get("/livez", sync_to_thread=False)
    def livez() -> dict[str, str]:
        return {"status": "alive"}

    @get("/metrics", sync_to_thread=False)
    def metrics() -> str:
        return ""

    @get("/stream", sync_to_thread=False)
    def stream() -> str:
        return "x" * 100_000

    return Litestar(
        route_handlers=[recipient, accept, boom, livez, metrics, stream],
        middleware=[trace_id_middleware],
        logging_config=None,
    )


@pytest.fixture
async def client() -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(access_log_middleware(LOGGER)(make_app())) as c:
        yield c


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=LOGGER)
    return caplog


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


async def test_one_line_per_request_with_its_fields(
    client: AsyncTestClient[Any], records: pytest.LogCaptureFixture
) -> None:
    response = await client.post("/v1/notifications", json={"a": 1})
    assert response.status_code == 202
    (line,) = lines(records)
    assert line.levelno == logging.INFO
    assert line.getMessage() == "POST /v1/notifications 202"
    fields = {k: getattr(line, k) for k in FIELDS}
    assert fields["method"] == "POST"
    assert fields["route"] == "/v1/notifications"
    assert fields["status"] == 202
    assert isinstance(fields["duration_ms"], float)
    assert fields["duration_ms"] >= 0
    assert round(fields["duration_ms"], 1) == fields["duration_ms"]
    assert fields["tenant_id"] is None
    assert fields["trace_id"] == response.headers["x-trace-id"]


async def test_the_route_template_not_the_raw_path(
    client: AsyncTestClient[Any], records: pytest.LogCaptureFixture
) -> None:
    response = await client.get(f"/v1/recipients/{PHONE}")
    assert response.status_code == 200
    (line,) = lines(records)
    assert line.route == "/v1/recipients/{phone}"  # type: ignore[attr-defined]
    assert line.getMessage() == "GET /v1/recipients/{phone} 200"
    assert line.tenant_id == "tnt_42"  # type: ignore[attr-defined]
    formatted = JsonFormatter("api").format(line)
    assert PHONE not in formatted
    assert PHONE.lstrip("+") not in formatted
    assert set(json.loads(formatted)) >= FIELDS


async def test_an_unmatched_path_is_logged_as_unmatched(
    client: AsyncTestClient[Any], records: pytest.LogCaptureFixture
) -> None:
    response = await client.get(f"/v1/nothing/{PHONE}")
    assert response.status_code == 404
    (line,) = lines(records)
    assert (line.route, line.status) == ("unmatched", 404)  # type: ignore[attr-defined]
    assert line.getMessage() == "GET unmatched 404"
    assert PHONE not in JsonFormatter("api").format(line)


async def test_an_exception_is_one_line_with_500(
    client: AsyncTestClient[Any], records: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/v1/boom")
    assert response.status_code == 500
    (line,) = lines(records)
    assert (line.route, line.status) == ("/v1/boom", 500)  # type: ignore[attr-defined]


async def test_several_requests_several_lines(
    client: AsyncTestClient[Any], records: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        await client.get("/stream")  # a body large enough to go out in more than one piece
    await client.post("/v1/notifications", json={})
    await client.get("/nope")
    assert [r.getMessage() for r in lines(records)] == [
        "GET /stream 200",
        "GET /stream 200",
        "GET /stream 200",
        "POST /v1/notifications 202",
        "GET unmatched 404",
    ]
    assert len({r.trace_id for r in lines(records)}) == 5  # type: ignore[attr-defined]


async def test_livez_and_metrics_are_not_logged(
    client: AsyncTestClient[Any], records: pytest.LogCaptureFixture
) -> None:
    assert (await client.get("/livez")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
    assert lines(records) == []
