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
import subprocess
import sys
import time
from pathlib import Path

import httpx
import msgspec

from wanotify.cli.embedded import free_port
from wanotify.common.config import load_settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.engine import create_engine
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.message import TemplateContent
from wanotify.common.domain.notification import NewNotification
from wanotify.common.domain.status import Status
from wanotify.common.domain.template import MetaTemplate
from wanotify.common.ids import new_id
from wanotify.common.publisher import Publisher
from wanotify.common.queue.factory import create_queue

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


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "wanotify.cli.main", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_sandbox/health").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the sandbox did not start")


def _wait_started(logs: list[Path]) -> None:
    """Workers take a while to boot; queue time must not include that."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all(log.exists() and b"worker started" in log.read_bytes() for log in logs):
            return
        time.sleep(0.2)
    raise SystemExit("the workers did not start")


def _notification(tenant: str, sender: str, priority: str, i: int) -> NewNotification:
    return NewNotification(
        id=new_id("notif"),
        tenant_id=tenant,
        sender_id=sender,
        event_type="bench.lanes",
        recipient_phone=f"+1{'hnl'.index(priority[0]) + 7}{i:09d}",
        priority=priority,
        status=Status.QUEUED,
        message=TemplateContent(name="hello", language="en"),
        metadata={},
        max_attempts=5,
        scheduled_for=None,
        next_attempt_at=None,
        batch_id=None,
        trace_id=None,
        traceparent=None,
    )


async def _seed(env: dict[str, str], sandbox_url: str) -> str:
    """One tenant and sender (at Meta and here) and the whole mixed backlog; returns the sender id."""
    settings = load_settings(env)
    engine = create_engine(settings.database_url, pool_size=2)
    publisher = Publisher(create_queue(settings.queue, engine), engine)
    hello = {"name": "hello", "language": "en", "status": "APPROVED", "category": "UTILITY"}
    components = [{"type": "BODY", "text": "Hello from wa-notify."}]
    async with httpx.AsyncClient(base_url=sandbox_url) as http:
        phone = {"phone_number_id": PNID, "waba_id": WABA, "access_token": TOKEN}
        r = await http.post(
            "/_sandbox/phone-numbers",
            json={**phone, "display_phone_number": "+15550100008", "throughput_mps": THROUGHPUT},
        )
        r.raise_for_status()
        r = await http.post("/_sandbox/templates", json={"waba_id": WABA, **hello, "components": components})
        r.raise_for_status()
    async with UnitOfWork(engine) as uow:
        tenant = await uow.tenants.create("bench-lanes")
        sender = await uow.senders.add(
            tenant,
            phone_number_id=PNID,
            waba_id=WABA,
            display_phone_number="+15550100008",
            access_token_encrypted=SecretBox(settings.encryption_key).encrypt(TOKEN, context=PNID.encode()),
            throughput_mps=THROUGHPUT,
            is_default=False,
        )
        await uow.templates.upsert(tenant, WABA, [MetaTemplate(**hello, components=components)])
        await uow.commit()
    # Low first, as the backlog a burst of high lands behind.
    for priority in ("low", "normal", "high"):
        items = [_notification(tenant, sender, priority, i) for i in range(BACKLOG[priority])]
        for start in range(0, len(items), 500):
            async with UnitOfWork(engine) as uow:
                added = await uow.notifications.add_many(items[start : start + 500])
                await publisher.publish_in(uow.connection, added)
                await uow.commit()
    await engine.dispose()
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
    processes = [_start(["sandbox"], env, root / "lanes-sandbox.log")]
    logs = [root / f"lanes-worker-{i}.log" for i in range(WORKERS)]
    try:
        _wait(sandbox_url)
        processes += [_start(["worker"], env, log) for log in logs]
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
