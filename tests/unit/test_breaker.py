"""The per-sender circuit breaker: closed → open → half-open (one probe) → closed or open again,
in Redis (shared by processes) and in-process when Redis is down."""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from wanotify.common.breaker import CircuitBreaker, LocalBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_local_breaker_opens_probes_and_closes() -> None:
    clock = Clock()
    b = LocalBreaker(3, 30.0, clock)
    assert b.before("s") is None
    assert not b.failure("s")
    assert not b.failure("s")
    assert b.success("s") is False  # a success resets the count: failures must be consecutive
    for _ in range(2):
        b.failure("s")
    assert b.failure("s") is True  # the third in a row opens it
    assert b.before("s") == 30.0
    clock.now += 10
    assert b.before("s") == 20.0
    clock.now += 20
    assert b.before("s") is None  # half-open: this caller is the probe
    assert b.before("s") == 30.0  # everyone else waits for the probe
    assert b.failure("s") is True  # a failed probe re-opens at once
    clock.now += 30
    assert b.before("s") is None
    assert b.success("s") is True  # a good probe closes it
    assert b.before("s") is None
    assert b.before("other") is None


async def _run_shared(redis: Redis | None) -> None:
    clock = Clock()
    changes: list[str] = []
    a = CircuitBreaker(redis, threshold=2, cooldown=5.0, clock=clock, on_change=changes.append)
    b = CircuitBreaker(redis, threshold=2, cooldown=5.0, clock=clock)
    sender = f"snd_{secrets.token_hex(6)}"
    assert await a.before(sender) is None
    await a.failure(sender)
    assert await b.before(sender) is None
    await a.failure(sender)
    assert changes == ["open"]
    wait = await a.before(sender)
    assert wait is not None and 4.9 <= wait <= 5.0
    clock.now += 5
    assert await a.before(sender) is None  # the probe
    probe_wait = await a.before(sender)
    assert probe_wait is not None and probe_wait > 0
    await a.success(sender)
    assert changes == ["open", "closed"]
    assert await a.before(sender) is None


async def test_redis_breaker_is_shared_between_instances(redis_server_url: str) -> None:
    redis = Redis.from_url(redis_server_url)
    try:
        clock = Clock()
        one = CircuitBreaker(redis, threshold=2, cooldown=5.0, clock=clock)
        two = CircuitBreaker(redis, threshold=2, cooldown=5.0, clock=clock)
        sender = f"snd_{secrets.token_hex(6)}"
        await one.failure(sender)
        await two.failure(sender)  # two processes' failures add up
        assert await one.before(sender) is not None
        assert await two.before(sender) is not None
        clock.now += 5
        assert await two.before(sender) is None  # exactly one probe among all processes
        assert await one.before(sender) is not None
        await two.failure(sender)  # failed probe
        assert await one.before(sender) is not None
        clock.now += 5
        assert await one.before(sender) is None
        await one.success(sender)
        assert await two.before(sender) is None
        await _run_shared(redis)
    finally:
        await redis.aclose()


async def test_breaker_falls_back_to_process_state_when_redis_is_down() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    try:
        await _run_shared(dead)
    finally:
        await dead.aclose()
