"""The API's edge over real uvicorn: keep-alive requests never share context, each request writes
one access line, and a body that arrives too slowly is a 408."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import make_settings
from tests.support.world import TenantFixture, order_request
from tests.unit.served import served
from wanotify.api.app import create_app
from wanotify.common.config import Settings

ACCESS_LOG = "wanotify.api.access"
PHONE = "+14155550123"


@pytest.fixture(scope="module")
async def api_url(settings: Settings) -> AsyncIterator[str]:
    async with served(create_app(settings)) as (host, port):
        yield f"http://{host}:{port}"


async def test_keep_alive_requests_after_an_error_report_their_own_trace_ids(
    api_url: str, tenant: TenantFixture, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOG)
    # Over 64 KiB, so uvicorn pauses and resumes reading inside the first request's context.
    refused = {**order_request(PHONE), "event_type": "x" * 100_000}
    async with httpx.AsyncClient(base_url=api_url, headers=tenant.auth) as http:
        first = await http.post("/v1/notifications", json=refused)
        second = await http.get("/v1/notifications/notif_missing")
        third = await http.post("/v1/notifications", json=order_request(PHONE))
    assert (first.status_code, second.status_code, third.status_code) == (400, 404, 201)
    ids = [r.headers["x-trace-id"] for r in (first, second, third)]
    assert len(set(ids)) == 3
    assert [first.json()["error"]["trace_id"], second.json()["error"]["trace_id"]] == ids[:2]

    await asyncio.sleep(0)
    lines = [r for r in caplog.records if r.name == ACCESS_LOG]
    assert [r.getMessage() for r in lines] == [
        "POST /v1/notifications 400",
        "GET /v1/notifications/{notification_id} 404",
        "POST /v1/notifications 201",
    ]
    assert [r.trace_id for r in lines] == ids  # type: ignore[attr-defined]
    assert {r.tenant_id for r in lines} == {tenant.tenant_id}  # type: ignore[attr-defined]
    for record in lines:
        assert PHONE not in json.dumps({k: str(v) for k, v in vars(record).items()})
        assert record.duration_ms >= 0  # type: ignore[attr-defined]


async def test_an_unauthenticated_or_unmatched_request_is_logged_too(
    api_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOG)
    async with httpx.AsyncClient(base_url=api_url) as http:
        assert (await http.get("/v1/opt-outs")).status_code == 401
        assert (await http.get(f"/v2/{PHONE}")).status_code == 404
        assert (await http.get("/livez")).status_code == 200  # probes are not logged
    await asyncio.sleep(0)
    lines = [r.getMessage() for r in caplog.records if r.name == ACCESS_LOG]
    assert lines == ["GET /v1/opt-outs 401", "GET unmatched 404"]


async def test_a_body_that_arrives_too_slowly_is_a_408_and_the_connection_closes(
    service_env: dict[str, str], tenant: TenantFixture
) -> None:
    settings = make_settings(**{**service_env, "HTTP_BODY_TIMEOUT_SECONDS": "0.5"})
    async with served(create_app(settings)) as (host, port):
        reader, writer = await asyncio.open_connection(host, port)
        head = (
            "POST /v1/notifications HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {tenant.api_key}\r\nContent-Length: 1000\r\n\r\n"
        )
        writer.write(head.encode() + b'{"event_type": ')
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=settings.api.body_timeout_seconds + 20)
        writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 408"), raw[:200]
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"connection: close" in headers.lower()
    assert json.loads(body)["error"]["code"] == "REQUEST_TIMEOUT"
