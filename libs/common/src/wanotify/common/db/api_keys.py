"""API keys: stored as the sha256 of a high-entropy key; only the prefix is ever shown again."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.db.rows import convert
from wanotify.common.db.schema import api_keys, tenants
from wanotify.common.domain.api_key import LAST_USED_RESOLUTION, ApiKey
from wanotify.common.ids import new_id

KEY_PREFIX = "wan_"
_k = api_keys


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    """``wan_`` + 43 url-safe characters (256 bits): too much entropy for anything but sha256 to matter."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


class ApiKeyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def create(
        self,
        tenant_id: str,
        *,
        name: str,
        scopes: Sequence[str],
        expires_at: datetime | None = None,
    ) -> tuple[ApiKey, str]:
        """The stored key and its plaintext, which exists only in this return value."""
        key = generate_key()
        row = (
            await self._conn.execute(
                insert(_k)
                .values(
                    id=new_id("key"),
                    tenant_id=tenant_id,
                    name=name,
                    prefix=key[:12],
                    key_hash=hash_key(key),
                    scopes=list(scopes),
                    expires_at=expires_at,
                )
                .returning(*_k.c)
            )
        ).one()
        return convert(row, ApiKey), key

    async def by_plaintext(self, key: str) -> ApiKey | None:
        """The key, whatever its state (the caller says why it may not be used), of an active tenant."""
        stmt = (
            select(*_k.c)
            .join(tenants, tenants.c.id == _k.c.tenant_id)
            .where(_k.c.key_hash == hash_key(key), tenants.c.active.is_(True))
        )
        row = (await self._conn.execute(stmt)).first()
        return convert(row, ApiKey) if row is not None else None

    async def get(self, tenant_id: str, key_id: str) -> ApiKey | None:
        row = (
            await self._conn.execute(select(*_k.c).where(_k.c.tenant_id == tenant_id, _k.c.id == key_id))
        ).first()
        return convert(row, ApiKey) if row is not None else None

    async def page(
        self, tenant_id: str, *, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[ApiKey]:
        """The tenant's keys, newest first by ``(created_at, id)``; ``after`` ends the page before."""
        stmt = select(*_k.c).where(_k.c.tenant_id == tenant_id)
        if after is not None:
            at, last_id = after
            stmt = stmt.where(or_(_k.c.created_at < at, and_(_k.c.created_at == at, _k.c.id < last_id)))
        stmt = stmt.order_by(_k.c.created_at.desc(), _k.c.id.desc()).limit(limit)
        return [convert(r, ApiKey) for r in (await self._conn.execute(stmt)).all()]

    async def revoke(self, tenant_id: str, key_id: str) -> ApiKey | None:
        """Revoked now (a key revoked before keeps its time); None when the tenant has no such key."""
        stmt = (
            update(_k)
            .where(_k.c.tenant_id == tenant_id, _k.c.id == key_id)
            .values(revoked_at=func.coalesce(_k.c.revoked_at, func.now()))
            .returning(*_k.c)
        )
        row = (await self._conn.execute(stmt)).first()
        return convert(row, ApiKey) if row is not None else None

    async def retire(self, key_id: str, *, replaced_by: str, until: datetime) -> ApiKey:
        """A rotated key names its successor and works until ``until``."""
        stmt = (
            update(_k)
            .where(_k.c.id == key_id)
            .values(replaced_by=replaced_by, expires_at=until)
            .returning(*_k.c)
        )
        return convert((await self._conn.execute(stmt)).one(), ApiKey)

    async def record_use(self, key_id: str) -> None:
        """``last_used_at`` moves only when the stored one is older than the resolution: processes that
        each note a use within the same minute write it once."""
        seconds = int(LAST_USED_RESOLUTION.total_seconds())
        await self._conn.execute(
            update(_k)
            .where(
                _k.c.id == key_id,
                or_(
                    _k.c.last_used_at.is_(None),
                    _k.c.last_used_at < func.now() - text(f"interval '{seconds} seconds'"),
                ),
            )
            .values(last_used_at=func.now())
        )
