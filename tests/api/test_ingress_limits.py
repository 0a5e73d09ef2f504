"""Ingress limits over the real API: headers, 429s, bulk partial acceptance, the global bucket and
the per-process fallback while Redis is down."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.processes import eventually
from tests.support.world import TenantFixture, make_tenant, order_request
from wanotify.cli.embedded import EmbeddedRedis, free_port
from wanotify.common.config import IngressLimitSettings, Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.tenant import IngressLimits, TenantPolicy

Client = AsyncTestClient[Any]
ISO_SECOND = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
async def make(engine: AsyncEngine, box: SecretBox, sandbox_url: str) -> Any:
    """A new tenant with the given ingress limits in its policy."""

    async def build(**limits: int) -> TenantFixture:
        tenant = await make_tenant(engine, box, sandbox_url)
        async with UnitOfWork(engine) as uow:
            await uow.tenants.set_policy(tenant.tenant_id, TenantPolicy(rate_limits=IngressLimits(**limits)))
            await uow.commit()
        return tenant

    return build


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "redis", durable=False, port=free_port())
    server.start()
    yield server
    server.stop()


async def own_app(settings: Settings, **changes: Any) -> AsyncIterator[Client]:
    from wanotify.api.app import create_app

    async with AsyncTestClient(create_app(msgspec.structs.replace(settings, **changes))) as client:
        yield client


async def away_from_the_minute_boundary() -> None:
    """Fixed windows restart at each UTC minute: keep a short sequence of requests inside one."""
    now = datetime.now(UTC)
    if now.second >= 57:
        await asyncio.sleep(60 - now.second - now.microsecond / 1e6 + 0.05)


def limit_headers(r: Any) -> tuple[int, int, datetime]:
    reset = r.headers["x-ratelimit-reset"]
    assert ISO_SECOND.match(reset), reset
    return (
        int(r.headers["x-ratelimit-limit"]),
        int(r.headers["x-ratelimit-remaining"]),
        datetime.strptime(reset, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
    )


def rate_limited(r: Any) -> int:
    """Asserts the standard 429 and returns its Retry-After."""
    assert r.status_code == 429, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field", "trace_id"}, body
    assert body["error"]["code"] == "RATE_LIMITED"
    assert body["error"]["trace_id"] == r.headers["x-trace-id"]
    retry = r.headers["retry-after"]
    assert retry.isdigit() and int(retry) >= 1, retry
    return int(retry)


async def test_headers_on_success_on_4xx_and_on_reads(api: Client, make: Any) -> None:
    tenant = await make(per_minute=50, per_hour=0, per_day=0)
    await away_from_the_minute_boundary()
    created = await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)
    assert created.status_code == 201, created.text
    limit, remaining, reset = limit_headers(created)
    assert (limit, remaining) == (50, 49)
    now = datetime.now(UTC)
    assert reset.second == 0 and now < reset <= now + timedelta(seconds=60)
    # A single POST takes its unit before validation: a 400 and a 415 are requests too.
    bad = await api.post("/v1/notifications", json={"event_type": "x"}, headers=tenant.auth)
    assert bad.status_code == 400 and limit_headers(bad)[:2] == (50, 48)
    wrong_type = await api.post(
        "/v1/notifications", content=b"x", headers={**tenant.auth, "Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415 and limit_headers(wrong_type)[:2] == (50, 47)
    # Reads carry the headers without spending the tenant's quota.
    read = await api.get(f"/v1/notifications/{created.json()['id']}", headers=tenant.auth)
    missing = await api.get("/v1/notifications/notif_nope", headers=tenant.auth)
    senders = await api.get("/v1/senders", headers=tenant.auth)
    assert (read.status_code, missing.status_code) == (200, 404)
    for r in (read, missing, senders):
        assert limit_headers(r)[:2] == (50, 47), r.headers


async def test_requests_refused_before_authentication_carry_the_global_bucket(api: Client) -> None:
    r = await api.get("/v1/notifications/notif_x", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    limit, remaining, _ = limit_headers(r)
    assert limit == IngressLimitSettings().global_burst
    assert 0 <= remaining < limit
    assert "x-ratelimit-limit" not in (await api.get("/livez")).headers


async def test_per_minute_refusal_is_a_429_with_retry_after(api: Client, make: Any) -> None:
    tenant = await make(per_minute=2)
    await away_from_the_minute_boundary()
    for expected in (1, 0):
        r = await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)
        assert r.status_code == 201 and limit_headers(r)[1] == expected
    refused = await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)
    assert rate_limited(refused) <= 60
    limit, remaining, reset = limit_headers(refused)
    assert (limit, remaining, reset.second) == (2, 0, 0)
    assert "per minute" in refused.json()["error"]["message"]
    # Reads still work and say the quota is spent.
    listed = await api.get("/v1/senders", headers=tenant.auth)
    assert listed.status_code == 200 and limit_headers(listed)[:2] == (2, 0)


@pytest.mark.parametrize(("window", "seconds"), [("per_hour", 3600), ("per_day", 86400)])
async def test_per_hour_and_per_day_limits(api: Client, make: Any, window: str, seconds: int) -> None:
    tenant = await make(per_minute=0, **{window: 2})
    await away_from_the_minute_boundary()
    ok = await api.post(
        "/v1/notifications/bulk", json={"notifications": [order_request()] * 2}, headers=tenant.auth
    )
    assert ok.status_code == 202 and ok.json()["queued"] == 2, ok.text
    refused = await api.post("/v1/notifications", json=order_request(), headers=tenant.auth)
    retry = rate_limited(refused)
    limit, remaining, reset = limit_headers(refused)
    assert (limit, remaining) == (2, 0)
    assert int(reset.timestamp()) % seconds == 0
    assert retry <= seconds
    assert abs(datetime.now(UTC) + timedelta(seconds=retry) - reset) <= timedelta(seconds=5)


async def test_bulk_accepts_what_fits_and_refuses_the_rest_per_item(api: Client, make: Any) -> None:
    tenant = await make(per_minute=5)
    await away_from_the_minute_boundary()
    items = [order_request(f"+1415557{i:04d}") for i in range(8)]
    items[1] = {"event_type": "broken"}  # a bad item inside the quota still spends its unit
    r = await api.post("/v1/notifications/bulk", json={"notifications": items}, headers=tenant.auth)
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["total"], body["queued"], body["failed"]) == (8, 4, 4)
    assert [i["index"] for i in body["notifications"]] == [0, 2, 3, 4]
    codes = {e["index"]: e["code"] for e in body["errors"]}
    assert codes[1] == "VALIDATION_ERROR"
    assert {i: codes[i] for i in (5, 6, 7)} == dict.fromkeys((5, 6, 7), "RATE_LIMITED")
    assert limit_headers(r)[:2] == (5, 0)
    nothing_fits = await api.post(
        "/v1/notifications/bulk", json={"notifications": items[:2]}, headers=tenant.auth
    )
    rate_limited(nothing_fits)


async def test_a_tenant_policy_beats_the_server_default(settings: Settings, make: Any) -> None:
    defaults = IngressLimitSettings(tenant_per_minute=1, tenant_per_hour=0, tenant_per_day=0)
    plain, raised, unlimited = await make(), await make(per_minute=3), await make(per_minute=0)
    await away_from_the_minute_boundary()
    async for client in own_app(settings, ingress_limits=defaults):
        statuses: dict[str, list[int]] = {}
        for name, tenant in (("plain", plain), ("raised", raised), ("unlimited", unlimited)):
            statuses[name] = [
                (
                    await client.post("/v1/notifications", json=order_request(), headers=tenant.auth)
                ).status_code
                for _ in range(4)
            ]
        assert statuses == {
            "plain": [201, 429, 429, 429],
            "raised": [201, 201, 201, 429],
            "unlimited": [201, 201, 201, 201],
        }


async def test_the_global_bucket_limits_all_requests(
    settings: Settings, make: Any, own_redis: EmbeddedRedis
) -> None:
    tenant = await make(per_minute=0, per_hour=0, per_day=0)
    # One token per 100 s: nothing refills while the test runs.
    tiny = IngressLimitSettings(global_per_second=0.01, global_burst=3)
    async for client in own_app(settings, ingress_limits=tiny, redis_url=own_redis.url):
        first = await client.get("/v1/notifications/notif_nope", headers=tenant.auth)
        assert first.status_code == 404 and limit_headers(first)[:2] == (3, 2)
        anonymous = await client.get("/v1/notifications/notif_nope")
        assert anonymous.status_code == 401 and limit_headers(anonymous)[:2] == (3, 1)
        created = await client.post("/v1/notifications", json=order_request(), headers=tenant.auth)
        assert created.status_code == 201 and limit_headers(created)[:2] == (3, 0)
        for request in (
            client.post("/v1/notifications", json=order_request(), headers=tenant.auth),
            client.get("/v1/senders", headers=tenant.auth),
        ):
            retry = rate_limited(await request)
            assert 1 <= retry <= 100


async def test_redis_down_falls_back_per_process_and_recovers(
    settings: Settings, make: Any, own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    tenant = await make(per_minute=2)
    restarted = EmbeddedRedis(tmp_path / "redis", durable=False, port=own_redis.port)

    async def counters() -> list[bytes]:
        redis = Redis.from_url(own_redis.url)
        try:
            return [k async for k in redis.scan_iter("*ingress*")]
        finally:
            await redis.aclose()

    try:
        async for client in own_app(settings, redis_url=own_redis.url):
            post = partial(client.post, "/v1/notifications", json=order_request(), headers=tenant.auth)
            await away_from_the_minute_boundary()
            assert (await post()).status_code == 201
            assert await counters()
            own_redis.stop()
            outage = [await post() for _ in range(3)]
            assert [r.status_code for r in outage] == [201, 201, 429]
            rate_limited(outage[2])
            assert limit_headers(outage[2])[:2] == (2, 0)
            restarted.start()
            assert not await counters()
            # Redis is retried after a short back-off; the fresh server has no counts yet.
            back = await eventually(post, lambda r: r.status_code == 201, timeout=10, what="redis again")
            assert limit_headers(back)[:2] == (2, 1)
            assert await counters()
    finally:
        restarted.stop()
