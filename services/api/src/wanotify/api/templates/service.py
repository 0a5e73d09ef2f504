"""Listing the tenant's templates and syncing them from Meta on demand."""

from __future__ import annotations

from collections.abc import Callable

from wanotify.api.notifications.rules import IngestRules
from wanotify.api.templates.schemas import SyncResult, TemplateList, TemplateOut, WabaSyncOut
from wanotify.common.clock import iso
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.errors import DependencyUnavailable, NoSender
from wanotify.common.domain.template import Template
from wanotify.common.template_sync import TemplateSyncer


class TemplateSyncFailed(DependencyUnavailable):
    code = "TEMPLATE_SYNC_FAILED"


def _out(t: Template) -> TemplateOut:
    return TemplateOut(
        name=t.name,
        language=t.language,
        status=t.status,
        category=t.category,
        parameter_format=t.parameter_format,
        waba_id=t.waba_id,
        meta_id=t.meta_id,
        components=t.components,
        synced_at=iso(t.synced_at),
        updated_at=iso(t.updated_at),
    )


class TemplateService:
    def __init__(
        self, uow: Callable[[], UnitOfWork], syncer: TemplateSyncer | None, rules: IngestRules
    ) -> None:
        self._uow = uow
        self._syncer = syncer
        self._rules = rules

    async def list(
        self, tenant_id: str, *, name: str | None, language: str | None, status: str | None
    ) -> TemplateList:
        async with self._uow() as uow:
            found = await uow.templates.for_tenant(tenant_id, name=name, language=language, status=status)
        return TemplateList(templates=[_out(t) for t in found])

    async def sync(self, tenant_id: str) -> SyncResult:
        if self._syncer is None:
            raise TemplateSyncFailed("Template sync needs WA_ENCRYPTION_KEY to read the senders' tokens")
        results = await self._syncer.sync_tenant(tenant_id)
        self._rules.invalidate(tenant_id)
        if not results:
            raise NoSender("This tenant has no WhatsApp sender configured")
        if all(r.error for r in results):
            raise TemplateSyncFailed(f"Meta refused the template listing: {results[0].error}")
        return SyncResult(
            synced=sum(r.templates for r in results),
            wabas=[WabaSyncOut(r.waba_id, r.templates, r.removed, r.error) for r in results],
        )
