"""Idempotent requests: the first response to a key is stored with a hash of the request that made it."""

from __future__ import annotations

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.db.schema import idempotency_keys as _k


class StoredResponse(msgspec.Struct, frozen=True):
    request_hash: str
    status_code: int
    body: bytes


class IdempotencyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, tenant_id: str, key: str) -> StoredResponse | None:
        row = (
            await self._conn.execute(select(_k).where(_k.c.tenant_id == tenant_id, _k.c.key == key))
        ).first()
        if row is None:
            return None
        return StoredResponse(
            request_hash=row.request_hash, status_code=row.status_code, body=row.response_body
        )

    async def put(self, tenant_id: str, key: str, response: StoredResponse) -> bool:
        """False when another request stored this key first (the caller's transaction must roll back)."""
        stmt = (
            insert(_k)
            .values(
                tenant_id=tenant_id,
                key=key,
                request_hash=response.request_hash,
                status_code=response.status_code,
                response_body=response.body,
            )
            .on_conflict_do_nothing()
            .returning(_k.c.key)
        )
        return (await self._conn.execute(stmt)).first() is not None
