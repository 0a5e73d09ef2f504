"""The in-process pacer (the fallback while Redis is down): its share of the limits and its state."""

from __future__ import annotations

import pytest

from tests.pacing.support import T0, FakeClock, Requests
from wanotify.common.config import PacingSettings
from wanotify.common.pacing import Pacer
from wanotify.common.pacing.model import Limits


def test_the_fallback_share_scales_every_limit() -> None:
    request = Requests().make("+15550100", mps=80, per_hour=10, per_day=50, unique_users=1000)
    limits = Limits.of(request, pair_burst=44, pair_interval=6.0, max_sleep=1.0, share=0.25)
    assert (limits.rate, limits.pair_burst, limits.pair_interval) == (20.0, 11, 24.0)
    assert (limits.per_hour, limits.per_day, limits.unique_users) == (2, 12, 250)
    tiny = Limits.of(
        Requests().make("+1", per_hour=1), pair_burst=1, pair_interval=6.0, max_sleep=1.0, share=0.25
    )
    assert (tiny.per_hour, tiny.per_day, tiny.unique_users, tiny.pair_burst) == (1, 0, 0, 1)


async def test_without_redis_every_decision_is_local() -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = Pacer(None, PacingSettings(), clock=clock)
    decision = await pacer.acquire(reqs.make("+15550101", mps=80))
    assert (decision.wait, decision.binding, decision.local) == (0.0, "none", True)


async def test_one_message_per_bucket_at_the_lowest_rates() -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = Pacer(None, PacingSettings(fallback_share=1.0), clock=clock)
    waits = [(await pacer.acquire(reqs.make(f"+1550{k}", mps=2))).wait for k in range(4)]
    assert waits == pytest.approx([0.0, 0.25, 0.5, 0.75], abs=1e-9)


async def test_unpaced_sender_is_never_delayed() -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = Pacer(None, PacingSettings(fallback_share=1.0), clock=clock)
    waits = {(await pacer.acquire(reqs.make(f"+1551{k}", mps=0))).wait for k in range(500)}
    assert waits == {0.0}


async def test_pruning_keeps_the_day_window_and_held_slots() -> None:
    clock, reqs = FakeClock(), Requests()
    pacer = Pacer(None, PacingSettings(fallback_share=1.0), clock=clock)
    assert (await pacer.acquire(reqs.make("+15550102", mps=80, per_day=2))).wait == 0
    clock.now = T0 + 7200  # past the prune interval: old grid buckets go, the day window stays
    assert (await pacer.acquire(reqs.make("+15550102", mps=80, per_day=2))).wait == 0
    held = reqs.make("+15550102", mps=80, per_day=2)
    clock.now = T0 + 10_000
    first = await pacer.acquire(held)
    assert first.wait == pytest.approx(86400 - 10_000, abs=1e-6)
    assert first.binding == "anti_spam_day"
    clock.now = T0 + 50_000
    again = await pacer.acquire(held)
    assert again.wait == pytest.approx(86400 - 50_000, abs=1e-6)
    assert again.binding == "anti_spam_day"
