"""The pacing rules against real Redis (and the same scenarios on the local pacer at share 1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from tests.pacing.support import T0, FakeClock, Requests
from wanotify.common.config import PacingSettings
from wanotify.common.pacing import Pacer
from wanotify.common.pacing.redis_pacer import pace_keys

SETTINGS = PacingSettings(fallback_share=1.0)
MakePacer = Callable[[FakeClock], Pacer]


@pytest.fixture
async def redis(redis_server_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server_url)
    yield client
    await client.aclose()


@pytest.fixture(params=["redis", "local"])
def make_pacer(request: pytest.FixtureRequest, redis: Redis) -> MakePacer:
    shared = request.param == "redis"

    def make(clock: FakeClock) -> Pacer:
        return Pacer(redis if shared else None, SETTINGS, clock=clock)

    return make


async def test_anti_spam_hour_gives_the_exact_next_slot(make_pacer: MakePacer) -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = make_pacer(clock)
    assert (await pacer.acquire(reqs.make("+15550001", per_hour=2))).wait == 0
    clock.now = T0 + 10
    assert (await pacer.acquire(reqs.make("+15550001", per_hour=2))).wait == 0
    clock.now = T0 + 20
    decision = await pacer.acquire(reqs.make("+15550001", per_hour=2))
    assert decision.wait == pytest.approx((T0 + 3600) - (T0 + 20), abs=1e-6)
    assert decision.binding == "anti_spam_hour"
    # another recipient of the same tenant is not affected
    assert (await pacer.acquire(reqs.make("+15550002", per_hour=2))).binding == "none"


async def test_anti_spam_day_binds_when_the_hour_is_free(make_pacer: MakePacer) -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = make_pacer(clock)
    for offset in (0, 4000, 8000):
        clock.now = T0 + offset
        assert (await pacer.acquire(reqs.make("+15550003", per_hour=10, per_day=3))).wait == 0
    clock.now = T0 + 9000
    decision = await pacer.acquire(reqs.make("+15550003", per_hour=10, per_day=3))
    assert decision.wait == pytest.approx(86400 - 9000, abs=1e-6)
    assert decision.binding == "anti_spam_day"


async def test_pair_burst_then_one_per_interval(make_pacer: MakePacer) -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = make_pacer(clock)
    decisions = [await pacer.acquire(reqs.make("+15550004")) for _ in range(SETTINGS.pair_burst + 3)]
    assert [d.wait for d in decisions[: SETTINGS.pair_burst]] == [0.0] * SETTINGS.pair_burst
    later = decisions[SETTINGS.pair_burst :]
    assert [d.wait for d in later] == pytest.approx([6.0, 12.0, 18.0], abs=1e-6)
    assert {d.binding for d in later} == {"pair"}


@pytest.mark.parametrize("mps", [20.0, 80.0, 1000.0])
async def test_throughput_tiers_fill_the_grid_in_order(make_pacer: MakePacer, mps: float) -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = make_pacer(clock)
    count = int(mps * 1.5)
    decisions = [await pacer.acquire(reqs.make(f"+1666{k:06d}", mps=mps)) for k in range(count)]
    assert [d.wait for d in decisions] == pytest.approx([k / mps for k in range(count)], abs=1e-6)
    assert decisions[0].binding == "none"
    assert {d.binding for d in decisions[1:]} == {"throughput"}
    per_bucket = max(1, int(mps * 0.25))
    buckets: dict[int, int] = {}
    for d in decisions:
        bucket = int((d.wait + 1e-9) // 0.25)
        buckets[bucket] = buckets.get(bucket, 0) + 1
    assert max(buckets.values()) == per_bucket


async def test_a_long_backlog_keeps_exact_slots(make_pacer: MakePacer) -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = make_pacer(clock)
    waits = [(await pacer.acquire(reqs.make(f"+1333{k:06d}", mps=4))).wait for k in range(300)]
    assert waits == pytest.approx([k / 4 for k in range(300)], abs=1e-6)
    clock.now = T0 + 30.1  # inside the backlog: the next slot follows the last reserved one
    assert (await pacer.acquire(reqs.make("+13339999", mps=4))).wait == pytest.approx(75 - 30.1, abs=1e-6)


async def test_far_future_reservation_does_not_delay_other_recipients(make_pacer: MakePacer) -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = make_pacer(clock)
    assert (await pacer.acquire(reqs.make("+15550005", mps=80, per_hour=1))).wait == 0
    held = await pacer.acquire(reqs.make("+15550005", mps=80, per_hour=1))
    assert held.wait == pytest.approx(3600, abs=1e-6)
    assert held.binding == "anti_spam_hour"
    others = [await pacer.acquire(reqs.make(f"+1777{k:06d}", mps=80, per_hour=1)) for k in range(20)]
    assert [d.wait for d in others] == pytest.approx([(k + 1) / 80 for k in range(20)], abs=1e-6)


async def test_reacquiring_a_held_slot_returns_it_without_taking_again(make_pacer: MakePacer) -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = make_pacer(clock)
    assert (await pacer.acquire(reqs.make("+15550006", mps=20, per_hour=1))).wait == 0
    held = reqs.make("+15550006", mps=20, per_hour=1)
    first = await pacer.acquire(held)
    assert first.wait == pytest.approx(3600, abs=1e-6)
    assert first.binding == "anti_spam_hour"
    for advance in (100.0, 1000.0, 2000.0):
        clock.now = T0 + advance
        again = await pacer.acquire(held)
        assert again.wait == pytest.approx(3600 - advance, abs=1e-6)
        assert again.binding == "anti_spam_hour"
    # the held message took one place in its grid bucket (5 per 0.25 s at 20/s), once
    clock.now = T0 + 3600
    others = [await pacer.acquire(reqs.make(f"+1888{k:06d}", mps=20, per_hour=1)) for k in range(5)]
    assert [d.wait for d in others] == pytest.approx([0.05, 0.10, 0.15, 0.20, 0.25], abs=1e-6)
    # back a little late (within the grace): the same slot, now
    clock.now = T0 + 3600.3
    assert (await pacer.acquire(held)).wait == 0
    # and the anti-spam window counted it once: the next message waits one hour from its slot
    nxt = await pacer.acquire(reqs.make("+15550006", mps=20, per_hour=1))
    assert nxt.wait == pytest.approx(T0 + 7200 - clock.now, abs=1e-6)


async def test_late_return_gets_a_fresh_slot_without_double_counting(make_pacer: MakePacer) -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = make_pacer(clock)
    assert (await pacer.acquire(reqs.make("+15550007", per_hour=1))).wait == 0
    held = reqs.make("+15550007", per_hour=1)
    assert (await pacer.acquire(held)).wait == pytest.approx(3600, abs=1e-6)
    clock.now = T0 + 3605  # five seconds late: the hold has lapsed
    fresh = await pacer.acquire(held)
    assert (fresh.wait, fresh.binding) == (0, "none")
    nxt = await pacer.acquire(reqs.make("+15550007", per_hour=1))
    assert nxt.wait == pytest.approx(3600, abs=1e-6)


async def test_a_late_return_gives_back_its_unused_pair_step(make_pacer: MakePacer) -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = make_pacer(clock)
    for _ in range(SETTINGS.pair_burst):
        assert (await pacer.acquire(reqs.make("+15550008"))).wait == 0
    held = reqs.make("+15550008")
    assert (await pacer.acquire(held)).wait == pytest.approx(6, abs=1e-6)
    clock.now = T0 + 6.8  # later than the grace (the scheduler's tick): a fresh slot, no leapfrogging
    assert (await pacer.acquire(held)).wait == 0
    nxt = await pacer.acquire(reqs.make("+15550008"))
    assert nxt.wait == pytest.approx(12 - 6.8, abs=1e-6)
    assert nxt.binding == "pair"


async def test_unique_users_tier(make_pacer: MakePacer) -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = make_pacer(clock)
    for k in range(3):
        clock.now = T0 + k
        assert (await pacer.acquire(reqs.make(f"+1999000{k}", unique_users=3))).wait == 0
    clock.now = T0 + 3
    fourth = await pacer.acquire(reqs.make("+19990003", unique_users=3))
    assert fourth.wait == pytest.approx(86400 - 3, abs=1e-6)
    assert fourth.binding == "unique_users"
    clock.now = T0 + 4
    repeat = await pacer.acquire(reqs.make("+19990001", unique_users=3))
    assert (repeat.wait, repeat.binding) == (0, "none")
    # a message that does not count (inside the customer-service window) is not held either
    assert (await pacer.acquire(reqs.make("+19990009", unique_users=None))).wait == 0


async def test_concurrent_pacers_never_overfill_a_bucket(redis_server_url: str) -> None:
    clients = [Redis.from_url(redis_server_url) for _ in range(4)]
    try:
        pacers = [Pacer(client, SETTINGS) for client in clients]
        reqs = Requests()
        decisions = await asyncio.gather(
            *(pacers[k % 4].acquire(reqs.make(f"+1555{k:06d}", mps=80)) for k in range(240))
        )
        assert not any(d.local for d in decisions)
        grid = await clients[0].hgetall(pace_keys(reqs.make("+1"))[2])
        counts = [int(v) for k, v in grid.items() if k.isdigit()]
        assert sum(counts) == 240
        assert max(counts) <= 20
        assert len(counts) >= 12
    finally:
        for client in clients:
            await client.aclose()
