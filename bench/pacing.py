"""The pacing figures of ``make bench``: achieved messages per second per sender against its tier.

Four worker processes drain a 30-second backlog for one sender at Meta's standard tier (80/s), then
one for a sender at the coexistence tier (20/s), against the sandbox, which enforces both tiers and
the pair rate for real. The figures are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx
import msgspec

from bench.dispatch import add_sender, hello_notification, publish, start_service, wait_sandbox
from wanotify.cli.embedded import free_port
from wanotify.common.config import load_settings
from wanotify.common.db.engine import create_engine

BACKLOG_SECONDS = float(os.environ.get("BENCH_PACING_SECONDS", "30"))
WORKERS = 4
TIERS = (80, 20)
APP_SECRET = "bench-secret"


class SenderFigure(msgspec.Struct):
    tier: int
    notifications: int
    achieved_per_second: float
    refused_130429: int
    refused_131056: int
    seconds: float


async def _seed(env: dict[str, str], sandbox_url: str, tier: int) -> str:
    """A sender at ``tier`` with a backlog of ``tier`` x 30 s notifications to distinct recipients."""
    tenant, sender = await add_sender(
        env,
        sandbox_url,
        tenant_name=f"bench-pacing-{tier}",
        pnid=f"77{tier}000",
        waba=f"waba{tier}",
        token=f"EAAbench{tier}",
        tier=tier,
    )
    count = int(tier * BACKLOG_SECONDS)
    await publish(
        env,
        [
            hello_notification(tenant, sender, f"+1{tier:03d}{i:07d}", event_type="bench.pacing")
            for i in range(count)
        ],
    )
    return sender


async def _drained(env: dict[str, str], sender: str, total: int) -> list[float]:
    """Wait until the sender's backlog is sent; returns the sorted sent_at epochs."""
    from sqlalchemy import select

    from wanotify.common.db.schema import notifications

    engine = create_engine(load_settings(env).database_url, pool_size=1)
    deadline = time.monotonic() + BACKLOG_SECONDS * 4 + 60
    try:
        while True:
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        select(notifications.c.sent_at).where(
                            notifications.c.sender_id == sender, notifications.c.sent_at.is_not(None)
                        )
                    )
                ).all()
            if len(rows) >= total or time.monotonic() > deadline:
                return sorted(r.sent_at.timestamp() for r in rows)
            await asyncio.sleep(1)
    finally:
        await engine.dispose()


async def _refusals(sandbox_url: str, pnid: str) -> tuple[int, int]:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=60) as http:
        body = (await http.get("/_sandbox/messages", params={"phone_number_id": pnid})).json()
    records = body["messages"] if isinstance(body, dict) else body
    refused = [r.get("error_code") for r in records if r.get("outcome") == "refused"]
    return refused.count(130429), refused.count(131056)


def measure_pacing(env: dict[str, str], root: Path) -> list[SenderFigure]:
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = {
        **env,
        "META_APP_SECRET": APP_SECRET,
        "META_GRAPH_BASE_URL": sandbox_url,
        "SANDBOX_PORT": str(sandbox_port),
        "SANDBOX_DROP_STATUSES": "true",
        "WORKER_PORT": "0",
        "QUEUE_WAIT_SECONDS": "0.5",
    }
    processes = [start_service(["sandbox"], env, root / "pacing-sandbox.log")]
    try:
        wait_sandbox(sandbox_url)
        processes += [start_service(["worker"], env, root / f"pacing-worker-{i}.log") for i in range(WORKERS)]
        figures = []
        # One sender at a time, so each figure is that tier's pacing, not the machine's CPU split.
        for tier in TIERS:
            sender = asyncio.run(_seed(env, sandbox_url, tier))
            sent = asyncio.run(_drained(env, sender, int(tier * BACKLOG_SECONDS)))
            span = sent[-1] - sent[0] if len(sent) > 1 else 0.0
            c429, c1056 = asyncio.run(_refusals(sandbox_url, f"77{tier}000"))
            figures.append(
                SenderFigure(
                    tier=tier,
                    notifications=len(sent),
                    achieved_per_second=(len(sent) - 1) / span if span else 0.0,
                    refused_130429=c429,
                    refused_131056=c1056,
                    seconds=span,
                )
            )
        return figures
    finally:
        for p in processes:
            p.terminate()
            p.wait(20)


def describe_pacing(figures: list[SenderFigure]) -> str:
    lines = [
        f"dispatch pacing: {WORKERS} worker processes, a {BACKLOG_SECONDS:.0f}-second backlog per sender "
        "(one sender at a time), "
        "sandbox enforcing each tier and the pair rate",
        f"{'sender tier':>12} {'sent':>6} {'achieved/s':>11} {'of tier':>8} {'130429':>7} {'131056':>7}",
    ]
    for f in figures:
        lines.append(
            f"{f.tier:>10}/s {f.notifications:>6} {f.achieved_per_second:>11.1f} "
            f"{f.achieved_per_second / f.tier:>8.0%} {f.refused_130429:>7} {f.refused_131056:>7}"
        )
    return "\n".join(lines)
