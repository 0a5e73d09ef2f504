"""Tenants, their policies and API keys (sha256 of a high-entropy key; only the prefix is ever shown)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

import msgspec
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.db.schema import api_keys, tenants
from wanotify.common.domain.notification import Principal
from wanotify.common.domain.tenant import TenantPolicy, policy_of
from wanotify.common.ids import new_id

KEY_PREFIX = "wan_"
DEFAULT_SCOPES = (
    "notifications:send",
    "notifications:read",
    "senders:manage",
    "dead_letters:read",
    "dead_letters:manage",
    "templates:read",
    "templates:manage",
    "opt_outs:manage",
    "webhooks:read",
    "webhooks:manage",
)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    """``wan_`` + 43 url-safe characters (256 bits): too much entropy for anything but sha256 to matter."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


class TenantRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def create(self, name: str, tenant_id: str | None = None) -> str:
        tid = tenant_id or new_id("ten")
        await self._conn.execute(insert(tenants).values(id=tid, name=name))
        return tid

    async def exists(self, tenant_id: str) -> bool:
        row = (await self._conn.execute(select(tenants.c.id).where(tenants.c.id == tenant_id))).first()
        return row is not None

    async def policy(self, tenant_id: str) -> TenantPolicy:
        row = (await self._conn.execute(select(tenants.c.settings).where(tenants.c.id == tenant_id))).first()
        return policy_of(row.settings if row else None)

    async def set_policy(self, tenant_id: str, policy: TenantPolicy) -> None:
        await self._conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(settings=msgspec.to_builtins(policy))
        )

    async def create_key(
        self,
        tenant_id: str,
        *,
        name: str = "default",
        scopes: Sequence[str] = DEFAULT_SCOPES,
        expires_at: datetime | None = None,
    ) -> tuple[str, str]:
        """Returns ``(key_id, plaintext key)``. The plaintext exists only in this return value."""
        key = generate_key()
        key_id = new_id("key")
        await self._conn.execute(
            insert(api_keys).values(
                id=key_id,
                tenant_id=tenant_id,
                name=name,
                prefix=key[:12],
                key_hash=hash_key(key),
                scopes=list(scopes),
                expires_at=expires_at,
            )
        )
        return key_id, key

    async def principal_for_key(self, key: str) -> Principal | None:
        stmt = (
            select(api_keys.c.id, api_keys.c.tenant_id, api_keys.c.scopes)
            .join(tenants, tenants.c.id == api_keys.c.tenant_id)
            .where(
                api_keys.c.key_hash == hash_key(key),
                api_keys.c.revoked_at.is_(None),
                (api_keys.c.expires_at.is_(None)) | (api_keys.c.expires_at > func.now()),
                tenants.c.active.is_(True),
            )
        )
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        return Principal(tenant_id=row.tenant_id, key_id=row.id, scopes=frozenset(row.scopes))

    async def revoke_key(self, key_id: str) -> None:
        await self._conn.execute(
            update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=func.now())
        )
