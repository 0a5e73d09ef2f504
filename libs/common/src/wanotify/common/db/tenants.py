"""Tenants and their policies; the operator's shortcuts to their API keys (`db/api_keys.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.clock import utcnow
from wanotify.common.db.api_keys import ApiKeyRepository
from wanotify.common.db.api_keys import generate_key as generate_key
from wanotify.common.db.api_keys import hash_key as hash_key
from wanotify.common.db.schema import tenants
from wanotify.common.domain.api_key import KeyState, key_state
from wanotify.common.domain.notification import Principal
from wanotify.common.domain.scopes import SCOPES, checked_scopes
from wanotify.common.domain.tenant import TenantPolicy, policy_of
from wanotify.common.ids import new_id

# New keys get every published scope (the admin CLI's and `make run`'s first key manage the rest).
DEFAULT_SCOPES = SCOPES


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
        """Returns ``(key_id, plaintext key)``: the operator's way in (admin CLI, `make run`)."""
        key, plaintext = await ApiKeyRepository(self._conn).create(
            tenant_id, name=name, scopes=checked_scopes(scopes, SCOPES), expires_at=expires_at
        )
        return key.id, plaintext

    async def principal_for_key(self, key: str) -> Principal | None:
        """The caller behind a usable key; None for an unknown, revoked or expired one."""
        found = await ApiKeyRepository(self._conn).by_plaintext(key)
        if found is None or key_state(found, utcnow()) in (KeyState.REVOKED, KeyState.EXPIRED):
            return None
        return Principal(tenant_id=found.tenant_id, key_id=found.id, scopes=frozenset(found.scopes))

    async def revoke_key(self, tenant_id: str, key_id: str) -> None:
        await ApiKeyRepository(self._conn).revoke(tenant_id, key_id)
