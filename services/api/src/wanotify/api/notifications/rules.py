"""Meta's rules answered at ingest (422), before anything is stored.

- a template must exist in the requested locale (or one of the tenant's fallbacks), be APPROVED
  and get the right parameters: ``TEMPLATE_NOT_FOUND``, ``TEMPLATE_NOT_APPROVED``,
  ``TEMPLATE_PARAMETER_MISMATCH``;
- free-form messages (text, media) need the recipient's customer-service window open on our
  sender: ``OUTSIDE_CUSTOMER_SERVICE_WINDOW``;
- nothing goes to a recipient who opted out: ``RECIPIENT_OPTED_OUT``.

A tenant's templates are cached in-process for ``API_KEY_CACHE_SECONDS`` (a sync through this
process drops the entry at once); opt-outs and windows are read per request (one indexed query each).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from wanotify.common.cache import TtlCache
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.errors import DomainError, Unprocessable
from wanotify.common.domain.message import FreeForm, TemplateContent
from wanotify.common.domain.notification import NewNotification
from wanotify.common.domain.template import Template, check_filled_body, check_parameters, resolve
from wanotify.common.domain.tenant import TenantPolicy

Checked = NewNotification | DomainError


class IngestRules:
    def __init__(self, cache_seconds: float = 10.0) -> None:
        self._templates: TtlCache[str, list[Template]] = TtlCache(cache_seconds)
        self._wabas: TtlCache[str, str] = TtlCache(cache_seconds)

    def invalidate(self, tenant_id: str) -> None:
        self._templates.drop(tenant_id)

    async def templates(self, uow: UnitOfWork, tenant_id: str) -> list[Template]:
        cached = self._templates.get(tenant_id)
        if cached is None:
            cached = await uow.templates.for_tenant(tenant_id)
            self._templates.put(tenant_id, cached)
        return cached

    async def _waba_of(self, uow: UnitOfWork, sender_id: str) -> str:
        waba = self._wabas.get(sender_id)
        if waba is None:
            sender = await uow.senders.get(sender_id)
            waba = sender.waba_id if sender else ""
            self._wabas.put(sender_id, waba)
        return waba

    async def check(
        self,
        uow: UnitOfWork,
        tenant_id: str,
        sender_id: str,
        policy: TenantPolicy,
        items: Sequence[NewNotification],
        now: datetime,
    ) -> list[Checked]:
        """Each item, possibly with its template locale resolved, or the error that refuses it."""
        if not items:
            return []
        opted_out = await uow.opt_outs.among(tenant_id, [i.recipient_phone for i in items])
        free_form = [i.recipient_phone for i in items if isinstance(i.message, FreeForm)]
        window_open = await uow.windows.open_for(sender_id, free_form, now) if free_form else set()
        templates: list[Template] = []
        if any(isinstance(i.message, TemplateContent) for i in items):
            waba = await self._waba_of(uow, sender_id)
            templates = [t for t in await self.templates(uow, tenant_id) if t.waba_id == waba]
        out: list[Checked] = []
        for item in items:
            try:
                out.append(self._check_one(item, policy, templates, opted_out, window_open))
            except DomainError as exc:
                out.append(exc)
        return out

    @staticmethod
    def _check_one(
        item: NewNotification,
        policy: TenantPolicy,
        templates: list[Template],
        opted_out: set[str],
        window_open: set[str],
    ) -> NewNotification:
        if item.recipient_phone in opted_out:
            raise Unprocessable(
                "This recipient opted out of your messages",
                field="recipient.phone_number",
                code="RECIPIENT_OPTED_OUT",
            )
        message = item.message
        if isinstance(message, TemplateContent):
            template = resolve(templates, message.name, message.language, policy.language_fallback)
            check_parameters(template, message)
            check_filled_body(template, message)
            if template.language != message.language:
                return msgspec.structs.replace(
                    item, message=msgspec.structs.replace(message, language=template.language)
                )
            return item
        if item.recipient_phone not in window_open:
            raise Unprocessable(
                "Free-form messages need the recipient's 24-hour customer-service window open (the "
                "recipient has not written to this sender within 24 hours); send a template instead",
                field="recipient.phone_number",
                code="OUTSIDE_CUSTOMER_SERVICE_WINDOW",
            )
        return item
