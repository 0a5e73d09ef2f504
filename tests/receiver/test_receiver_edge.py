"""Hostile input at the receiver, signed with the app secret so that it reaches the decoder: a
malformed envelope is one 400 and one warning line (no traceback), a malformed item is skipped
and counted while the valid statuses beside it are applied, and nothing reaches a 500."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import APP_SECRET
from tests.receiver.test_webhooks import PATH, envelope, load, post, sent_notification, status
from tests.support.world import TenantFixture
from wanotify.common.meta.signature import sign

Client = AsyncTestClient[Any]
RECEIVER_LOG = "wanotify.receiver.app"
ACCESS_LOG = "wanotify.receiver.access"


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == RECEIVER_LOG and r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"object": "whatsapp_business_account", "entry": "caf\xc3\x28"}', id="invalid utf-8"),
        pytest.param(b'{"object": "x", "entry": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", id="deep nesting"),
        pytest.param(b"", id="empty body"),
        pytest.param(b"[1, 2]", id="not an envelope"),
        pytest.param(
            b'{"object": "whatsapp_business_account", "entry": [{"changes": 7}]}', id="changes not a list"
        ),
        pytest.param(b'{"object": "\\ud800", "entry": []}', id="lone surrogate"),
    ],
)
async def test_a_malformed_envelope_is_one_400_and_one_line_without_a_traceback(
    receiver: str, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.INFO)
    r = await post(receiver, body)
    assert r.status_code == 400, r.text
    (line,) = warnings_of(caplog)
    assert line.exc_info is None
    assert line.getMessage() == "malformed webhook payload refused"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"id": "wamid.A\u0000B"}, id="NUL in wamid"),
        pytest.param({"id": "wamid." + "x" * 600}, id="wamid longer than the column"),
        pytest.param({"timestamp": "99999999999999999999"}, id="timestamp out of range"),
        pytest.param({"timestamp": "-5"}, id="negative timestamp"),
        pytest.param({"status": {"nested": [1, 2]}}, id="status not a string"),
        pytest.param({"recipient_id": "+1415\n5550123"}, id="newline in recipient"),
        pytest.param({"errors": [{"code": 2**70}]}, id="error code out of range"),
    ],
)
async def test_a_malformed_status_is_skipped_and_the_valid_ones_beside_it_apply(
    receiver: str,
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
    bad: dict[str, Any],
) -> None:
    caplog.set_level(logging.INFO)
    first, first_wamid = await sent_notification(api, tenant, engine)
    second, second_wamid = await sent_notification(api, tenant, engine)
    t = int(time.time())
    malformed = status(first_wamid, "delivered", t) | bad
    body = envelope(status(first_wamid, "delivered", t), malformed, status(second_wamid, "read", t + 1))
    r = await post(receiver, body)
    assert r.status_code == 200, r.text
    assert (await load(engine, first))[0].status.value == "delivered"
    assert (await load(engine, second))[0].status.value == "read"
    (line,) = warnings_of(caplog)
    assert line.getMessage() == "malformed webhook items skipped"
    assert line.exc_info is None
    assert line.skipped  # type: ignore[attr-defined]


async def test_a_body_over_the_limit_is_413(receiver: str) -> None:
    body = b'{"object": "x", "entry": [], "pad": "' + b"x" * 5_000_000 + b'"}'
    assert (await post(receiver, body)).status_code == 413


async def test_an_envelope_for_another_object_is_acknowledged_and_ignored(receiver: str) -> None:
    assert (await post(receiver, b'{"object": "a\\u0000b", "entry": []}')).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "hub.mode=subscribe&hub.verify_token=a%00b&hub.challenge=1",
        "hub.mode=sub%00scribe&hub.challenge=%ED%A0%80",
        "hub.mode=subscribe&hub.verify_token=%FF%FE&hub.challenge=%07",
        "hub.mode=subscribe&hub.verify_token=" + "x" * 10_000 + "&hub.challenge=1",
    ],
)
async def test_a_hostile_handshake_is_refused_not_a_500(receiver: str, query: str) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{receiver}{PATH}?{query}")
    assert r.status_code in {400, 403}, r.text


async def test_a_wrong_method_is_405_with_allow_and_options_lists_the_methods(receiver: str) -> None:
    async with httpx.AsyncClient() as http:
        refused = await http.put(f"{receiver}{PATH}", content=b"{}")
        options = await http.options(f"{receiver}{PATH}")
    assert refused.status_code == 405
    assert {"GET", "POST"} <= set(refused.headers["allow"].replace(" ", "").split(","))
    assert set(options.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST", "OPTIONS"}


async def test_keep_alive_requests_report_their_own_trace_ids_and_one_access_line_each(
    receiver: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOG)
    large = json.dumps({"object": "x", "entry": "not a list", "pad": "x" * 100_000}).encode()
    async with httpx.AsyncClient(base_url=receiver) as http:
        failed = await http.post(
            PATH, content=large, headers={"X-Hub-Signature-256": sign(APP_SECRET, large)}
        )
        unsigned = await http.post(PATH, content=b"{}")
        health = await http.get("/health")
    assert (failed.status_code, unsigned.status_code, health.status_code) == (400, 401, 200)
    ids = [r.headers["x-trace-id"] for r in (failed, unsigned, health)]
    assert len(set(ids)) == 3
    await asyncio.sleep(0)  # the last line is written as the last byte leaves
    lines = [r for r in caplog.records if r.name == ACCESS_LOG]
    assert [r.getMessage() for r in lines] == [f"POST {PATH} 400", f"POST {PATH} 401", "GET /health 200"]
    assert [r.trace_id for r in lines] == ids  # type: ignore[attr-defined]
    for record in lines:
        assert {"method", "route", "status", "duration_ms", "tenant_id", "trace_id"} <= set(vars(record))
