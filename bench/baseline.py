"""The bare baseline: a Litestar endpoint that validates the same body with msgspec and inserts one row.

Run as ``python -m bench.baseline`` with DATABASE_URL and BASELINE_PORT; it is what ingest would cost
with no auth, idempotency, delivery log, outbox or queue publish.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar, Request, Response, post

from wanotify.api.notifications.schemas import NotificationIn
from wanotify.common.http import serve_until_signalled
from wanotify.common.ids import new_id

DDL = (
    "CREATE TABLE IF NOT EXISTS bench_baseline "
    "(id text PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz DEFAULT now())"
)


def create_app(database_url: str) -> Litestar:
    pool: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool["p"] = await asyncpg.create_pool(database_url, min_size=4, max_size=10)
        await pool["p"].execute(DDL)
        yield
        await pool["p"].close()

    @post("/baseline", status_code=201)
    async def create(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        try:
            item = msgspec.json.decode(body, type=NotificationIn)
        except msgspec.ValidationError as exc:
            return Response(str(exc).encode(), status_code=400)
        nid = new_id("notif")
        await pool["p"].execute(
            "INSERT INTO bench_baseline (id, body) VALUES ($1, $2::jsonb)",
            nid,
            msgspec.json.encode(item).decode(),
        )
        return Response(msgspec.json.encode({"id": nid, "status": "queued"}), status_code=201)

    return Litestar(route_handlers=[create], lifespan=[lifespan], logging_config=None)


if __name__ == "__main__":
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    serve_until_signalled(create_app(url), "127.0.0.1", int(os.environ["BASELINE_PORT"]))
