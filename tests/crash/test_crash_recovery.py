"""Nothing is lost when processes die: SIGKILL the worker, the scheduler and the receiver mid-run,
restart them, and check that every accepted notification reaches a final state.

Each test prints how many notifications Meta (the sandbox) accepted twice: the one duplicate window
at-least-once delivery cannot close (Meta accepted, the worker died before committing). It is
bounded by the number of sends in flight at each kill.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import APP_SECRET, ENCRYPTION_KEY
from tests.support.processes import ServiceProcess, eventually, wait_http
from tests.support.sinks import running_sink
from tests.support.world import TenantFixture, make_tenant
from wanotify.cli.embedded import free_port
from wanotify.common.config import SecretUrl, Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork

# Process-heavy: one xdist worker runs these one after another while the other runs the rest.
# Each test's waits add up to more than the suite's 300 s timeout on a loaded machine, so the
# timeout here is the sum of the waits: a slow run fails with what it waited for, not a stack.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("processes"), pytest.mark.timeout(900)]

TOTAL = 1200
WEBHOOK_NOTIFICATIONS = 40
LIFE = ("notification.queued", "notification.sent", "notification.delivered", "notification.read")
SCHEDULED = 400
WITH_STATUSES = 300
WORKER_CONCURRENCY = 20
FINAL = ("sent", "delivered", "read", "failed")
REPORT = Path(".wa-notify-crash-report.json")


class Stack:
    def __init__(self, settings: Settings, logs: Path, *, statuses: bool) -> None:
        self.ports = {name: free_port() for name in ("sandbox", "receiver")}
        self.env = {
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url,
            "WA_ENCRYPTION_KEY": ENCRYPTION_KEY,
            "META_APP_SECRET": APP_SECRET,
            "META_VERIFY_TOKEN": "crash",
            "META_GRAPH_BASE_URL": f"http://127.0.0.1:{self.ports['sandbox']}",
            "QUEUE_VISIBILITY_TIMEOUT_SECONDS": "5",
            "QUEUE_WAIT_SECONDS": "0.5",
            "WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            "WORKER_PORT": "0",
            "SCHEDULER_PORT": "0",
            "SCHEDULER_INTERVAL_SECONDS": "0.5",
            "OUTBOX_GRACE_SECONDS": "1",
            "RECEIVER_PORT": str(self.ports["receiver"]),
            "SANDBOX_PORT": str(self.ports["sandbox"]),
            "SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{self.ports['receiver']}/webhooks/whatsapp",
            "SANDBOX_SENT_DELAY_SECONDS": "0.05",
            "SANDBOX_DELIVERED_DELAY_SECONDS": "0.1",
            "SANDBOX_READ_DELAY_SECONDS": "0.15",
            "SANDBOX_WEBHOOK_MAX_ATTEMPTS": "12",
            "SANDBOX_WEBHOOK_RETRY_BASE_SECONDS": "0.5",
            "LOG_LEVEL": "WARNING",
            # Status webhooks only matter to the receiver test; elsewhere they are load.
            "SANDBOX_DROP_STATUSES": "false" if statuses else "true",
        }
        self.logs = logs
        self.processes: dict[str, ServiceProcess] = {}

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sandbox']}"

    def start(self, name: str) -> ServiceProcess:
        process = ServiceProcess([name], self.env, self.logs / f"{name}.log").start()
        self.processes[name] = process
        return process

    def kill(self, name: str) -> None:
        self.processes[name].signal(signal.SIGKILL)
        assert self.processes[name].process is not None
        self.processes[name].process.wait(10)  # type: ignore[union-attr]

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.stop()


@pytest.fixture(params=[True], ids=["with-statuses"])
def stack(settings: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    s = Stack(settings, tmp_path / "logs", statuses=request.param)
    s.start("sandbox")
    wait_http(f"{s.sandbox_url}/_sandbox/health", processes=list(s.processes.values()))
    s.start("receiver")
    wait_http(f"http://127.0.0.1:{s.ports['receiver']}/livez", processes=list(s.processes.values()))
    yield s
    s.stop_all()


async def _tenant(engine: AsyncEngine, stack: Stack) -> TenantFixture:
    tenant = await make_tenant(engine, SecretBox(ENCRYPTION_KEY), stack.sandbox_url)
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as http:
        # Plenty of throughput: this test is about crashes, not pacing.
        await http.post(
            "/_sandbox/phone-numbers",
            json={
                "phone_number_id": tenant.phone_number_id,
                "waba_id": tenant.waba_id,
                "access_token": tenant.access_token,
                "display_phone_number": "+15550100002",
                "throughput_mps": 1000,
            },
        )
    async with UnitOfWork(engine) as uow:
        await uow.senders.set_tiers(tenant.sender_id, throughput_mps=1000, messaging_limit=None)
        await uow.commit()
    return tenant


def _request(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "event_type": "crash.test",
        "recipient": {"phone_number": f"+1557{i:07d}"},
        "template": {"name": "hello", "language": "en"},
        **extra,
    }


async def _accept(api: AsyncTestClient[Any], tenant: TenantFixture, count: int, **extra: Any) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 100):
        body = {"notifications": [_request(i, **extra) for i in range(start, min(count, start + 100))]}
        r = await api.post("/v1/notifications/bulk", json=body, headers=tenant.auth)
        assert r.status_code == 202, r.text
        assert r.json()["failed"] == 0, r.text
        ids.extend(item["id"] for item in r.json()["notifications"])
    return ids


async def _counts(engine: AsyncEngine, tenant: TenantFixture) -> Counter[str]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT status, count(*) FROM notifications WHERE tenant_id = :t GROUP BY status"),
                {"t": tenant.tenant_id},
            )
        ).all()
    return Counter({r[0]: r[1] for r in rows})


def _final(counts: Counter[str]) -> int:
    return sum(counts[s] for s in FINAL)


def _duplicates(stack: Stack, tenant: TenantFixture) -> int:
    messages = httpx.get(
        f"{stack.sandbox_url}/_sandbox/messages",
        params={"phone_number_id": tenant.phone_number_id},
        timeout=30,
    ).json()
    accepted = Counter(m["request"].get("biz_opaque_callback_data") for m in messages if m["id"])
    return sum(1 for n in accepted.values() if n > 1)


def _report(name: str, **figures: Any) -> None:
    line = {"test": name, **figures}
    print(f"\ncrash report: {json.dumps(line)}")
    existing = json.loads(REPORT.read_text()) if REPORT.exists() else []
    REPORT.write_text(json.dumps([*existing, line], indent=2))


@pytest.mark.parametrize("stack", [False], indirect=True, ids=["no-statuses"])
async def test_worker_killed_mid_batch_loses_nothing(
    engine: AsyncEngine, api: AsyncTestClient[Any], stack: Stack
) -> None:
    tenant = await _tenant(engine, stack)
    await _accept(api, tenant, TOTAL)
    stack.start("scheduler")
    kills = 0
    worker = stack.start("worker")
    for target in (150, 400, 650, 900):
        await eventually(
            lambda: _counts(engine, tenant),
            lambda c, t=target: _final(c) >= t,
            timeout=120,
            what=f"{target} notifications to finish",
        )
        stack.kill("worker")
        kills += 1
        worker = stack.start("worker")
    counts = await eventually(
        lambda: _counts(engine, tenant),
        lambda c: _final(c) == TOTAL,
        timeout=240,
        what="every notification to reach a final state",
    )
    worker.stop()
    duplicates = _duplicates(stack, tenant)
    _report("worker", total=TOTAL, kills=kills, statuses=dict(counts), sent_twice=duplicates)
    assert counts["failed"] == 0, counts
    assert duplicates <= kills * WORKER_CONCURRENCY


@pytest.mark.parametrize("stack", [False], indirect=True, ids=["no-statuses"])
async def test_scheduler_killed_while_releasing_loses_nothing(
    engine: AsyncEngine, api: AsyncTestClient[Any], stack: Stack
) -> None:
    tenant = await _tenant(engine, stack)
    due = datetime.now(UTC) + timedelta(seconds=3)
    await _accept(api, tenant, SCHEDULED, scheduled_for=due.isoformat())
    stack.start("worker")
    kills = 0
    stack.start("scheduler")
    for target in (SCHEDULED // 4, SCHEDULED // 2):
        await eventually(
            lambda: _counts(engine, tenant),
            lambda c, t=target: _final(c) >= t,
            timeout=120,
            what=f"{target} scheduled notifications to finish",
        )
        stack.kill("scheduler")
        kills += 1
        time.sleep(0.5)
        stack.start("scheduler")
    counts = await eventually(
        lambda: _counts(engine, tenant),
        lambda c: _final(c) == SCHEDULED,
        timeout=180,
        what="every scheduled notification to reach a final state",
    )
    duplicates = _duplicates(stack, tenant)
    _report("scheduler", total=SCHEDULED, kills=kills, statuses=dict(counts), sent_twice=duplicates)
    assert counts["failed"] == 0, counts
    assert duplicates == 0


async def test_receiver_killed_loses_no_status(
    engine: AsyncEngine, api: AsyncTestClient[Any], stack: Stack
) -> None:
    tenant = await _tenant(engine, stack)
    await _accept(api, tenant, WITH_STATUSES)
    stack.start("worker")
    for target in (WITH_STATUSES // 4, WITH_STATUSES // 2):
        await eventually(
            lambda: _counts(engine, tenant),
            lambda c, t=target: c["read"] >= t,
            timeout=120,
            what=f"{target} notifications to be read",
        )
        stack.kill("receiver")
        time.sleep(1)  # webhooks fail meanwhile; the sandbox (like Meta) retries them
        stack.start("receiver")
    counts = await eventually(
        lambda: _counts(engine, tenant),
        lambda c: c["read"] == WITH_STATUSES,
        timeout=240,
        what="every notification to reach read",
    )
    _report(
        "receiver", total=WITH_STATUSES, kills=2, statuses=dict(counts), sent_twice=_duplicates(stack, tenant)
    )


@pytest.fixture
async def own_stack(
    settings: Settings, own_database: tuple[str, AsyncEngine], tmp_path: Path
) -> AsyncIterator[tuple[Stack, AsyncEngine, AsyncTestClient[Any]]]:
    """A stack, and an API, on a database of their own: no in-process worker of another test
    delivers its webhooks (their deliveries are rows any worker on the database may claim)."""
    from wanotify.api.app import create_app

    url, engine = own_database
    own = msgspec.structs.replace(settings, database_url=SecretUrl(url))
    s = Stack(own, tmp_path / "logs", statuses=True)
    s.start("sandbox")
    wait_http(f"{s.sandbox_url}/_sandbox/health", processes=list(s.processes.values()))
    s.start("receiver")
    wait_http(f"http://127.0.0.1:{s.ports['receiver']}/livez", processes=list(s.processes.values()))
    try:
        async with AsyncTestClient(create_app(own)) as client:
            yield s, engine, client
    finally:
        s.stop_all()


async def test_worker_killed_during_webhook_delivery_loses_no_event(
    own_stack: tuple[Stack, AsyncEngine, AsyncTestClient[Any]],
) -> None:
    """SIGKILL the worker while client webhooks are in flight: every event still reaches the sink
    (at least once: a delivery cut short goes again once its claim lapses)."""
    stack, engine, api = own_stack
    stack.env.update(
        WEBHOOK_ALLOW_HTTP="true",
        WEBHOOK_ALLOW_PRIVATE_NETWORKS="true",
        WEBHOOK_TIMEOUT_SECONDS="2",
        WEBHOOK_RETRY_SCHEDULE_SECONDS="0,0.2,0.5,1,1,1,1,1,1,1",
        WEBHOOK_POLL_SECONDS="0.1",
    )
    tenant = await _tenant(engine, stack)
    async with running_sink() as sink:
        sink.delay["crash"] = 0.2  # deliveries stay in flight long enough to be cut short
        r = await api.post(
            "/v1/webhooks", json={"url": sink.at("crash"), "events": ["notification.*"]}, headers=tenant.auth
        )
        assert r.status_code == 201, r.text
        ids = await _accept(api, tenant, WEBHOOK_NOTIFICATIONS)
        stack.start("worker")
        expected = {(nid, event) for nid in ids for event in LIFE}

        async def heard() -> set[tuple[str, str]]:
            return {(e.json()["data"]["notification_id"], e.json()["event"]) for e in sink.delivered("crash")}

        kills = 0
        for target in (len(expected) // 5, len(expected) // 2):
            await eventually(heard, lambda got, t=target: len(got) >= t, timeout=120, what=f"{target} events")
            stack.kill("worker")
            kills += 1
            stack.start("worker")
        got = await eventually(
            heard, lambda got: got >= expected, timeout=240, what="every event at the sink"
        )
        stack.processes["worker"].stop()
        delivered = len(sink.delivered("crash"))
    assert got == expected
    _report(
        "webhooks", total=len(expected), kills=kills, delivered=delivered, twice=delivered - len(expected)
    )
