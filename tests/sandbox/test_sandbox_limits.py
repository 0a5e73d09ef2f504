"""Meta's limits enforced for real: throughput (130429), pair rate (131056), messaging-limit tier."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.sandbox.harness import (
    PNID,
    PNID_2,
    TOKEN_2,
    CaptureServer,
    SandboxClient,
    template_payload,
    text_payload,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

THROUGHPUT_DETAILS = "Cloud API message throughput has been reached."


async def add_phone(sb: SandboxClient, phone_number_id: str, waba_id: str, **extra: Any) -> str:
    token = f"EAAlimits-{phone_number_id}"
    response = await sb.http.post(
        "/_sandbox/phone-numbers",
        json={
            "phone_number_id": phone_number_id,
            "waba_id": waba_id,
            "access_token": token,
            "display_phone_number": "+1 555 000 0099",
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    return token


async def burst(
    sb: SandboxClient, count: int, *, phone_number_id: str = PNID, token: str | None = None
) -> list[Any]:
    """`count` concurrent template sends to distinct recipients; the answers' (status, code)."""
    kwargs: dict[str, Any] = {"phone_number_id": phone_number_id}
    if token is not None:
        kwargs["token"] = token
    responses = await asyncio.gather(
        *(sb.send(template_payload(f"+1555060{i:04d}", "hello_world"), **kwargs) for i in range(count))
    )
    return [(r.status_code, r.json().get("error", {}).get("code")) for r in responses]


def assert_throughput_error(response: httpx.Response) -> None:
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 130429
    assert error["message"] == "(#130429) Rate limit hit"
    assert error["error_data"]["details"] == THROUGHPUT_DETAILS


async def test_throughput_per_phone_number_refuses_a_fast_burst(sb: SandboxClient) -> None:
    token = await add_phone(sb, "100000000000501", "200000000000501", throughput_mps=2)
    templates = await sb.http.post(
        "/_sandbox/templates",
        json={"waba_id": "200000000000501", "name": "hello_world", "language": "en_US", "components": []},
    )
    assert templates.status_code == 201
    answers = await burst(sb, 20, phone_number_id="100000000000501", token=token)
    accepted = [a for a in answers if a[0] == 200]
    refused = [a for a in answers if a != (200, None)]
    assert len(accepted) >= 2  # the bucket starts full: 1 s worth
    assert refused, "20 concurrent sends at 2 mps must hit the throughput limit"
    assert set(refused) == {(400, 130429)}
    logged = (await sb.http.get("/_sandbox/messages", params={"phone_number_id": "100000000000501"})).json()
    assert sorted(r["error_code"] for r in logged if r["outcome"] == "refused") == [130429] * len(refused)
    # The seeded numbers have their own buckets (80 mps).
    assert set(await burst(sb, 20)) == {(200, None)}


async def test_throughput_error_body(sb: SandboxClient) -> None:
    token = await add_phone(sb, "100000000000502", "200000000000001", throughput_mps=0.1)
    first = await sb.send(
        template_payload("+15550600001", "hello_world"), phone_number_id="100000000000502", token=token
    )
    assert first.status_code == 200
    second = await sb.send(
        template_payload("+15550600002", "hello_world"), phone_number_id="100000000000502", token=token
    )
    assert_throughput_error(second)


async def test_default_throughput_from_settings(start_sandbox: Any) -> None:
    # 4 mps with a half-second burst: the bucket holds 2 messages.
    server = await start_sandbox(default_throughput_mps=4.0, throughput_burst_seconds=0.5, webhook_url="")
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        sandbox = SandboxClient(http, CaptureServer())
        answers = await burst(sandbox, 20)
        assert len([a for a in answers if a[0] == 200]) >= 2
        assert {a for a in answers if a[0] != 200} == {(400, 130429)}
        # Sending slower than the rate (at most 1/0.055 = 18 mps) is never refused, well past the burst
        # (a number at 20 mps: 5 messages in its bucket).
        slow = await add_phone(sandbox, "100000000000508", "200000000000001", throughput_mps=20)
        codes = []
        for i in range(10):
            response = await sandbox.send(
                template_payload(f"+1555061{i:04d}", "hello_world"),
                phone_number_id="100000000000508",
                token=slow,
            )
            codes.append(response.status_code)
            await asyncio.sleep(0.055)
        assert codes == [200] * 10
        # A number configured with Meta's upgraded 1000 mps takes the same burst.
        token = await add_phone(sandbox, "100000000000504", "200000000000001", throughput_mps=1000)
        assert set(await burst(sandbox, 20, phone_number_id="100000000000504", token=token)) == {(200, None)}
        # Reset refills the buckets.
        await http.post("/_sandbox/reset")
        assert (await sandbox.send(template_payload("+15550600003", "hello_world"))).status_code == 200


@pytest.mark.parametrize("value", [0, -5, "fast", True])
async def test_bad_throughput_is_refused(sb: SandboxClient, value: Any) -> None:
    response = await sb.http.post(
        "/_sandbox/phone-numbers",
        json={
            "phone_number_id": "100000000000505",
            "waba_id": "200000000000001",
            "access_token": "x",
            "display_phone_number": "+1 555 000 0098",
            "throughput_mps": value,
        },
    )
    assert response.status_code == 400, response.text


async def test_phone_number_echo_omits_unset_limits(sb: SandboxClient) -> None:
    body = {
        "phone_number_id": "100000000000506",
        "waba_id": "200000000000001",
        "access_token": "EAAecho",
        "display_phone_number": "+1 555 000 0097",
    }
    assert (await sb.http.post("/_sandbox/phone-numbers", json=body)).json() == body
    configured = {**body, "throughput_mps": 20.0, "messaging_limit": 250}
    assert (await sb.http.post("/_sandbox/phone-numbers", json=configured)).json() == configured


# --- pair rate ---------------------------------------------------------------------------------


async def test_pair_rate_limit(start_sandbox: Any) -> None:
    server = await start_sandbox(pair_burst=3, pair_interval_seconds=1.5, webhook_url="")
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        sandbox = SandboxClient(http, CaptureServer())
        to = "+15550620001"
        answers = [await sandbox.send(template_payload(to, "hello_world")) for _ in range(5)]
        assert [r.status_code for r in answers[:3]] == [200, 200, 200]  # the burst
        refused = [r for r in answers[3:] if r.status_code != 200]
        assert refused, "the 4th and 5th messages in a row exceed a burst of 3"
        error = refused[0].json()["error"]
        assert error["code"] == 131056
        assert error["message"] == "(#131056) (Business Account, Consumer Account) pair rate limit hit"
        assert refused[0].status_code == 400
        # Other recipients, and the same recipient from another number, are unaffected.
        assert (await sandbox.send(template_payload("+15550620002", "hello_world"))).status_code == 200
        other_number = await sandbox.send(
            template_payload(to, "hello_world"), phone_number_id=PNID_2, token=TOKEN_2
        )
        assert other_number.status_code == 200
        # One token comes back per interval.
        await asyncio.sleep(1.55)
        assert (await sandbox.send(template_payload(to, "hello_world"))).status_code == 200
        logged = (await http.get("/_sandbox/messages", params={"to": to})).json()
        assert 131056 in [r["error_code"] for r in logged]


async def test_pair_rate_default_allows_meta_burst(sb: SandboxClient) -> None:
    to = "+15550620003"
    codes = [(await sb.send(template_payload(to, "hello_world"))).status_code for _ in range(45)]
    assert codes == [200] * 45
    response = await sb.send(template_payload(to, "hello_world"))
    assert response.json()["error"]["code"] == 131056


# --- messaging-limit tier ----------------------------------------------------------------------


async def test_messaging_limit_counts_unique_users_outside_the_window(sb: SandboxClient) -> None:
    waba, pnid = "200000000000507", "100000000000507"
    token = await add_phone(sb, pnid, waba, messaging_limit=2)
    await sb.http.post(
        "/_sandbox/templates",
        json={"waba_id": waba, "name": "hello_world", "language": "en_US", "components": []},
    )

    async def send(to: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        return await sb.send(
            payload or template_payload(to, "hello_world"), phone_number_id=pnid, token=token
        )

    assert (await send("+15550630001")).status_code == 200
    assert (await send("+15550630002")).status_code == 200
    assert (await send("+15550630001")).status_code == 200  # already reached: not a new user
    over = await send("+15550630003")
    assert over.status_code == 400
    assert over.json()["error"]["code"] == 131048
    assert "Messaging limit reached" in over.json()["error"]["error_data"]["details"]
    # A user inside the customer-service window does not count.
    inbound = await sb.http.post(
        "/_sandbox/inbound", json={"phone_number_id": pnid, "from": "+15550630004", "text": "hi"}
    )
    assert inbound.status_code == 200
    assert (await send("+15550630004")).status_code == 200
    assert (await send("+15550630004", text_payload("+15550630004"))).status_code == 200
    # Reset forgets the users reached.
    await sb.http.post("/_sandbox/reset")
    assert (await send("+15550630003")).status_code == 200
