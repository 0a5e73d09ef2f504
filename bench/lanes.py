"""The priority-lane figures of ``make bench``: queue time p50/p95 per lane for a mixed backlog.

Worker processes start idle; then a mixed backlog (600 low, then 150 normal, then 100 high by
default, ``BENCH_LANES_*``; sized so the phase stays around a minute on a small machine) is published
through the real publisher into the PostgreSQL lanes, and drained against the sandbox. Queue time is
``sent_at - created_at`` per notification, read from the notifications table. The figures are
printed, never asserted.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import msgspec

from bench.dispatch import add_sender, hello_notification, publish, start_service, wait_sandbox
from wanotify.cli.embedded import free_port
from wanotify.common.config import load_settings
from wanotify.common.db.engine import create_engine

BACKLOG = {
    "high": int(os.environ.get("BENCH_LANES_HIGH", "100")),
    "normal": int(os.environ.get("BENCH_LANES_NORMAL", "150")),
    "low": int(os.environ.get("BENCH_LANES_LOW", "600")),
}
WORKERS = 2
THROUGHPUT = 1000  # the sender's tier: high enough that the lanes, not Meta's cap, decide the order
APP_SECRET = "bench-secret"
PNID, WABA, TOKEN = "880000", "waba-lanes", "EAAbenchlanes"


class LaneFigure(msgspec.Struct):
    priority: str
    notifications: int
    p50_seconds: float
    p95_seconds: float
    max_seconds: float


def _wait_started(logs: list[Path]) -> None:
    """Workers take a while to boot; queue time must not include that."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all(log.exists() and b"worker started" in log.read_bytes() for log in logs):
            return
        time.sleep(0.2)
    raise SystemExit("the workers did not start")


def _recipient(priority: str, i: int) -> str:
    return f"+1{'hnl'.index(priority[0]) + 7}{i:09d}"


async def _seed(env: dict[str, str], sandbox_url: str) -> str:
    """One tenant and sender (at Meta and here) and the whole mixed backlog; returns the sender id."""
    tenant, sender = await add_sender(
        env, sandbox_url, tenant_name="bench-lanes", pnid=PNID, waba=WABA, token=TOKEN, tier=THROUGHPUT
    )
    # Low first, as the backlog a burst of high lands behind.
    for priority in ("low", "normal", "high"):
        items = [
            hello_notification(
                tenant, sender, _recipient(priority, i), priority=priority, event_type="bench.lanes"
            )
            for i in range(BACKLOG[priority])
        ]
        await publish(env, items)
    return sender


async def _queue_times(env: dict[str, str], sender: str) -> dict[str, list[float]]:
    """Wait until the backlog is sent (or a deadline passes); returns priority → sorted queue times."""
    from sqlalchemy import select

    from wanotify.common.db.schema import notifications

    n = notifications
    engine = create_engine(load_settings(env).database_url, pool_size=1)
    total = sum(BACKLOG.values())
    deadline = time.monotonic() + 150
    try:
        while True:
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        select(n.c.priority, n.c.created_at, n.c.sent_at).where(
                            n.c.sender_id == sender, n.c.sent_at.is_not(None)
                        )
                    )
                ).all()
            if len(rows) >= total or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    times: dict[str, list[float]] = {p: [] for p in BACKLOG}
    for r in rows:
        times[r.priority].append((r.sent_at - r.created_at).total_seconds())
    return {p: sorted(t) for p, t in times.items()}


def _percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def measure_lanes(env: dict[str, str], root: Path) -> list[LaneFigure]:
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = {
        **env,
        "QUEUE_BACKEND": "postgres",
        "META_APP_SECRET": APP_SECRET,
        "META_GRAPH_BASE_URL": sandbox_url,
        "SANDBOX_PORT": str(sandbox_port),
        "SANDBOX_DROP_STATUSES": "true",
        "WORKER_PORT": "0",
        "QUEUE_WAIT_SECONDS": "0.5",
        "LOG_LEVEL": "INFO",  # _wait_started looks for the worker's "worker started" line
        "ANTI_SPAM_PER_HOUR": "0",
        "ANTI_SPAM_PER_DAY": "0",
    }
    processes = [start_service(["sandbox"], env, root / "lanes-sandbox.log")]
    logs = [root / f"lanes-worker-{i}.log" for i in range(WORKERS)]
    try:
        wait_sandbox(sandbox_url)
        processes += [start_service(["worker"], env, log) for log in logs]
        _wait_started(logs)
        sender = asyncio.run(_seed(env, sandbox_url))
        times = asyncio.run(_queue_times(env, sender))
    finally:
        for p in processes:
            p.terminate()
            p.wait(20)
    return [
        LaneFigure(
            priority=p,
            notifications=len(times[p]),
            p50_seconds=_percentile(times[p], 0.5),
            p95_seconds=_percentile(times[p], 0.95),
            max_seconds=times[p][-1] if times[p] else 0.0,
        )
        for p in BACKLOG
    ]


def describe_lanes(figures: list[LaneFigure]) -> str:
    backlog = ", ".join(f"{count} {p}" for p, count in BACKLOG.items())
    lines = [
        f"priority lanes: a mixed backlog ({backlog}) published into the PostgreSQL lanes, "
        f"{WORKERS} worker processes, weights high=6,normal=3,low=1; queue time = sent_at - created_at",
        f"{'lane':>8} {'sent':>6} {'p50 s':>8} {'p95 s':>8} {'max s':>8}",
    ]
    for f in figures:
        lines.append(
            f"{f.priority:>8} {f.notifications:>6} "
            f"{f.p50_seconds:>8.2f} {f.p95_seconds:>8.2f} {f.max_seconds:>8.2f}"
        )
    return "\n".join(lines)
