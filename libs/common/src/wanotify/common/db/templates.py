"""The template registry: Meta's templates per tenant and WABA, synced and kept current by webhooks."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.db.rows import convert
from wanotify.common.db.schema import senders, templates
from wanotify.common.domain.template import MetaTemplate, Template, normalize_language
from wanotify.common.ids import new_id

_t = templates


class SyncTarget(msgspec.Struct, frozen=True):
    """One (tenant, WABA) to sync, with a sender whose access token can read it."""

    tenant_id: str
    waba_id: str
    phone_number_id: str
    access_token_encrypted: bytes


class TemplateRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def for_tenant(
        self,
        tenant_id: str,
        *,
        name: str | None = None,
        language: str | None = None,
        status: str | None = None,
        waba_id: str | None = None,
    ) -> list[Template]:
        stmt = select(_t).where(_t.c.tenant_id == tenant_id)
        if name:
            stmt = stmt.where(_t.c.name == name)
        if language:
            stmt = stmt.where(_t.c.language == language)
        if status:
            stmt = stmt.where(_t.c.status == status.upper())
        if waba_id:
            stmt = stmt.where(_t.c.waba_id == waba_id)
        rows = (await self._conn.execute(stmt.order_by(_t.c.name, _t.c.language, _t.c.waba_id))).all()
        return [convert(r, Template) for r in rows]

    async def upsert(self, tenant_id: str, waba_id: str, items: Sequence[MetaTemplate]) -> int:
        """Insert or refresh these templates (one row per tenant, WABA, name and language)."""
        if not items:
            return 0
        rows = [
            {
                "id": new_id("tpl"),
                "tenant_id": tenant_id,
                "waba_id": waba_id,
                "meta_id": item.id,
                "name": item.name,
                "language": normalize_language(item.language),
                "status": item.status.upper(),
                "category": item.category.upper() if item.category else None,
                "parameter_format": (item.parameter_format or "POSITIONAL").upper(),
                "components": item.components,
            }
            for item in items
        ]
        stmt = insert(_t).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_t.c.tenant_id, _t.c.waba_id, _t.c.name, _t.c.language],
            set_={
                "meta_id": stmt.excluded.meta_id,
                "status": stmt.excluded.status,
                "category": stmt.excluded.category,
                "parameter_format": stmt.excluded.parameter_format,
                "components": stmt.excluded.components,
                "synced_at": func.now(),
                "updated_at": func.now(),
            },
        )
        await self._conn.execute(stmt)
        return len(rows)

    async def remove_missing(self, tenant_id: str, waba_id: str, keep: Sequence[MetaTemplate]) -> int:
        """Templates Meta no longer lists (deleted there) leave the registry."""
        stmt = delete(_t).where(_t.c.tenant_id == tenant_id, _t.c.waba_id == waba_id)
        keys = [(k.name, normalize_language(k.language)) for k in keep]
        if keys:
            stmt = stmt.where(tuple_(_t.c.name, _t.c.language).not_in(keys))
        result = await self._conn.execute(stmt.returning(_t.c.id))
        return len(result.all())

    async def apply_status(
        self, waba_id: str, *, name: str, language: str, meta_id: str | None, status: str
    ) -> int:
        """A ``message_template_status_update``: every tenant's row for that template moves."""
        match = (_t.c.name == name) & (_t.c.language == normalize_language(language))
        if meta_id:
            match = match | (_t.c.meta_id == meta_id)
        result = await self._conn.execute(
            update(_t)
            .where(_t.c.waba_id == waba_id, match)
            .values(status=status.upper(), updated_at=func.now())
            .returning(_t.c.id)
        )
        return len(result.all())

    async def sync_targets(self, tenant_id: str | None = None) -> list[SyncTarget]:
        """Each (tenant, WABA) with the token of its oldest sender for that WABA."""
        stmt = (
            select(
                senders.c.tenant_id,
                senders.c.waba_id,
                senders.c.phone_number_id,
                senders.c.access_token_encrypted,
            )
            .ext(distinct_on(senders.c.tenant_id, senders.c.waba_id))
            .order_by(senders.c.tenant_id, senders.c.waba_id, senders.c.created_at)
        )
        if tenant_id is not None:
            stmt = stmt.where(senders.c.tenant_id == tenant_id)
        rows = (await self._conn.execute(stmt)).all()
        return [
            SyncTarget(r.tenant_id, r.waba_id, r.phone_number_id, bytes(r.access_token_encrypted))
            for r in rows
        ]
