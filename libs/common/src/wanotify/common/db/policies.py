"""Tenant policies read through a short in-process cache: one query per tenant per TTL for every
reader in a process (ingress limits, ingest rules, the worker's anti-spam windows)."""

from __future__ import annotations

from collections.abc import Callable

from wanotify.common.cache import TtlCache
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.tenant import TenantPolicy


class TenantPolicies:
    def __init__(self, uow: Callable[[], UnitOfWork], ttl: float) -> None:
        self._uow = uow
        self._cache: TtlCache[str, TenantPolicy] = TtlCache(ttl)

    async def get(self, tenant_id: str, uow: UnitOfWork | None = None) -> TenantPolicy:
        """The tenant's policy; ``uow``: read it in the caller's transaction on a miss."""
        policy = self._cache.get(tenant_id)
        if policy is None:
            if uow is not None:
                policy = await uow.tenants.policy(tenant_id)
            else:
                async with self._uow() as own:
                    policy = await own.tenants.policy(tenant_id)
            self._cache.put(tenant_id, policy)
        return policy
