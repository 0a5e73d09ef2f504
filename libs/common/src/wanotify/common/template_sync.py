"""Syncing the template registry from Meta, per tenant and WABA (scheduler, API and the demo use it)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec

from wanotify.common.crypto import SecretBox, SecretBoxError
from wanotify.common.db.templates import SyncTarget
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.meta.client import MetaClient
from wanotify.common.meta.errors import MetaApiError, MetaTransportError

log = logging.getLogger(__name__)


class WabaSync(msgspec.Struct, frozen=True):
    waba_id: str
    templates: int = 0
    removed: int = 0
    error: str | None = None


class TemplateSyncer:
    def __init__(
        self, uow: Callable[[], UnitOfWork], meta: MetaClient, secrets: SecretBox, *, page_size: int = 100
    ) -> None:
        self._uow = uow
        self._meta = meta
        self._secrets = secrets
        self._page_size = page_size

    async def sync_tenant(self, tenant_id: str) -> list[WabaSync]:
        async with self._uow() as uow:
            targets = await uow.templates.sync_targets(tenant_id)
        return [await self.sync_target(t) for t in targets]

    async def sync_all(self) -> list[WabaSync]:
        async with self._uow() as uow:
            targets = await uow.templates.sync_targets()
        return [await self.sync_target(t) for t in targets]

    async def sync_target(self, target: SyncTarget) -> WabaSync:
        """All of one WABA's templates (every page), then drop the ones Meta no longer lists.

        A failed fetch changes nothing: a partial list must not delete templates.
        """
        try:
            token = self._secrets.decrypt(
                target.access_token_encrypted, context=target.phone_number_id.encode()
            )
            items = await self._meta.list_templates(target.waba_id, token, page_size=self._page_size)
        except (MetaApiError, MetaTransportError, SecretBoxError) as exc:
            log.warning(
                "template sync failed",
                extra={"tenant_id": target.tenant_id, "waba_id": target.waba_id, "error": str(exc)},
            )
            return WabaSync(waba_id=target.waba_id, error=str(exc) or type(exc).__name__)
        async with self._uow() as uow:
            count = await uow.templates.upsert(target.tenant_id, target.waba_id, items)
            removed = await uow.templates.remove_missing(target.tenant_id, target.waba_id, items)
            await uow.commit()
        log.info(
            "templates synced",
            extra={"tenant_id": target.tenant_id, "waba_id": target.waba_id, "count": count},
        )
        return WabaSync(waba_id=target.waba_id, templates=count, removed=removed)
