"""A small closed-loop load generator: N concurrent clients for a fixed number of requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import msgspec


class Result(msgspec.Struct):
    name: str
    requests: int
    notifications: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.notifications / self.seconds if self.seconds else 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_load(
    name: str,
    url: str,
    make_body: Callable[[int], bytes],
    *,
    headers: dict[str, str],
    requests: int,
    concurrency: int,
    per_request: int = 1,
    expect: int = 201,
) -> Result:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as client:
        # Warm up connections and caches; not counted.
        for i in range(min(concurrency, 20)):
            async with client.post(url, data=make_body(-1 - i)) as response:
                await response.read()

        async def one_client() -> None:
            nonlocal errors
            for i in counter:
                body = make_body(i)
                started = time.perf_counter()
                async with client.post(url, data=body) as response:
                    await response.read()
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status != expect:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(
        name=name,
        requests=requests,
        notifications=(requests - errors) * per_request,
        errors=errors,
        seconds=elapsed,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
    )


def describe(results: list[Result]) -> str:
    lines = [f"{'scenario':<34}{'requests':>9}{'notif/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"]
    for r in results:
        lines.append(
            f"{r.name:<34}{r.requests:>9}{r.per_second:>10.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}{r.errors:>8}"
        )
    return "\n".join(lines)
