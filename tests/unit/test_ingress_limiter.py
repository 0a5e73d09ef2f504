"""The ingress limiter against a real Redis and in its per-process fallback: the same rules."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis

from wanotify.cli.embedded import EmbeddedRedis, free_port
from wanotify.common.config import IngressLimitSettings
from wanotify.common.ratelimit import IngressLimiter, TenantLimits, rate_limit_headers

START = datetime(2025, 2, 15, 14, 0, 30, tzinfo=UTC).timestamp()
NO_GLOBAL = IngressLimitSettings(global_per_second=0)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def redis(redis_server_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server_url)
    yield client
    await client.aclose()


Factory = Callable[[IngressLimitSettings, "Clock"], IngressLimiter]


@pytest.fixture(params=["redis", "fallback"])
def make(request: pytest.FixtureRequest, redis: Redis) -> Factory:
    """A limiter factory; ``fallback`` runs without Redis, so the per-process rules are used."""
    prefix = f"test:{secrets.token_hex(4)}"

    def build(settings: IngressLimitSettings, clock: Clock) -> IngressLimiter:
        client = redis if request.param == "redis" else None
        return IngressLimiter(client, settings, clock=clock, prefix=prefix)

    return build


async def test_a_take_grants_what_fits_and_consumes_exactly_that(make: Factory) -> None:
    clock = Clock()
    limiter = make(NO_GLOBAL, clock)
    limits = TenantLimits(per_minute=5)
    first = await limiter.take("t1", limits, 3)
    assert (first.granted, first.refused, first.limit, first.remaining) == (3, False, 5, 2)
    assert rate_limit_headers(first)["X-RateLimit-Reset"] == "2025-02-15T14:01:00Z"
    second = await limiter.take("t1", limits, 4)
    assert (second.granted, second.refused, second.remaining) == (2, False, 0)
    third = await limiter.take("t1", limits, 1)
    assert (third.granted, third.refused, third.remaining, third.retry_after) == (0, True, 0, 30)
    other = await limiter.take("t2", limits, 1)
    assert (other.granted, other.remaining) == (1, 4)
    clock.now += 30
    fresh = await limiter.take("t1", limits, 1)
    assert (fresh.granted, fresh.remaining) == (1, 4)
    assert rate_limit_headers(fresh)["X-RateLimit-Reset"] == "2025-02-15T14:02:00Z"


async def test_the_window_with_the_fewest_left_is_reported_and_binds(make: Factory) -> None:
    clock = Clock()
    limiter = make(NO_GLOBAL, clock)
    limits = TenantLimits(per_minute=10, per_hour=3, per_day=100)
    decision = await limiter.take("t", limits, 2)
    assert (decision.limit, decision.remaining, decision.window) == (3, 1, "hour")
    assert rate_limit_headers(decision)["X-RateLimit-Reset"] == "2025-02-15T15:00:00Z"
    clock.now += 120  # a new minute, the same hour
    refused = await limiter.take("t", limits, 5)
    assert (refused.granted, refused.refused) == (1, False)
    refused = await limiter.take("t", limits, 1)
    assert refused.refused
    assert refused.retry_after == 3600 - 150


async def test_peek_reads_the_tenant_windows_without_spending_them(make: Factory) -> None:
    limiter = make(NO_GLOBAL, Clock())
    limits = TenantLimits(per_minute=2)
    for _ in range(3):
        peeked = await limiter.peek("t", limits)
        assert (peeked.refused, peeked.remaining) == (False, 2)
    assert (await limiter.take("t", limits, 2)).granted == 2
    exhausted = await limiter.peek("t", limits)
    assert (exhausted.refused, exhausted.remaining) == (False, 0)


async def test_the_global_bucket_allows_a_burst_then_its_rate(make: Factory) -> None:
    clock = Clock()
    limiter = make(IngressLimitSettings(global_per_second=0.5, global_burst=3), clock)
    remaining = [(await limiter.peek(None)).remaining for _ in range(3)]
    assert remaining == [2, 1, 0]
    refused = await limiter.take("t", TenantLimits(per_minute=10), 1)
    assert (refused.refused, refused.granted, refused.window, refused.retry_after) == (True, 0, "global", 2)
    # A refused request spends nothing: the tenant still has all ten.
    clock.now += 2
    allowed = await limiter.take("t", TenantLimits(per_minute=10), 1)
    assert (allowed.granted, allowed.remaining) == (1, 9)
    assert (await limiter.peek(None)).refused


async def test_no_limit_at_all_means_no_headers(make: Factory) -> None:
    limiter = make(NO_GLOBAL, Clock())
    decision = await limiter.take("t", TenantLimits(), 50)
    assert (decision.granted, decision.refused) == (50, False)
    assert rate_limit_headers(decision) == {}


async def test_concurrent_takes_never_grant_more_than_the_limit(redis_server_url: str) -> None:
    """Four limiters with their own connections (four API processes) race for one tenant's quota."""
    prefix = f"test:{secrets.token_hex(4)}"
    clients = [Redis.from_url(redis_server_url) for _ in range(4)]
    try:
        limiters = [IngressLimiter(c, NO_GLOBAL, clock=Clock(), prefix=prefix) for c in clients]
        limits = TenantLimits(per_minute=100, per_hour=1000)
        decisions = await asyncio.gather(*(limiters[i % 4].take("t", limits, 3) for i in range(60)))
        assert all(limiter.using_redis for limiter in limiters)
        assert sum(d.granted for d in decisions) == 100
        assert sum(1 for d in decisions if d.refused) == 60 - 34
        assert (await limiters[0].peek("t", limits)).remaining == 0
    finally:
        for c in clients:
            await c.aclose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "redis", durable=False, port=free_port())
    server.start()
    yield server
    server.stop()


async def test_redis_down_falls_back_and_recovers(
    own_redis: EmbeddedRedis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = Redis.from_url(own_redis.url, socket_timeout=2, socket_connect_timeout=2)
    limiter = IngressLimiter(client, NO_GLOBAL, clock=Clock(), retry_seconds=0)
    limits = TenantLimits(per_minute=2)
    restarted = EmbeddedRedis(tmp_path / "redis", durable=False, port=own_redis.port)
    try:
        assert (await limiter.take("t", limits, 1)).remaining == 1
        assert limiter.using_redis
        own_redis.stop()
        with caplog.at_level(logging.WARNING, logger="wanotify.common.ratelimit.ingress"):
            outage = [await limiter.take("t", limits, 1) for _ in range(3)]
        assert not limiter.using_redis
        # The fallback knows nothing of Redis's count, but it enforces the same limit.
        assert [d.granted for d in outage] == [1, 1, 0]
        assert outage[2].refused and outage[2].retry_after == 30
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
        restarted.start()
        back = await limiter.take("t", limits, 1)
        assert limiter.using_redis
        assert (back.granted, back.remaining) == (1, 1)  # a fresh (non-durable) Redis counts from 0
        assert await client.exists(*[k async for k in client.scan_iter("*ingress*")]) == 1
    finally:
        await client.aclose()
        restarted.stop()
