"""Pacing holds across processes: four workers drain a backlog for one sender against the sandbox,
which enforces Meta's 80 messages/s and pair rate for real; and a Redis outage mid-run loses and
duplicates nothing.

Each run uses a database of its own, so no other worker in the test session can take its messages.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import APP_SECRET, ENCRYPTION_KEY
from tests.support.builders import notification
from tests.support.processes import ServiceProcess, eventually, wait_http
from tests.support.servers import server_dir
from tests.support.world import TenantFixture, make_tenant
from wanotify.cli.embedded import EmbeddedRedis, free_port
from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.schema import delivery_log, notifications
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.tenant import AntiSpamLimits, TenantPolicy
from wanotify.common.publisher import Publisher
from wanotify.common.queue.factory import create_queue

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("processes")]

FINAL_SENT = ("sent", "delivered", "read")
LIMIT_CODES = {130429, 131056}


class PacingStack:
    """The sandbox (Meta's limits at their defaults) and N worker processes on one database."""

    def __init__(self, database_url: str, redis_url: str, logs: Path) -> None:
        self.sandbox_port = free_port()
        self.env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "WA_ENCRYPTION_KEY": ENCRYPTION_KEY,
            "META_APP_SECRET": APP_SECRET,
            "META_GRAPH_BASE_URL": f"http://127.0.0.1:{self.sandbox_port}",
            "QUEUE_VISIBILITY_TIMEOUT_SECONDS": "10",
            "QUEUE_WAIT_SECONDS": "0.5",
            "WORKER_CONCURRENCY": "20",
            # The test session shares the database server: keep this stack's connections modest.
            "DATABASE_POOL_SIZE": "5",
            "WORKER_PORT": "0",
            "LOG_LEVEL": "WARNING",
            "SANDBOX_PORT": str(self.sandbox_port),
            # No receiver here: status webhooks would only be load.
            "SANDBOX_DROP_STATUSES": "true",
        }
        self.logs = logs
        self.processes: list[ServiceProcess] = []

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def start_sandbox(self) -> None:
        sandbox = ServiceProcess(["sandbox"], self.env, self.logs / "sandbox.log").start()
        self.processes.append(sandbox)
        wait_http(f"{self.sandbox_url}/_sandbox/health", processes=[sandbox])

    def start_workers(self, count: int, **env: str) -> None:
        for i in range(count):
            proc = ServiceProcess(["worker"], {**self.env, **env}, self.logs / f"worker-{i}.log")
            self.processes.append(proc.start())

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[list[PacingStack]]:
    made: list[PacingStack] = []
    yield made
    for stack in made:
        stack.stop()


async def _tenant(engine: AsyncEngine, sandbox_url: str) -> TenantFixture:
    tenant = await make_tenant(engine, SecretBox(ENCRYPTION_KEY), sandbox_url)
    async with UnitOfWork(engine) as uow:
        # Raised for this test: the point is Meta's limits, not the recipient anti-spam windows.
        await uow.tenants.set_policy(
            tenant.tenant_id, TenantPolicy(anti_spam=AntiSpamLimits(per_hour=1000, per_day=1000))
        )
        await uow.commit()
    return tenant


async def _enqueue(
    settings: Settings, database_url: str, engine: AsyncEngine, tenant: TenantFixture, recipients: list[str]
) -> list[str]:
    """Accepted notifications (rows + queue messages), as the API leaves them."""
    items = [notification(tenant, recipient_phone=phone, event_type="pacing.test") for phone in recipients]
    queue = create_queue(msgspec.structs.replace(settings, database_url=database_url).queue, engine)
    publisher = Publisher(queue, engine)
    for start in range(0, len(items), 500):
        async with UnitOfWork(engine) as uow:
            added = await uow.notifications.add_many(items[start : start + 500])
            await publisher.publish_in(uow.connection, added)
            await uow.commit()
    return [item.id for item in items]


async def _status_counts(engine: AsyncEngine, tenant_id: str) -> Counter[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(notifications.c.status, func.count())
            .where(notifications.c.tenant_id == tenant_id)
            .group_by(notifications.c.status)
        )
        return Counter({status: count for status, count in rows.all()})


async def _wait_all_sent(engine: AsyncEngine, tenant_id: str, total: int, timeout: float) -> Counter[str]:
    counts = await eventually(
        lambda: _status_counts(engine, tenant_id),
        lambda c: sum(c[s] for s in FINAL_SENT) + c["failed"] >= total,
        timeout=timeout,
        what=f"{total} notifications to be sent",
    )
    assert counts is not None
    return counts


async def _sandbox_attempts(sandbox_url: str, phone_number_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as http:
        r = await http.get("/_sandbox/messages", params={"phone_number_id": phone_number_id})
        r.raise_for_status()
        body = r.json()
        return list(body["messages"] if isinstance(body, dict) else body)


async def _sent_times(engine: AsyncEngine, tenant_id: str) -> list[datetime]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(notifications.c.sent_at)
            .where(notifications.c.tenant_id == tenant_id, notifications.c.sent_at.is_not(None))
            .order_by(notifications.c.sent_at)
        )
        return [r.sent_at for r in rows.all()]


async def _history(engine: AsyncEngine, ids: list[str]) -> str:
    """The delivery log of these notifications, for a failure message."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(delivery_log).where(delivery_log.c.notification_id.in_(ids)).order_by(delivery_log.c.id)
        )
        return "\n".join(
            f"{r.notification_id} {r.occurred_at:%H:%M:%S.%f} {r.event} {r.status} attempt={r.attempt} "
            f"{r.error_code or ''} {r.detail or ''}"
            for r in rows.all()
        )


def _pacing_deferrals(rows: list[Any]) -> Counter[str]:
    return Counter(
        (r.detail or {}).get("limit", "") for r in rows if (r.detail or {}).get("reason") == "paced"
    )


async def _deferral_log(engine: AsyncEngine, tenant_id: str) -> list[Any]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(delivery_log.c.detail)
            .join(notifications, notifications.c.id == delivery_log.c.notification_id)
            .where(notifications.c.tenant_id == tenant_id, delivery_log.c.status == "rate_limited")
        )
        return list(result.all())


async def test_four_workers_drain_2000_for_one_sender_within_metas_limits(
    settings: Settings,
    own_database: tuple[str, AsyncEngine],
    stack_factory: list[PacingStack],
    tmp_path: Path,
) -> None:
    database_url, engine = own_database
    stack = PacingStack(database_url, settings.redis_url, tmp_path / "logs")
    stack_factory.append(stack)
    stack.start_sandbox()
    tenant = await _tenant(engine, stack.sandbox_url)

    # Five recipients with 47 messages each, queued first so they outrun Meta's pair burst (45), then
    # 1,765 recipients once each.
    heavy = [f"+1556{i:07d}" for i in range(5)] * 47
    random.Random(4).shuffle(heavy)
    recipients = heavy + [f"+1557{i:07d}" for i in range(1765)]
    ids = await _enqueue(settings, database_url, engine, tenant, recipients)
    assert len(ids) == 2000

    stack.start_workers(4)
    counts = await _wait_all_sent(engine, tenant.tenant_id, len(ids), timeout=240)
    assert sum(counts[s] for s in FINAL_SENT) == len(ids), counts

    attempts = await _sandbox_attempts(stack.sandbox_url, tenant.phone_number_id)
    refused = Counter(a.get("error_code") for a in attempts if a.get("outcome") == "refused")
    assert not {code: n for code, n in refused.items() if code in LIMIT_CODES}, refused
    accepted = [a for a in attempts if a.get("outcome") != "refused"]
    sends = Counter(str((a.get("request") or {}).get("biz_opaque_callback_data")) for a in accepted)
    assert set(sends) == set(ids)
    twice = [nid for nid, count in sends.items() if count > 1]
    assert not twice, await _history(engine, twice[:3])

    # The pacer, not luck, kept it within the limits: the heavy recipients waited for the pair rate.
    deferrals = _pacing_deferrals(await _deferral_log(engine, tenant.tenant_id))
    assert deferrals["pair"] > 0, deferrals
    sent_times = await _sent_times(engine, tenant.tenant_id)
    rate = _rate(sent_times)
    print(f"\n4 workers: {len(ids)} sent at {rate:.1f} msg/s (tier 80); deferrals {dict(deferrals)}")


def _rate(times: list[datetime]) -> float:
    span = (times[-1] - times[0]).total_seconds()
    return (len(times) - 1) / span if span > 0 else float("nan")


async def test_a_redis_outage_mid_run_loses_and_duplicates_nothing(
    settings: Settings,
    own_database: tuple[str, AsyncEngine],
    stack_factory: list[PacingStack],
    tmp_path: Path,
) -> None:
    database_url, engine = own_database
    with server_dir("wanotify-test-redis-") as redis_dir:
        redis = EmbeddedRedis(redis_dir, durable=False)
        redis.start()
        stack = PacingStack(database_url, redis.url, tmp_path / "logs")
        stack_factory.append(stack)
        stack.start_sandbox()
        tenant = await _tenant(engine, stack.sandbox_url)
        recipients = [f"+1558{i:07d}" for i in range(400)]
        ids = await _enqueue(settings, database_url, engine, tenant, recipients)
        stack.start_workers(2)

        # Let some go out through Redis, then take Redis away for a while, then bring it back.
        await eventually(
            lambda: _status_counts(engine, tenant.tenant_id),
            lambda c: sum(c[s] for s in FINAL_SENT) >= 100,
            timeout=60,
            what="the first 100 sends",
        )
        redis.stop()
        during = await _status_counts(engine, tenant.tenant_id)
        time.sleep(3)
        redis.start()
        counts = await _wait_all_sent(engine, tenant.tenant_id, len(ids), timeout=180)
        attempts = await _sandbox_attempts(stack.sandbox_url, tenant.phone_number_id)
        stack.stop()
        redis.stop()

    assert sum(counts[s] for s in FINAL_SENT) == len(ids), counts
    assert sum(during[s] for s in FINAL_SENT) < len(ids), "Redis went away only after the run"
    sends = Counter(
        (a.get("request") or {}).get("biz_opaque_callback_data")
        for a in attempts
        if a.get("outcome") != "refused"
    )
    assert set(sends) == set(ids)
    assert max(sends.values()) == 1, "a notification was sent twice"
    refused = Counter(a.get("error_code") for a in attempts if a.get("outcome") == "refused")
    assert not {code: n for code, n in refused.items() if code in LIMIT_CODES}, refused
    logs = "".join((tmp_path / "logs" / f"worker-{i}.log").read_text() for i in range(2))
    assert "redis" in logs.lower(), "the workers never noticed Redis was gone"
