"""The 24-hour customer-service window in both modes, and injected faults."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.sandbox.harness import SandboxClient, template_payload, text_payload

pytestmark = pytest.mark.asyncio(loop_scope="session")

DAY = 24 * 3600


def wamid_of(response: Any) -> str:
    assert response.status_code == 200, response.text
    wamid: str = response.json()["messages"][0]["id"]
    return wamid


async def assert_only_failed(sb: SandboxClient, wamid: str, code: int) -> dict[str, Any]:
    [failed] = await sb.wait_statuses(wamid, 1)
    assert failed["status"] == "failed"
    [error] = failed["errors"]
    assert set(error) == {"code", "title", "message", "error_data", "href"}
    assert error["code"] == code
    assert isinstance(error["error_data"]["details"], str)
    assert "pricing" not in failed
    assert "conversation" not in failed
    # A later template to the same recipient completes its flow, so the failed one had time to send more.
    later = wamid_of(await sb.send(template_payload(failed["recipient_id"], "hello_world")))
    await sb.wait_statuses(later, 3)
    assert [item["status"] for _, item in sb.status_items(wamid)] == ["failed"]
    return failed


async def test_async_window_closed_gives_200_then_failed_131047(sb: SandboxClient) -> None:
    payload = text_payload("+15550401001", biz_opaque_callback_data="cb-1")
    wamid = wamid_of(await sb.send(payload))
    failed = await assert_only_failed(sb, wamid, 131047)
    assert failed["errors"][0]["title"] == "Re-engagement message"
    assert failed["biz_opaque_callback_data"] == "cb-1"
    records = (await sb.http.get("/_sandbox/messages", params={"to": "+15550401001"})).json()
    assert (records[0]["id"], records[0]["outcome"], records[0]["error_code"]) == (wamid, "failed", 131047)


async def test_sync_window_closed_is_400_131047(sb_sync: SandboxClient) -> None:
    response = await sb_sync.send(text_payload("+15550401002"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 131047
    assert error["message"] == "(#131047) Re-engagement message"
    records = (await sb_sync.http.get("/_sandbox/messages", params={"to": "+15550401002"})).json()
    assert [(r["id"], r["outcome"], r["error_code"]) for r in records] == [(None, "refused", 131047)]


@pytest.mark.parametrize("mode", ["async", "sync"])
async def test_open_window_allows_free_form(sb: SandboxClient, sb_sync: SandboxClient, mode: str) -> None:
    client = sb if mode == "async" else sb_sync
    await client.inbound("+15550401003")
    wamid = wamid_of(await client.send(text_payload("+1 555 040 1003")))
    statuses = await client.wait_statuses(wamid, 3)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]


@pytest.mark.parametrize("mode", ["async", "sync"])
async def test_templates_ignore_the_window(sb: SandboxClient, sb_sync: SandboxClient, mode: str) -> None:
    client = sb if mode == "async" else sb_sync
    wamid = wamid_of(await client.send(template_payload("+15550401004", "hello_world")))
    assert [s["status"] for s in await client.wait_statuses(wamid, 3)] == ["sent", "delivered", "read"]


async def test_window_is_per_recipient_and_per_phone_number(sb_sync: SandboxClient) -> None:
    await sb_sync.inbound("+15550401005")
    assert (await sb_sync.send(text_payload("+15550401006"))).status_code == 400
    from_other_number = await sb_sync.send(
        text_payload("+15550401005"), phone_number_id="100000000000002", token="EAAtest-token-2"
    )
    assert from_other_number.status_code == 400


async def test_window_expires_after_24_hours(sb_sync: SandboxClient) -> None:
    now = int(time.time())
    await sb_sync.inbound("+15550401007", timestamp=now - DAY - 60)
    assert (await sb_sync.send(text_payload("+15550401007"))).json()["error"]["code"] == 131047
    await sb_sync.inbound("+15550401008", timestamp=now - DAY + 600)
    assert (await sb_sync.send(text_payload("+15550401008"))).status_code == 200


async def test_reset_closes_windows(sb_sync: SandboxClient) -> None:
    await sb_sync.inbound("+15550401009")
    assert (await sb_sync.send(text_payload("+15550401009"))).status_code == 200
    await sb_sync.http.post("/_sandbox/reset")
    assert (await sb_sync.send(text_payload("+15550401009"))).status_code == 400


@pytest.mark.parametrize(
    ("code", "status"),
    [(131026, 400), (131000, 500), (133004, 503), (131031, 403), (130429, 400), (131056, 400), (0, 401)],
)
async def test_sync_fault_answers_that_error(sb: SandboxClient, code: int, status: int) -> None:
    to = "+15550402001"
    await sb.add_fault(to=to, code=code, mode="sync")
    for _ in range(2):
        response = await sb.send(template_payload(to, "hello_world"))
        assert response.status_code == status
        error = response.json()["error"]
        assert error["code"] == code
        assert error["message"].startswith(f"(#{code}) ")
        assert error["type"] == "OAuthException"
    other = await sb.send(template_payload("+15550402002", "hello_world"))
    assert other.status_code == 200


async def test_fault_times_limits_how_often_it_applies(sb: SandboxClient) -> None:
    to = "+15550402003"
    await sb.add_fault(to=to, code=131000, mode="sync", times=2)
    codes = [(await sb.send(template_payload(to, "hello_world"))).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    assert (await sb.http.get("/_sandbox/faults")).json() == []


async def test_async_fault_gives_200_then_failed_status(sb: SandboxClient) -> None:
    to = "+15550402004"
    await sb.add_fault(to=to, code=131026, mode="async", times=1)
    wamid = wamid_of(await sb.send(template_payload(to, "hello_world")))
    failed = await assert_only_failed(sb, wamid, 131026)
    assert failed["errors"][0]["title"] == "Message undeliverable"


async def test_delete_faults_clears_them(sb: SandboxClient) -> None:
    to = "+15550402005"
    await sb.add_fault(to=to, code=131000)
    await sb.add_fault(code=131016)
    assert len((await sb.http.get("/_sandbox/faults")).json()) == 2
    assert (await sb.http.delete("/_sandbox/faults")).status_code == 200
    assert (await sb.send(template_payload(to, "hello_world"))).status_code == 200


async def test_fault_for_every_recipient_and_delay(sb: SandboxClient) -> None:
    await sb.add_fault(code=133004, times=1)
    assert (await sb.send(template_payload("+15550402006", "hello_world"))).status_code == 503
    assert (await sb.send(template_payload("+15550402006", "hello_world"))).status_code == 200

    # A delay-only fault slows the answer down but lets the send through.
    await sb.add_fault(delay_seconds=0.05, times=1)
    assert (await sb.send(template_payload("+15550402007", "hello_world"))).status_code == 200
    assert (await sb.http.get("/_sandbox/faults")).json() == []


@pytest.mark.parametrize(
    "fault",
    [
        {"to": "+15550402008", "code": 131000, "times": 0},
        {"to": "+15550402008"},
        {"to": "not a number", "code": 131000},
        {"to": "+15550402008", "code": 131000, "mode": "later"},
        {"to": "+15550402008", "code": 131000, "unknown": 1},
    ],
)
async def test_bad_fault_requests_are_refused(sb: SandboxClient, fault: dict[str, Any]) -> None:
    response = await sb.http.post("/_sandbox/faults", json=fault)
    assert response.status_code == 400, response.text


MEDIA = [
    ("image", {"link": "https://cdn.test/a.jpg", "caption": "c" * 1024}),
    ("document", {"link": "https://cdn.test/a.pdf", "caption": "Invoice", "filename": "invoice.pdf"}),
    ("video", {"link": "https://cdn.test/a.mp4", "caption": "Clip"}),
]


@pytest.mark.parametrize(("kind", "media"), MEDIA)
async def test_media_by_link_follows_the_window(
    sb: SandboxClient, sb_sync: SandboxClient, kind: str, media: dict[str, Any]
) -> None:
    def payload(to: str) -> dict[str, Any]:
        return {"messaging_product": "whatsapp", "to": to, "type": kind, kind: media}

    refused = await sb_sync.send(payload("+15550403001"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, 131047)
    await assert_only_failed(sb, wamid_of(await sb.send(payload("+15550403002"))), 131047)
    await sb_sync.inbound("+15550403003")
    wamid = wamid_of(await sb_sync.send(payload("+15550403003")))
    assert [s["status"] for s in await sb_sync.wait_statuses(wamid, 3)] == ["sent", "delivered", "read"]
