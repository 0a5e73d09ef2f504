"""Redis stops: the pacer decides locally with a conservative share; Redis returns: shared again."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.pacing.support import FakeClock, Requests
from tests.support.processes import eventually
from wanotify.cli.embedded import EmbeddedRedis
from wanotify.common.config import PacingSettings
from wanotify.common.pacing import Pacer

LOGGER = "wanotify.common.pacing.pacer"


async def test_fallback_while_redis_is_down_and_recovery(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    server = EmbeddedRedis(tmp_path / "redis", durable=False)
    server.start()
    client = Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=2)
    clock, reqs = FakeClock(), Requests()
    pacer = Pacer(client, PacingSettings(fallback_share=0.25), clock=clock)
    try:
        assert not (await pacer.acquire(reqs.make("+15551000", mps=80))).local
        server.stop()

        # pair: burst 44 x 0.25 = 11 at once, then one per 6 / 0.25 = 24 s
        pair = [await pacer.acquire(reqs.make("+15551001")) for _ in range(12)]
        assert all(d.local for d in pair)
        assert [d.wait for d in pair] == [0.0] * 11 + [pytest.approx(24.0, abs=1e-6)]
        assert pair[-1].binding == "pair"
        # anti-spam: 10/hour x 0.25 = 2
        spam = [await pacer.acquire(reqs.make("+15551002", per_hour=10)) for _ in range(3)]
        assert [d.wait for d in spam] == [0.0, 0.0, pytest.approx(3600.0, abs=1e-6)]
        assert spam[-1].binding == "anti_spam_hour"
        # throughput: 80/s x 0.25 = 20/s
        burst = [await pacer.acquire(reqs.make(f"+1555200{k}", mps=80)) for k in range(6)]
        assert [d.wait for d in burst] == pytest.approx([k / 20 for k in range(6)], abs=1e-6)
        warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
        assert len(warnings) == 1

        restarted = EmbeddedRedis(tmp_path / "redis", durable=False, port=server.port)
        restarted.start()
        try:
            recovered = await eventually(
                lambda: pacer.acquire(reqs.make("+15551003", mps=80)),
                lambda d: not d.local,
                timeout=20,
                what="the pacer to use Redis again",
            )
            assert recovered.binding in ("none", "throughput")
            messages = [
                r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING
            ]
            assert len(messages) == 2
            assert "back" in messages[1]
        finally:
            restarted.stop()
    finally:
        await client.aclose()
        server.stop()
