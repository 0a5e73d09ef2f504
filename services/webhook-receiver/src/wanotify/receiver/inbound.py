"""Inbound messages and template status webhooks.

- ``value.messages[]`` (routed by ``metadata.phone_number_id`` to our sender): each one (re)opens
  that recipient's 24-hour customer-service window; a text (or quick-reply tap) that is exactly one
  of the tenant's opt-out keywords (case-insensitive, trimmed) records an opt-out.
- ``message_template_status_update``: the registry row of that WABA's template takes the new status
  (``en-US`` is read as ``en_US``). A template we have never synced is left to the next sync.

Both take items :mod:`wanotify.receiver.items` has decoded and checked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec

from wanotify.common.clock import iso
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.phone import from_wa_id
from wanotify.common.domain.template import normalize_language
from wanotify.common.meta.webhooks import InboundMessage, TemplateStatusUpdate
from wanotify.common.metrics import Metrics
from wanotify.receiver.items import unix_time

log = logging.getLogger(__name__)

# Events that are not a status of their own: a reinstated template is approved again; a flagged
# one is still approved (its quality is dropping) and stays sendable until Meta pauses it.
_EVENT_STATUS: dict[str, str | None] = {"REINSTATED": "APPROVED", "FLAGGED": None}


def _inbound_time(timestamp: str) -> datetime:
    """Never in the future: a window runs 24 hours from the message, not from a clock ahead of ours."""
    return min(unix_time(timestamp), datetime.now(UTC))


def _words(message: InboundMessage) -> str:
    if message.text is not None:
        return message.text.body
    if message.button is not None:
        return message.button.text or message.button.payload
    return ""


class InboundHandler:
    def __init__(self, uow: Callable[[], UnitOfWork], metrics: Metrics) -> None:
        self._uow = uow
        self._metrics = metrics

    async def messages(self, phone_number_id: str, messages: list[InboundMessage]) -> int:
        """Record the inbound messages of one change; returns how many opened a window."""
        if not messages:
            return 0
        opened = 0
        async with self._uow() as uow:
            sender = await uow.senders.by_phone_number_id(phone_number_id)
            if sender is None:
                await uow.rollback()
                log.info("inbound message for an unknown phone number", extra={"pnid": phone_number_id})
                self._metrics.webhook_events.labels("inbound", "unknown").inc(len(messages))
                return 0
            policy = await uow.tenants.policy(sender.tenant_id)
            keywords = {k.strip().casefold() for k in policy.opt_out_keywords if k.strip()}
            for message in messages:
                phone = from_wa_id(message.from_)
                if phone is None:
                    self._metrics.webhook_events.labels("inbound", "malformed").inc()
                    continue
                await uow.windows.touch(sender.id, phone, _inbound_time(message.timestamp))
                opened += 1
                await self._tell_the_client(uow, sender.tenant_id, sender.id, phone, message)
                words = _words(message).strip()
                if words and words.casefold() in keywords:
                    _, created = await uow.opt_outs.add(
                        sender.tenant_id, phone, source="inbound", reason=f"keyword {words[:50]}"
                    )
                    self._metrics.webhook_events.labels(
                        "opt_out", "recorded" if created else "duplicate"
                    ).inc()
                self._metrics.webhook_events.labels("inbound", "recorded").inc()
            await uow.commit()
        return opened

    @staticmethod
    async def _tell_the_client(
        uow: UnitOfWork, tenant_id: str, sender_id: str, phone: str, message: InboundMessage
    ) -> None:
        """``message.received``: its type, its text or media reference, and which of our
        notifications it replies to when Meta gives the context."""
        replied = message.context.id if message.context is not None and message.context.id else None
        ours = await uow.notifications.id_for_wamid(tenant_id, replied) if replied else None
        media = message.media
        await uow.client_events.tenant_event(
            tenant_id,
            "message.received",
            {
                "message_id": message.id,
                "from": phone,
                "sender_id": sender_id,
                "type": message.type,
                "timestamp": iso(_inbound_time(message.timestamp)),
                "text": _words(message) or None,
                "media": msgspec.to_builtins(media) if media is not None else None,
                "in_reply_to": replied,
                "notification_id": ours,
            },
        )

    async def template_status(self, waba_id: str, update: TemplateStatusUpdate) -> str:
        event = update.event.strip().upper()
        status = _EVENT_STATUS.get(event, event)
        if status is None:
            self._metrics.webhook_events.labels("template_status", "ignored").inc()
            return "ignored"
        async with self._uow() as uow:
            changed = await uow.templates.apply_status(
                waba_id,
                name=update.message_template_name,
                language=normalize_language(update.message_template_language),
                meta_id=str(update.message_template_id) if update.message_template_id is not None else None,
                status=status,
            )
            await uow.commit()
        result = "applied" if changed else "unknown"
        if not changed:
            log.info(
                "status for a template not in the registry; the next sync picks it up",
                extra={"waba_id": waba_id, "template": update.message_template_name},
            )
        self._metrics.webhook_events.labels("template_status", result).inc()
        return result
