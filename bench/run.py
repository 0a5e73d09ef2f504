"""``make bench``: ingest throughput and latency against the embedded stack, with a bare baseline.

Everything runs on this machine: PostgreSQL and Redis from the wheels, the API and the baseline as
their own processes, and the load generator here. The numbers are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from bench.lanes import describe_lanes, measure_lanes
from bench.load import Result, describe, run_load
from bench.pacing import describe_pacing, measure_pacing
from bench.search import describe_search, measure_search
from bench.webhooks import describe_webhooks, measure_webhooks
from wanotify.cli.admin import run_migrations
from wanotify.cli.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from wanotify.common.config import load_settings
from wanotify.common.crypto import SecretBox, generate_key
from wanotify.common.db.engine import create_engine
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.template import MetaTemplate
from wanotify.common.domain.tenant import IngressLimits, TenantPolicy

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "3000"))
BULK_REQUESTS = int(os.environ.get("BENCH_BULK_REQUESTS", "60"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))


def notification(i: int) -> dict[str, object]:
    return {
        "event_type": "order.placed",
        "recipient": {"phone_number": f"+1415{abs(i) % 10_000_000:07d}"},
        "template": {
            "name": "order_confirmation",
            "language": "en_US",
            "parameters": [
                {"type": "text", "value": "Ana"},
                {"type": "text", "value": f"ORD-{i}"},
                {"type": "currency", "value": "99.99", "code": "USD"},
            ],
        },
        "metadata": {"order_id": f"ORD-{i}"},
    }


async def seed(database_url: str, key_b64: str) -> str:
    engine = create_engine(database_url, pool_size=1)
    async with UnitOfWork(engine) as uow:
        tid = await uow.tenants.create("bench")
        _, key = await uow.tenants.create_key(tid)
        # Unlimited ingress quota: the benchmark measures the API, not the tenant's limits.
        await uow.tenants.set_policy(tid, TenantPolicy(rate_limits=IngressLimits(0, 0, 0)))
        await uow.senders.add(
            tid,
            phone_number_id="1",
            waba_id="1",
            display_phone_number="+15550100001",
            access_token_encrypted=SecretBox(key_b64).encrypt("t", context=b"1"),
        )
        # The template the load sends, as a sync from Meta would have stored it (no Meta here).
        await uow.templates.upsert(
            tid,
            "1",
            [
                MetaTemplate(
                    name="order_confirmation",
                    language="en_US",
                    status="APPROVED",
                    components=[
                        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is confirmed. Total: {{3}}."}
                    ],
                )
            ],
        )
        await uow.commit()
    await engine.dispose()
    return key


async def fresh_database(env: dict[str, str], name: str) -> str:
    """A new, migrated database on the same embedded server."""
    import asyncpg

    base = env["DATABASE_URL"].rsplit("/", 1)[0]
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = f"{base}/{name}"
    await run_migrations(load_settings({**env, "DATABASE_URL": url}))
    return url


def start(module: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *module], env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )


def wait_port(port: int) -> None:
    from wanotify.cli.embedded import port_open

    deadline = time.monotonic() + 60
    while not port_open("127.0.0.1", port):
        if time.monotonic() > deadline:
            raise SystemExit(f"nothing listening on {port}")
        time.sleep(0.1)


async def measure(api_port: int, base_port: int, key: str) -> list[Result]:
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    results = [
        await run_load(
            "baseline: validate + 1 INSERT",
            f"http://127.0.0.1:{base_port}/baseline",
            lambda i: json.dumps(notification(i)).encode(),
            headers=auth,
            requests=REQUESTS,
            concurrency=CONCURRENCY,
        ),
        await run_load(
            "wa-notify POST /v1/notifications",
            f"http://127.0.0.1:{api_port}/v1/notifications",
            lambda i: json.dumps(notification(i)).encode(),
            headers=auth,
            requests=REQUESTS,
            concurrency=CONCURRENCY,
        ),
        await run_load(
            "wa-notify POST /bulk (100 each)",
            f"http://127.0.0.1:{api_port}/v1/notifications/bulk",
            lambda i: json.dumps({"notifications": [notification(i * 100 + j) for j in range(100)]}).encode(),
            headers=auth,
            requests=BULK_REQUESTS,
            concurrency=min(CONCURRENCY, 8),
            per_request=100,
            expect=202,
        ),
    ]
    return results


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="wanotify-bench-") as tmp:
        root = Path(tmp)
        pg, redis = EmbeddedPostgres(root / "pg"), EmbeddedRedis(root / "redis")
        database_url, redis_url = pg.start(), redis.start()
        processes: list[subprocess.Popen[bytes]] = []
        try:
            key_b64 = generate_key()
            env = {
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "WA_ENCRYPTION_KEY": key_b64,
                "API_PORT": str(free_port()),
                "LOG_LEVEL": "WARNING",
                "OTEL_SDK_DISABLED": "true",
            }
            asyncio.run(run_migrations(load_settings(env)))
            key = asyncio.run(seed(database_url, key_b64))
            base_port = free_port()
            processes.append(start(["wanotify.cli.main", "api"], env, root / "api.log"))
            processes.append(
                start(["bench.baseline"], {**env, "BASELINE_PORT": str(base_port)}, root / "base.log")
            )
            wait_port(int(env["API_PORT"]))
            wait_port(base_port)
            results = asyncio.run(measure(int(env["API_PORT"]), base_port, key))
            # The dispatch phases get databases of their own: the ingest phase's rows stay unsent.
            lanes_env = {**env, "DATABASE_URL": asyncio.run(fresh_database(env, "bench_lanes"))}
            lanes_report = describe_lanes(measure_lanes(lanes_env, root))  # queue time per lane
            pacing_env = {**env, "DATABASE_URL": asyncio.run(fresh_database(env, "bench_pacing"))}
            pacing = measure_pacing(pacing_env, root)  # achieved msg/s per sender against its tier
            hooks_env = {**env, "DATABASE_URL": asyncio.run(fresh_database(env, "bench_webhooks"))}
            hooks = measure_webhooks(hooks_env, root)  # client webhook deliveries
            search_env = {**env, "DATABASE_URL": asyncio.run(fresh_database(env, "bench_search"))}
            search = measure_search(search_env, root)  # GET /v1/notifications over 1,000,000 rows
        finally:
            for p in processes:
                p.terminate()
                p.wait(20)
            redis.stop()
            pg.stop()
    print(
        f"\nwa-notify ingest benchmark ({platform.machine()}, {os.cpu_count()} cores; load generator on the "
        f"same machine; {CONCURRENCY} concurrent clients; embedded PostgreSQL, PostgreSQL queue)\n"
    )
    print(describe(results))
    print(f"\n{lanes_report}")
    print(f"\n{describe_pacing(pacing)}")
    print(f"\n{describe_webhooks(hooks)}")
    print(f"\n{describe_search(search)}")
    base, single = results[0], results[1]
    if base.per_second:
        print(
            f"\nsingle POST costs {base.per_second / max(single.per_second, 1e-9):.2f}x the baseline per "
            "notification (auth, idempotency check, delivery log, outbox publish)"
        )
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest.json").write_bytes(msgspec.json.format(msgspec.json.encode(results)))
    (out / "pacing.json").write_bytes(msgspec.json.format(msgspec.json.encode(pacing)))
    (out / "search.json").write_bytes(msgspec.json.format(msgspec.json.encode(search)))


if __name__ == "__main__":
    main()
