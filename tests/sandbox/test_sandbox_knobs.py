"""Status-webhook misbehaviour knobs (start-up, per recipient) and the magic recipient numbers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.sandbox.harness import (
    CaptureServer,
    RunningServer,
    SandboxClient,
    template_payload,
    text_payload,
    wait_until_async,
)
from wanotify.sandbox.errors import ERROR_CODES_HREF, ERROR_TABLE

pytestmark = pytest.mark.asyncio(loop_scope="session")

NORMAL = ["sent", "delivered", "read"]


def wamid_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    wamid: str = response.json()["messages"][0]["id"]
    return wamid


async def statuses_after_quiet(sb: SandboxClient, wamid: str, count: int) -> list[dict[str, Any]]:
    """Wait for `count` statuses, then a little longer, and return every status seen (in arrival order)."""
    if count:
        await sb.wait_statuses(wamid, count)
    await asyncio.sleep(0.1)  # past the test read delay: any extra status would have arrived
    return [item for _, item in sb.status_items(wamid)]


async def names(sb: SandboxClient, to: str, count: int, payload: dict[str, Any] | None = None) -> list[str]:
    wamid = wamid_of(await sb.send(payload or template_payload(to, "hello_world")))
    return [item["status"] for item in await statuses_after_quiet(sb, wamid, count)]


@asynccontextmanager
async def client_for(server: RunningServer, capture: CaptureServer) -> AsyncIterator[SandboxClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        capture.clear()
        yield SandboxClient(http, capture)


# --- start-up knobs ----------------------------------------------------------------------------


async def test_startup_knobs_apply_to_every_message(
    start_sandbox: Any, capture: tuple[CaptureServer, RunningServer]
) -> None:
    server = await start_sandbox(status_duplicates=True, status_order="reversed", skip_delivered=True)
    async with client_for(server, capture[0]) as sandbox:
        assert await names(sandbox, "+15550700001", 4) == ["read", "read", "sent", "sent"]
        # Duplicates carry the very same bytes and signature, as Meta's retries do.
        bodies = [c for c in sandbox.capture.delivered() if b'"read"' in c.body]
        assert bodies[0].body == bodies[1].body
        assert bodies[0].headers["x-hub-signature-256"] == bodies[1].headers["x-hub-signature-256"]
        # A per-recipient behaviour overrides only the fields it sets.
        added = await sandbox.http.post(
            "/_sandbox/behaviours", json={"to": "+15550700002", "order": "normal"}
        )
        assert added.status_code == 201
        assert await names(sandbox, "+15550700002", 4) == ["sent", "sent", "read", "read"]
        added = await sandbox.http.post(
            "/_sandbox/behaviours",
            json={"to": "+15550700003", "duplicates": False, "order": "normal", "skip_delivered": False},
        )
        assert await names(sandbox, "+15550700003", 3) == NORMAL


async def test_startup_shuffle_and_drop(
    start_sandbox: Any, capture: tuple[CaptureServer, RunningServer]
) -> None:
    server = await start_sandbox(status_order="shuffled")
    async with client_for(server, capture[0]) as sandbox:
        for i in range(3):
            seen = await names(sandbox, f"+1555070100{i}", 3)
            assert sorted(seen) == sorted(NORMAL)
            assert seen != NORMAL
    server = await start_sandbox(drop_statuses=True)
    async with client_for(server, capture[0]) as sandbox:
        assert await names(sandbox, "+15550701010", 0) == []
        assert (await sandbox.http.get("/_sandbox/webhooks")).json() == []


async def test_startup_delay_holds_statuses(
    start_sandbox: Any, capture: tuple[CaptureServer, RunningServer]
) -> None:
    server = await start_sandbox(status_delay_seconds=0.3)
    async with client_for(server, capture[0]) as sandbox:
        await delayed_by(sandbox, "+15550702001", 0.3)


async def delayed_by(sandbox: SandboxClient, to: str, delay: float) -> None:
    wamid = wamid_of(await sandbox.send(template_payload(to, "hello_world")))
    assert [s["status"] for s in await sandbox.wait_statuses(wamid, 3)] == NORMAL
    [record] = (await sandbox.http.get("/_sandbox/messages", params={"to": to})).json()
    log = (await sandbox.http.get("/_sandbox/webhooks", params={"wamid": wamid})).json()
    # Held at least `delay` on top of the normal sent delay (a lower bound: sleeps never end early).
    assert min(w["at"] for w in log) - record["received_at"] >= delay


# --- per-recipient behaviours (admin route) ---------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "count", "expected"),
    [
        ({"duplicates": True}, 6, ["sent", "sent", "delivered", "delivered", "read", "read"]),
        ({"order": "reversed"}, 3, ["read", "delivered", "sent"]),
        ({"skip_delivered": True}, 2, ["sent", "read"]),
        ({"drop_statuses": True}, 0, []),
        ({}, 3, NORMAL),
    ],
)
async def test_behaviour_per_recipient(
    sb: SandboxClient, behaviour: dict[str, Any], count: int, expected: list[str]
) -> None:
    to = "+1 555 071 0001"
    response = await sb.http.post("/_sandbox/behaviours", json={"to": to, **behaviour})
    assert response.status_code == 201, response.text
    assert response.json() == {"wa_id": "15550710001", **behaviour}
    assert await names(sb, to, count) == expected


async def test_behaviour_leaves_other_recipients_alone(sb: SandboxClient) -> None:
    await sb.http.post("/_sandbox/behaviours", json={"to": "+15550710001", "duplicates": True})
    assert await names(sb, "+15550710002", 3) == NORMAL


async def test_behaviour_pricing_stays_on_sent_when_reordered(sb: SandboxClient) -> None:
    await sb.http.post("/_sandbox/behaviours", json={"to": "+15550710003", "order": "reversed"})
    wamid = wamid_of(await sb.send(template_payload("+15550710003", "hello_world")))
    items = await statuses_after_quiet(sb, wamid, 3)
    assert [("pricing" in i, i["status"]) for i in items] == [
        (False, "read"),
        (False, "delivered"),
        (True, "sent"),
    ]


async def test_behaviour_delay(sb: SandboxClient) -> None:
    await sb.http.post("/_sandbox/behaviours", json={"to": "+15550710004", "delay_seconds": 0.3})
    await delayed_by(sb, "+15550710004", 0.3)


async def test_behaviours_are_listed_cleared_and_reset(sb: SandboxClient) -> None:
    await sb.http.post("/_sandbox/behaviours", json={"to": "+15550710005", "duplicates": True})
    await sb.http.post("/_sandbox/behaviours", json={"to": "+15550710006", "order": "shuffled"})
    listed = (await sb.http.get("/_sandbox/behaviours")).json()
    assert [b["wa_id"] for b in listed] == ["15550710005", "15550710006"]
    assert (await sb.http.delete("/_sandbox/behaviours")).status_code == 200
    assert (await sb.http.get("/_sandbox/behaviours")).json() == []
    await sb.http.post("/_sandbox/behaviours", json={"to": "+15550710005", "duplicates": True})
    await sb.http.post("/_sandbox/reset")
    assert (await sb.http.get("/_sandbox/behaviours")).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"duplicates": True},
        {"to": "nope", "duplicates": True},
        {"to": "+15550710007", "order": "sideways"},
        {"to": "+15550710007", "delay_seconds": -1},
        {"to": "+15550710007", "loud": True},
    ],
)
async def test_bad_behaviours_are_refused(sb: SandboxClient, body: dict[str, Any]) -> None:
    assert (await sb.http.post("/_sandbox/behaviours", json=body)).status_code == 400


async def test_failed_flow_with_duplicates(sb: SandboxClient) -> None:
    await sb.http.post("/_sandbox/behaviours", json={"to": "+15550710008", "duplicates": True})
    assert await names(sb, "+15550710008", 2, text_payload("+15550710008")) == ["failed", "failed"]


# --- magic numbers -----------------------------------------------------------------------------


def magic(family: str, number: int) -> str:
    return f"+1555{family}{number:06d}"


@pytest.mark.parametrize("code", [0, 4, 100, 190, 368, 130429, 131000, 131026, 131056, 133004, 131047])
async def test_magic_01_sync_error(sb: SandboxClient, code: int) -> None:
    to = magic("01", code)
    assert len(to) == 13  # "+" and 12 digits: valid E.164
    response = await sb.send(template_payload(to, "hello_world"))
    assert response.status_code == ERROR_TABLE[code].http_status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"] == f"(#{code}) {ERROR_TABLE[code].title}"
    assert error["type"] == "OAuthException"
    logged = (await sb.http.get("/_sandbox/messages", params={"to": to})).json()
    assert [(r["outcome"], r["error_code"]) for r in logged] == [("refused", code)]


async def test_magic_01_also_for_free_form_and_unknown_codes(sb: SandboxClient) -> None:
    response = await sb.send(text_payload("+1 555 01 131051"))
    assert (response.status_code, response.json()["error"]["code"]) == (400, 131051)
    response = await sb.send(text_payload(magic("01", 999999)))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "(#999999) Unknown error"


@pytest.mark.parametrize("code", [4, 368, 131026, 131049, 131050, 131000, 132015, 130472])
async def test_magic_02_async_failed(sb: SandboxClient, code: int) -> None:
    to = magic("02", code)
    wamid = wamid_of(await sb.send(template_payload(to, "hello_world")))
    [failed] = await statuses_after_quiet(sb, wamid, 1)
    assert failed["status"] == "failed"
    [error] = failed["errors"]
    info = ERROR_TABLE[code]
    assert error["code"] == code
    assert error["title"] == info.title
    assert error["message"] == info.title
    assert isinstance(error["error_data"]["details"], str) and error["error_data"]["details"]
    assert error["href"] == ERROR_CODES_HREF
    logged = (await sb.http.get("/_sandbox/messages", params={"to": to})).json()
    assert [(r["id"], r["outcome"], r["error_code"]) for r in logged] == [(wamid, "failed", code)]


@pytest.mark.parametrize(
    ("knob", "count", "expected"),
    [
        (1, 6, ["sent", "sent", "delivered", "delivered", "read", "read"]),
        (2, 3, ["read", "delivered", "sent"]),
        (3, 2, ["sent", "read"]),
        (4, 0, []),
        (6, 6, ["read", "read", "delivered", "delivered", "sent", "sent"]),
    ],
)
async def test_magic_03_misbehaviours(sb: SandboxClient, knob: int, count: int, expected: list[str]) -> None:
    assert await names(sb, magic("03", knob), count) == expected


async def test_magic_03_shuffled(sb: SandboxClient) -> None:
    seen = await names(sb, magic("03", 5), 3)
    assert sorted(seen) == sorted(NORMAL)
    assert seen != NORMAL


async def test_magic_04_delay(sb: SandboxClient) -> None:
    await delayed_by(sb, magic("04", 300), 0.3)


async def test_magic_numbers_and_the_window(sb_sync: SandboxClient) -> None:
    # Family 03/04 only shape the webhooks: a free-form message outside the window is still refused.
    response = await sb_sync.send(text_payload(magic("03", 1)))
    assert response.json()["error"]["code"] == 131047
    # Families 01 and 02 decide alone, window and faults notwithstanding.
    await sb_sync.add_fault(code=131000, mode="sync")
    response = await sb_sync.send(text_payload(magic("01", 368)))
    assert (response.status_code, response.json()["error"]["code"]) == (403, 368)
    wamid = wamid_of(await sb_sync.send(text_payload(magic("02", 131026))))
    [failed] = await statuses_after_quiet(sb_sync, wamid, 1)
    assert failed["errors"][0]["code"] == 131026
    assert (await sb_sync.http.get("/_sandbox/faults")).json()[0]["code"] == 131000


@pytest.mark.parametrize(
    "to",
    ["+155505000001", "+155503000099", "+15550100001", "+1555010000010", "+255501000100"],
)
async def test_non_magic_numbers_are_ordinary(sb: SandboxClient, to: str) -> None:
    assert await names(sb, to, 3) == NORMAL


async def test_magic_async_failure_wins_over_window(sb: SandboxClient) -> None:
    wamid = wamid_of(await sb.send(text_payload(magic("02", 131026))))
    [failed] = await statuses_after_quiet(sb, wamid, 1)
    assert failed["errors"][0]["code"] == 131026


async def test_magic_statuses_flow_reaches_webhook_log(sb: SandboxClient) -> None:
    wamid = wamid_of(await sb.send(template_payload(magic("03", 1), "hello_world")))
    log = await wait_until_async(
        lambda: sb.http.get("/_sandbox/webhooks", params={"wamid": wamid}),
        lambda response: len(response.json()) >= 6,
        what="six status webhooks",
    )
    assert [w["status"] for w in log.json()] == ["sent", "sent", "delivered", "delivered", "read", "read"]
