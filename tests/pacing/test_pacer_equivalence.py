"""The Lua script and the in-process pacer are one algorithm: the same requests, the same decisions."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from tests.pacing.support import FakeClock, Requests
from wanotify.common.config import PacingSettings
from wanotify.common.pacing import Pacer, PaceRequest

# A small pair burst so that every limit binds within a short sequence.
PACING = PacingSettings(pair_burst=3, pair_interval_seconds=6.0, max_sleep_seconds=1.0, fallback_share=1.0)

step = st.tuples(
    st.sampled_from(
        [0.0, 0.0, 0.01, 0.1, 0.3, 0.45, 0.8, 1.0, 2.5, 6.0, 60.0, 1800.0, 3599.0, 3600.0, 86400.0]
    ),
    st.integers(min_value=0, max_value=3),  # recipient
    st.one_of(st.none(), st.integers(min_value=0, max_value=30)),  # None = a new id, else re-acquire one
    st.sampled_from([0.0, 4.0, 20.0, 80.0]),  # throughput
    st.sampled_from([0, 1, 2, 3]),  # anti-spam per hour
    st.sampled_from([0, 2, 4]),  # anti-spam per day
    st.sampled_from([None, 1, 2]),  # unique users
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=30))
async def test_lua_and_local_pacers_decide_alike(redis_server_url: str, steps: list[tuple]) -> None:  # type: ignore[type-arg]
    client = Redis.from_url(redis_server_url)
    try:
        clock = FakeClock()
        shared = Pacer(client, PACING, clock=clock)
        local = Pacer(None, PACING, clock=clock)
        reqs = Requests()
        issued: list[PaceRequest] = []
        for advance, recipient, reuse, mps, per_hour, per_day, unique in steps:
            clock.now += advance
            if reuse is not None and issued:
                request = issued[reuse % len(issued)]
            else:
                request = reqs.make(
                    f"+1444000{recipient}", mps=mps, per_hour=per_hour, per_day=per_day, unique_users=unique
                )
                issued.append(request)
            a = await shared.acquire(request)
            b = await local.acquire(request)
            assert not a.local and b.local
            assert abs(a.wait - b.wait) < 1e-3, (a, b)
            assert a.binding == b.binding, (a, b)
    finally:
        await client.aclose()
