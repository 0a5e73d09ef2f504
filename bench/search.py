"""The search figures of ``make bench``: p50 and p95 of ``GET /v1/notifications`` with each common
filter, over 1,000,000 stored notifications (``BENCH_SEARCH_ROWS``).

The rows are written by one ``INSERT … SELECT generate_series`` per chunk, straight into the
migrated schema (every index in place, as in production), then vacuumed and analysed. They belong
to 20 tenants; the searched one holds 40 % of them, the worst case for a per-tenant index. Each
filter is asked ``BENCH_SEARCH_QUERIES`` times, one request at a time, through the API process
(auth, validation, the query, serialisation). Beside each figure, the ceiling: the repository's
``page()`` for the same filter, in this process, without HTTP. Printed, never asserted.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import msgspec

from bench.dispatch import start_service
from bench.load import percentile
from wanotify.cli.embedded import free_port, port_open
from wanotify.common.crypto import SecretBox
from wanotify.common.db.engine import create_engine
from wanotify.common.db.notification_filter import NotificationFilter
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.status import Status

ROWS = int(os.environ.get("BENCH_SEARCH_ROWS", "1000000"))
QUERIES = int(os.environ.get("BENCH_SEARCH_QUERIES", "200"))
TENANTS = 20
SEARCHED_SHARE = 0.4
CHUNK = 100_000
TARGET_MS = 50.0

Params = dict[str, str]


def _searched_g(i: int) -> int:
    """A row number (``g`` in ``_SEED``) the searched tenant holds: ``g % 1000 < 400``."""
    g = (i * 7919) % ROWS
    return g - g % 1000 + (i % 399) + 1


def _ago(seconds: float) -> str:
    return datetime.fromtimestamp(time.time() - seconds, UTC).isoformat()


def _day(i: int) -> Params:
    days = 1 + i % 20
    return {
        "status": "failed",
        "created_after": _ago(86_400 * days),
        "created_before": _ago(86_400 * (days - 1)),
    }


# Each filter's parameters for its i-th request: every request asks for something different.
FILTERS: tuple[tuple[str, Callable[[int], Params]], ...] = (
    ("no filter (newest page)", lambda i: {}),
    ("status=failed", lambda i: {"status": "failed"}),
    ("status=failed, one day", _day),
    ("status=processing (none)", lambda i: {"status": "processing"}),
    ("recipient", lambda i: {"recipient": f"+1415{_searched_g(i) % 300000:07d}"}),
    ("metadata.order_id", lambda i: {"metadata.order_id": f"ORD-{_searched_g(i)}"}),
    ("template (a rare one)", lambda i: {"template": "tpl_rare"}),
    ("template + status=delivered", lambda i: {"template": f"tpl_{i % 12}", "status": "delivered"}),
    ("event_type (a rare one)", lambda i: {"event_type": "account.locked"}),
    ("recipient_country=BR", lambda i: {"recipient_country": "BR"}),
    ("batch_id", lambda i: {"batch_id": f"batch_{_searched_g(i * 50) // 5000}"}),
    ("updated_after (last hour)", lambda i: {"updated_after": _ago(3_600)}),
)


def _filter_of(params: Params) -> NotificationFilter:
    """The repository's filter for the same parameters (what the API's handler builds)."""

    def time_of(name: str) -> datetime | None:
        return datetime.fromisoformat(params[name]) if name in params else None

    return NotificationFilter(
        statuses=(Status(params["status"]),) if "status" in params else (),
        recipient=params.get("recipient"),
        recipient_country=params.get("recipient_country"),
        template=params.get("template"),
        event_type=params.get("event_type"),
        batch_id=params.get("batch_id"),
        metadata={k.removeprefix("metadata."): v for k, v in params.items() if k.startswith("metadata.")},
        created_after=time_of("created_after"),
        created_before=time_of("created_before"),
        updated_after=time_of("updated_after"),
    )


class SearchFigure(msgspec.Struct):
    name: str
    p50_ms: float
    p95_ms: float
    sql_p95_ms: float
    found: float  # mean rows per page


class SearchFigures(msgspec.Struct):
    rows: int
    tenant_rows: int
    seed_seconds: float
    figures: list[SearchFigure]


_SEED = """
INSERT INTO notifications (
    id, tenant_id, sender_id, batch_id, event_type, recipient_phone, recipient_country, priority,
    status, message, metadata, max_attempts, created_at, updated_at, whatsapp_message_id)
SELECT
    'notif_' || lpad(g::text, 12, '0'),
    ($1::text[])[1 + (CASE WHEN g % 1000 < $4 THEN 0 ELSE 1 + g % ($5 - 1) END)],
    ($2::text[])[1 + (CASE WHEN g % 1000 < $4 THEN 0 ELSE 1 + g % ($5 - 1) END)],
    CASE WHEN g % 50 = 0 THEN 'batch_' || (g / 5000) END,
    CASE WHEN g % 100000 = 7 THEN 'account.locked'
         WHEN g % 3 = 0 THEN 'order.shipped' ELSE 'order.placed' END,
    '+1415' || lpad((g % 300000)::text, 7, '0'),
    CASE WHEN g % 40 = 0 THEN 'BR' WHEN g % 9 = 0 THEN 'GB' ELSE 'US' END,
    CASE WHEN g % 10 = 0 THEN 'high' ELSE 'normal' END,
    CASE WHEN g % 50 = 1 THEN 'failed' WHEN g % 5 = 0 THEN 'delivered' ELSE 'read' END,
    jsonb_build_object('kind', 'template', 'language', 'en_US', 'parameters', '[]'::jsonb,
        'name', CASE WHEN g % 200000 = 11 THEN 'tpl_rare' ELSE 'tpl_' || (g % 12) END),
    jsonb_build_object('order_id', 'ORD-' || g, 'shop', 'shop_' || (g % 7)),
    5,
    $3::timestamptz - make_interval(secs => ($6 - g) * 2.5),
    $3::timestamptz - make_interval(secs => ($6 - g) * 2.5) + interval '3 seconds',
    'wamid.' || g
FROM generate_series($7::bigint, $8::bigint) AS g
"""


async def _seed(database_url: str, key_b64: str) -> tuple[str, str, float]:
    """Tenants, their keys and senders through the repositories; the rows by SQL. Returns the
    searched tenant's id, its API key and the seconds the rows took."""
    engine = create_engine(database_url, pool_size=1)
    tenant_ids: list[str] = []
    sender_ids: list[str] = []
    key = ""
    async with UnitOfWork(engine) as uow:
        for t in range(TENANTS):
            tid = await uow.tenants.create(f"search-{t}")
            if t == 0:
                _, key = await uow.tenants.create_key(tid)
            sender_id = await uow.senders.add(
                tid,
                phone_number_id=f"9{t}",
                waba_id=f"9{t}",
                display_phone_number="+15550100001",
                access_token_encrypted=SecretBox(key_b64).encrypt("t", context=f"9{t}".encode()),
            )
            tenant_ids.append(tid)
            sender_ids.append(sender_id)
        await uow.commit()
    await engine.dispose()
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    started = time.perf_counter()
    try:
        now = await conn.fetchval("SELECT now()")
        share = int(SEARCHED_SHARE * 1000)
        for lo in range(1, ROWS + 1, CHUNK):
            hi = min(ROWS, lo + CHUNK - 1)
            await conn.execute(_SEED, tenant_ids, sender_ids, now, share, TENANTS, ROWS, lo, hi)
        # As autovacuum would have by then: statistics, and the GIN index's pending list merged
        # (until it is, a containment search reads the whole list).
        await conn.execute("VACUUM ANALYZE notifications")
    finally:
        await conn.close()
    return tenant_ids[0], key, time.perf_counter() - started


async def _measure(api_url: str, key: str, database_url: str, tenant_id: str) -> list[SearchFigure]:
    auth = {"Authorization": f"Bearer {key}"}
    figures: list[SearchFigure] = []
    engine = create_engine(database_url, pool_size=1)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        await client.get("/v1/notifications", params={"limit": 1}, headers=auth)  # warm the key cache
        for name, params_of in FILTERS:
            took: list[float] = []
            sql_took: list[float] = []
            found = 0
            for i in range(QUERIES):
                params = params_of(i)
                started = time.perf_counter()
                r = await client.get("/v1/notifications", params={**params, "limit": 50}, headers=auth)
                took.append((time.perf_counter() - started) * 1000)
                if r.status_code != 200:
                    raise SystemExit(f"search {name!r} answered {r.status_code}: {r.text[:300]}")
                found += len(r.json()["notifications"])
                started = time.perf_counter()
                async with UnitOfWork(engine) as uow:
                    await uow.notifications.page(tenant_id, _filter_of(params), limit=51)
                sql_took.append((time.perf_counter() - started) * 1000)
            figures.append(
                SearchFigure(
                    name=name,
                    p50_ms=percentile(took, 0.5),
                    p95_ms=percentile(took, 0.95),
                    sql_p95_ms=percentile(sql_took, 0.95),
                    found=found / QUERIES,
                )
            )
    await engine.dispose()
    return figures


def measure_search(env: dict[str, str], root: Path) -> SearchFigures:
    """Seed ``env``'s (fresh, migrated) database, start an API on it and time each filter."""
    tenant_id, key, seed_seconds = asyncio.run(_seed(env["DATABASE_URL"], env["WA_ENCRYPTION_KEY"]))
    port = free_port()
    api = start_service(["api"], {**env, "API_PORT": str(port)}, root / "search-api.log")
    try:
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", port):
            if time.monotonic() > deadline:
                raise SystemExit("the search bench's API did not start")
            time.sleep(0.1)
        figures = asyncio.run(_measure(f"http://127.0.0.1:{port}", key, env["DATABASE_URL"], tenant_id))
    finally:
        api.terminate()
        api.wait(20)
    return SearchFigures(
        rows=ROWS, tenant_rows=int(ROWS * SEARCHED_SHARE), seed_seconds=seed_seconds, figures=figures
    )


def describe_search(s: SearchFigures) -> str:
    lines = [
        f"search: GET /v1/notifications?…&limit=50 over {s.rows:,} rows ({s.tenant_rows:,} of them the "
        f"searched tenant's, {TENANTS} tenants; seeded in {s.seed_seconds:.0f} s), {QUERIES} requests "
        f"each, one at a time; target p95 < {TARGET_MS:.0f} ms",
        f"  {'filter':<30} {'p50 ms':>8} {'p95 ms':>8} {'p95/target':>10} {'repo p95':>9} {'rows':>6}",
    ]
    for f in s.figures:
        lines.append(
            f"  {f.name:<30} {f.p50_ms:>8.1f} {f.p95_ms:>8.1f} {f.p95_ms / TARGET_MS:>9.2f}x "
            f"{f.sql_p95_ms:>9.1f} {f.found:>6.1f}"
        )
    worst = max(s.figures, key=lambda f: f.p95_ms)
    lines.append(
        f"  worst p95: {worst.name} {worst.p95_ms:.1f} ms ({worst.p95_ms / TARGET_MS:.2f}x the target); "
        "repo p95 is the repository's page() alone, the ceiling without HTTP, auth and JSON"
    )
    return "\n".join(lines)
