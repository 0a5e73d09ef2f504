"""Client webhooks end to end, over real HTTP on every hop: the API registers an endpoint, the
worker sends through the sandbox, Meta's statuses reach the receiver, and the worker's delivery
loop calls a real sink, signed in both schemes, in order, retried on the schedule."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook

from tests.flow.conftest import wait_status
from tests.support.processes import eventually
from tests.support.sinks import Received, Sink, running_sink
from tests.support.world import TenantFixture, order_request
from wanotify.common.config import DEFAULT_SETTINGS
from wanotify.common.db.schema import webhook_attempts, webhook_deliveries, webhook_endpoints
from wanotify.common.webhooks.payloads import decode_event

Client = AsyncTestClient[Any]
LIFE = ["notification.queued", "notification.sent", "notification.delivered", "notification.read"]


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with running_sink() as s:
        yield s
    # Every event any test here received is what the OpenAPI document's `webhooks` section says:
    # decoded strictly with the types it is generated from (a missing or unknown field fails).
    for received in s.received.values():
        for r in received:
            decode_event(r.body)


async def _endpoint(api: Client, tenant: TenantFixture, url: str, events: list[str]) -> tuple[str, str]:
    r = await api.post("/v1/webhooks", json={"url": url, "events": events}, headers=tenant.auth)
    assert r.status_code == 201, r.text
    return r.json()["webhook"]["id"], r.json()["secret"]


async def _send(api: Client, tenant: TenantFixture, phone: str) -> str:
    r = await api.post("/v1/notifications", json=order_request(phone), headers=tenant.auth)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _seed_valid(secret: str, received: Received) -> bool:
    """The seed's algorithm, written here independently: ``t=<unix>,v1=<hex HMAC of "t.body">``."""
    parts = [p.split("=", 1) for p in received.headers["x-webhook-signature"].split(",")]
    timestamp = next(v for k, v in parts if k == "t")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)


async def _events_at(sink: Sink, path: str, count: int) -> list[Received]:
    async def probe() -> list[Received]:
        return sink.delivered(path)

    return await eventually(probe, lambda got: len(got) >= count, what=f"{count} events at /{path}")


async def test_a_notification_to_read_reaches_the_sink_in_order_and_signed(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, sink: Sink, recipient: str
) -> None:
    _, secret = await _endpoint(api, tenant, sink.at("life"), ["notification.*"])
    nid = await _send(api, tenant, recipient)
    await wait_status(engine, nid, {"read"})
    got = await _events_at(sink, "life", 4)
    assert [r.json()["event"] for r in got] == LIFE
    assert [r.json()["data"]["sequence"] for r in got] == [1, 2, 3, 4]
    for r in got:
        body = Webhook(secret).verify(r.body, r.headers)  # the official Standard Webhooks library
        assert body["data"]["notification_id"] == nid
        assert r.headers["webhook-id"] == body["id"]
        assert _seed_valid(secret, r)
    read = got[-1].json()["data"]
    assert read["status"] == "read" and read["recipient"] == recipient
    assert read["metadata"] == {"order_id": "ORD-1"} and read["whatsapp_message_id"].startswith("wamid.")


async def test_only_the_subscribed_types_are_delivered(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, sink: Sink, recipient: str
) -> None:
    await _endpoint(api, tenant, sink.at("some"), ["delivered", "read"])  # bare aliases
    nid = await _send(api, tenant, recipient)
    await wait_status(engine, nid, {"read"})
    got = await _events_at(sink, "some", 2)
    assert [r.json()["event"] for r in got] == ["notification.delivered", "notification.read"]


async def test_a_failing_sink_is_retried_on_the_schedule_until_it_recovers(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, sink: Sink, recipient: str
) -> None:
    sink.answers["flaky"] = [(500, {}), (503, {}), (502, {})]
    endpoint_id, _ = await _endpoint(api, tenant, sink.at("flaky"), ["notification.queued"])
    await _send(api, tenant, recipient)
    [delivered] = await _events_at(sink, "flaky", 1)
    assert [r.answered for r in sink.received["flaky"]] == [500, 503, 502, 200]
    assert delivered.headers["webhook-id"] == sink.received["flaky"][0].headers["webhook-id"]  # same event

    async def attempts() -> list[tuple[int, int]]:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(webhook_attempts.c.attempt, webhook_attempts.c.status_code)
                .join(webhook_deliveries, webhook_deliveries.c.id == webhook_attempts.c.delivery_id)
                .where(webhook_deliveries.c.endpoint_id == endpoint_id)
                .order_by(webhook_attempts.c.id)
            )
            return [(int(a), int(c)) for a, c in rows.all()]

    # The worker records an attempt after the sink has answered it: wait for the fourth row.
    logged = await eventually(attempts, lambda got: len(got) >= 4, what="four logged attempts")
    assert logged == [(1, 500), (2, 503), (3, 502), (4, 200)]


async def test_retry_after_is_honoured_within_the_schedule(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, sink: Sink, recipient: str
) -> None:
    sink.answers["busy"] = [(429, {"Retry-After": "1"})]
    endpoint_id, _ = await _endpoint(api, tenant, sink.at("busy"), ["notification.queued"])
    await _send(api, tenant, recipient)
    await _events_at(sink, "busy", 1)
    async with engine.connect() as conn:
        first = (
            await conn.execute(
                select(webhook_attempts.c.attempted_at, webhook_attempts.c.next_attempt_at)
                .join(webhook_deliveries, webhook_deliveries.c.id == webhook_attempts.c.delivery_id)
                .where(webhook_deliveries.c.endpoint_id == endpoint_id, webhook_attempts.c.attempt == 1)
            )
        ).one()
    # The schedule's next step is 0.2 s (±20 %); the endpoint asked for 1 s, and the schedule's
    # longest step (0.8 s) bounds it.
    gap = (first.next_attempt_at - first.attempted_at).total_seconds()
    assert 0.75 <= gap <= 0.85, gap


async def test_a_410_gone_disables_the_endpoint(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, sink: Sink, recipient: str
) -> None:
    sink.answers["gone"] = [(410, {})]
    endpoint_id, _ = await _endpoint(api, tenant, sink.at("gone"), ["notification.*"])
    await _send(api, tenant, recipient)

    async def endpoint() -> dict[str, Any]:
        r = await api.get(f"/v1/webhooks/{endpoint_id}", headers=tenant.auth)
        return dict(r.json())

    doc = await eventually(endpoint, lambda d: d["enabled"] is False, what="the endpoint to be disabled")
    assert "410" in doc["disabled_reason"] and doc["disabled_at"]
    async with engine.connect() as conn:
        held = await conn.scalar(
            select(webhook_endpoints.c.enabled).where(webhook_endpoints.c.id == endpoint_id)
        )
    assert held is False


async def test_after_a_rotation_deliveries_carry_both_signatures(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, sink: Sink, recipient: str
) -> None:
    endpoint_id, old = await _endpoint(api, tenant, sink.at("rotated"), ["notification.queued"])
    r = await api.post(f"/v1/webhooks/{endpoint_id}/rotate-secret", headers=tenant.auth)
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new != old and r.json()["previous_secret_expires_at"]
    await _send(api, tenant, recipient)
    [got] = await _events_at(sink, "rotated", 1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):  # a client on either secret verifies
        Webhook(secret).verify(got.body, got.headers)
        assert _seed_valid(secret, got)


async def test_a_hanging_endpoint_does_not_hold_back_a_healthy_one(
    api: Client, engine: AsyncEngine, worker: None, sink: Sink, box: Any, sandbox_url: str
) -> None:
    from tests.support.world import make_tenant

    slow, healthy = await make_tenant(engine, box, sandbox_url), await make_tenant(engine, box, sandbox_url)
    sink.delay["hangs"] = 2.5  # under the 3 s timeout of the test settings: each attempt holds a slot
    await _endpoint(api, slow, sink.at("hangs"), ["notification.*"])
    await _endpoint(api, healthy, sink.at("healthy"), ["notification.*"])
    for _ in range(30):  # 120 events: more than the claim would take at once
        await _send(api, slow, f"+1555{secrets.randbelow(10**7):07d}")
    phone = f"+1555{secrets.randbelow(10**7):07d}"
    nid = await _send(api, healthy, phone)
    await wait_status(engine, nid, {"read"})
    got = await _events_at(sink, "healthy", 4)
    assert [r.json()["event"] for r in got] == LIFE
    # The healthy endpoint had its whole life while the hanging one still had most of its 120
    # events to go, and never held more of the worker's slots than the per-endpoint cap.
    assert len(sink.received["hangs"]) < 60
    assert sink.most_in_flight["hangs"] <= DEFAULT_SETTINGS.webhooks.endpoint_concurrency


async def test_the_delivery_log_shows_the_attempts_and_a_retry_delivers_again(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, sink: Sink, recipient: str
) -> None:
    sink.answers["logged"] = [(500, {})]
    endpoint_id, _ = await _endpoint(api, tenant, sink.at("logged"), ["notification.queued"])
    nid = await _send(api, tenant, recipient)
    [first] = await _events_at(sink, "logged", 1)

    async def log() -> list[dict[str, Any]]:
        r = await api.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=tenant.auth)
        assert r.status_code == 200, r.text
        return list(r.json()["deliveries"])

    [entry] = await eventually(
        log, lambda d: bool(d) and d[0]["status"] == "succeeded", what="a logged success"
    )
    assert (entry["attempt"], entry["status_code"], entry["notification_id"]) == (2, 200, nid)
    assert entry["event_type"] == "notification.queued" and entry["response_body"] == '{"ok": true}'
    assert entry["duration_ms"] >= 0 and entry["next_attempt_at"] is None
    filtered = await api.get(
        f"/v1/webhooks/{endpoint_id}/deliveries", params={"status": "failed"}, headers=tenant.auth
    )
    assert filtered.json()["deliveries"] == []

    r = await api.post(f"/v1/webhooks/{endpoint_id}/deliveries/{entry['id']}/retry", headers=tenant.auth)
    assert r.status_code == 202, r.text
    again = await _events_at(sink, "logged", 2)
    assert again[1].headers["webhook-id"] == first.headers["webhook-id"]  # the same event, again


async def test_a_disabled_endpoint_holds_its_events_and_recover_sends_them(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, sink: Sink, recipient: str
) -> None:
    endpoint_id, _ = await _endpoint(api, tenant, sink.at("held"), ["notification.*"])
    r = await api.patch(f"/v1/webhooks/{endpoint_id}", json={"enabled": False}, headers=tenant.auth)
    assert r.json()["enabled"] is False
    nid = await _send(api, tenant, recipient)
    await wait_status(engine, nid, {"read"})

    async def held() -> list[dict[str, Any]]:
        r = await api.get(
            f"/v1/webhooks/{endpoint_id}/deliveries", params={"status": "held"}, headers=tenant.auth
        )
        return list(r.json()["deliveries"])

    await eventually(held, lambda d: len(d) == 4, what="four held events")
    assert sink.received["held"] == []
    r = await api.post(f"/v1/webhooks/{endpoint_id}/enable", headers=tenant.auth)
    assert r.status_code == 200 and r.json()["enabled"] is True
    r = await api.post(
        f"/v1/webhooks/{endpoint_id}/recover", json={"since": "2026-01-01T00:00:00Z"}, headers=tenant.auth
    )
    assert r.status_code == 202 and r.json() == {"recovered": 4}
    got = await _events_at(sink, "held", 4)
    assert [r.json()["event"] for r in got] == LIFE  # in order, even recovered together


async def test_an_answer_postgresql_cannot_store_is_kept_readable(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, sink: Sink, recipient: str
) -> None:
    sink.bodies["odd"] = b"nul\x00 and " + b"\xff" * 3 + b"x" * 2000
    endpoint_id, _ = await _endpoint(api, tenant, sink.at("odd"), ["notification.queued"])
    await _send(api, tenant, recipient)

    async def log() -> list[dict[str, Any]]:
        r = await api.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=tenant.auth)
        return list(r.json()["deliveries"])

    [entry] = await eventually(
        log, lambda d: bool(d) and d[0]["status"] == "succeeded", what="a logged success"
    )
    assert entry["response_body"].startswith("nul\ufffd and ") and len(entry["response_body"]) <= 1024


async def test_an_endpoint_failing_for_too_long_is_disabled_and_later_events_are_held(
    api: Client, tenant: TenantFixture, engine: AsyncEngine, worker: None, sink: Sink, recipient: str
) -> None:
    sink.answers["dead"] = [(500, {})] * 100
    endpoint_id, _ = await _endpoint(api, tenant, sink.at("dead"), ["notification.*"])
    async with engine.begin() as conn:  # its deliveries have failed for six days (the limit is five)
        await conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint_id)
            .values(failing_since=func.now() - func.make_interval(0, 0, 0, 6))
        )
    nid = await _send(api, tenant, recipient)

    async def endpoint() -> dict[str, Any]:
        return dict((await api.get(f"/v1/webhooks/{endpoint_id}", headers=tenant.auth)).json())

    doc = await eventually(endpoint, lambda d: d["enabled"] is False, what="the endpoint to be disabled")
    assert doc["disabled_reason"] == "every delivery failed for too long"
    await wait_status(engine, nid, {"read"})

    async def held() -> list[dict[str, Any]]:
        r = await api.get(
            f"/v1/webhooks/{endpoint_id}/deliveries", params={"status": "held"}, headers=tenant.auth
        )
        return list(r.json()["deliveries"])

    later = await eventually(held, lambda d: len(d) >= 1, what="events held for the disabled endpoint")
    assert {d["event_type"] for d in later} <= set(LIFE[1:])


async def test_a_reply_is_message_received_naming_the_notification_it_answers(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sink: Sink,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    await _endpoint(api, tenant, sink.at("replies"), ["message.received"])
    nid = await _send(api, tenant, recipient)
    n = await wait_status(engine, nid, {"sent", "delivered", "read"})
    r = await sandbox.post(
        "/_sandbox/inbound",
        json={
            "phone_number_id": tenant.phone_number_id,
            "from": recipient.lstrip("+"),
            "text": "Is it shipped yet?",
            "context_id": n.whatsapp_message_id,
        },
    )
    r.raise_for_status()
    [got] = await _events_at(sink, "replies", 1)
    event = got.json()
    assert event["event"] == "message.received"
    data = event["data"]
    assert (data["from"], data["type"], data["text"]) == (recipient, "text", "Is it shipped yet?")
    assert (data["in_reply_to"], data["notification_id"]) == (n.whatsapp_message_id, nid)


async def test_stop_is_recipient_opted_out_and_removing_it_opted_in(
    api: Client, tenant: TenantFixture, worker: None, sink: Sink, sandbox: httpx.AsyncClient, recipient: str
) -> None:
    await _endpoint(api, tenant, sink.at("consent"), ["recipient.*"])
    r = await sandbox.post(
        "/_sandbox/inbound",
        json={"phone_number_id": tenant.phone_number_id, "from": recipient.lstrip("+"), "text": "STOP"},
    )
    r.raise_for_status()
    [out] = await _events_at(sink, "consent", 1)
    assert out.json()["event"] == "recipient.opted_out"
    assert out.json()["data"] == {"recipient": recipient, "source": "inbound", "reason": "keyword STOP"}
    r = await api.delete(f"/v1/opt-outs/{recipient}", headers=tenant.auth)
    assert r.status_code == 204, r.text
    got = await _events_at(sink, "consent", 2)
    assert got[1].json()["event"] == "recipient.opted_in" and got[1].json()["data"] == {
        "recipient": recipient
    }


async def test_a_sender_level_error_is_sender_paused_and_the_resume_sender_resumed(
    api: Client,
    engine: AsyncEngine,
    box: Any,
    sandbox_url: str,
    worker: None,
    sink: Sink,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    from tests.support.faults import inject_fault
    from tests.support.world import make_tenant

    tenant = await make_tenant(engine, box, sandbox_url)  # its own sender: the pause is its alone
    await _endpoint(api, tenant, sink.at("senders"), ["sender.*"])
    await inject_fault(sandbox, recipient, 190)  # the access token expired: a sender-level error
    await _send(api, tenant, recipient)
    [paused] = await _events_at(sink, "senders", 1)
    assert paused.json()["event"] == "sender.paused"
    assert paused.json()["data"]["sender_id"] == tenant.sender_id and paused.json()["data"]["code"] == "190"
    r = await api.post(f"/v1/senders/{tenant.sender_id}/resume", headers=tenant.auth)
    assert r.status_code == 200, r.text
    got = await _events_at(sink, "senders", 2)
    assert got[1].json()["event"] == "sender.resumed"


async def test_a_test_event_is_sent_now_and_its_outcome_answered(
    api: Client, tenant: TenantFixture, sink: Sink
) -> None:
    endpoint_id, secret = await _endpoint(api, tenant, sink.at("tested"), ["notification.read"])
    r = await api.post(f"/v1/webhooks/{endpoint_id}/test", headers=tenant.auth)
    assert r.status_code == 200, r.text
    outcome = r.json()
    assert (outcome["succeeded"], outcome["status_code"], outcome["error"]) == (True, 200, None)
    [got] = sink.delivered("tested")  # delivered before the answer: no wait
    assert Webhook(secret).verify(got.body, got.headers)["event"] == "webhook.test"
    sink.answers["tested"] = [(503, {})]
    failed = (await api.post(f"/v1/webhooks/{endpoint_id}/test", headers=tenant.auth)).json()
    assert (failed["succeeded"], failed["status_code"]) == (False, 503)
    log = (await api.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=tenant.auth)).json()["deliveries"]
    assert [(d["event_type"], d["status"]) for d in log] == [
        ("webhook.test", "failed"),
        ("webhook.test", "succeeded"),
    ]
    doc = (await api.get(f"/v1/webhooks/{endpoint_id}", headers=tenant.auth)).json()
    assert doc["enabled"] is True  # a test does not count towards the failing streak


async def test_a_failure_is_failed_then_dead_lettered_with_the_error(
    api: Client,
    tenant: TenantFixture,
    engine: AsyncEngine,
    worker: None,
    sink: Sink,
    sandbox: httpx.AsyncClient,
    recipient: str,
) -> None:
    from tests.support.faults import inject_fault

    await _endpoint(api, tenant, sink.at("failures"), ["notification.failed", "dead_lettered"])
    await inject_fault(sandbox, recipient, 131026)  # undeliverable: permanent
    nid = await _send(api, tenant, recipient)
    await wait_status(engine, nid, {"failed"})
    got = await _events_at(sink, "failures", 2)
    assert [(r.json()["event"], r.json()["data"]["sequence"]) for r in got] == [
        ("notification.failed", 2),
        ("notification.dead_lettered", 3),
    ]
    error = got[0].json()["data"]["error"]
    assert error["code"] == "131026" and error["retryable"] is False
