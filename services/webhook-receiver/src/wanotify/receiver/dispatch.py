"""One verified envelope, change by change and item by item.

Each status, inbound message and template update is decoded on its own: a valid one is applied,
a malformed one is skipped and counted (``wanotify_webhook_events_total{kind, result="malformed"}``)
and its reason kept for the caller's single log line. So a permanently bad item never makes Meta
retry (for days) a delivery whose other items were good.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import msgspec

from wanotify.common.meta.webhooks import ID_MAX_LENGTH, InboundMessage, WebhookEnvelope
from wanotify.common.metrics import Metrics
from wanotify.receiver import items
from wanotify.receiver.inbound import InboundHandler
from wanotify.receiver.items import MalformedItem
from wanotify.receiver.statuses import StatusApplier

MAX_REASONS = 5
_PLAIN_FIELD = re.compile(r"[a-z_]{1,40}")


@dataclass
class Skipped:
    """The malformed items of one delivery: how many of each kind, and the first few reasons."""

    counts: Counter[str] = field(default_factory=Counter)
    reasons: list[str] = field(default_factory=list)

    def add(self, kind: str, reason: str, n: int = 1) -> None:
        self.counts[kind] += n
        line = f"{kind}: {reason}"
        if len(self.reasons) < MAX_REASONS and line not in self.reasons:
            self.reasons.append(line)

    def __bool__(self) -> bool:
        return bool(self.counts)


def _metric_kind(change_field: str) -> str:
    """A change's ``field`` as a metric label: Meta's plain names, anything else ``other``."""
    return change_field if _PLAIN_FIELD.fullmatch(change_field) else "other"


class Dispatcher:
    def __init__(self, applier: StatusApplier, inbound: InboundHandler, metrics: Metrics) -> None:
        self._applier = applier
        self._inbound = inbound
        self._metrics = metrics

    async def dispatch(self, envelope: WebhookEnvelope) -> Skipped:
        skipped = Skipped()
        for entry in envelope.entry:
            for change in entry.changes:
                if change.field == "messages":
                    await self._messages(change.value, skipped)
                elif change.field == "message_template_status_update":
                    await self._template_status(entry.id, change.value, skipped)
                else:
                    self._metrics.webhook_events.labels(_metric_kind(change.field), "ignored").inc()
        for kind, n in skipped.counts.items():
            self._metrics.webhook_events.labels(kind, "malformed").inc(n)
        return skipped

    async def _messages(self, raw: msgspec.Raw, skipped: Skipped) -> None:
        try:
            value = items.decode_change_value(raw)
        except MalformedItem as exc:
            skipped.add("messages", exc.reason)
            return
        for i, raw_status in enumerate(value.statuses):
            try:
                status = items.decode_status(raw_status)
            except MalformedItem as exc:
                skipped.add("status", f"statuses[{i}] {exc.reason}")
                continue
            await self._applier.apply(status)
        if not value.messages:
            return
        self._metrics.webhook_events.labels("inbound", "received").inc(len(value.messages))
        messages: list[InboundMessage] = []
        for i, raw_message in enumerate(value.messages):
            try:
                messages.append(items.decode_message(raw_message))
            except MalformedItem as exc:
                skipped.add("inbound", f"messages[{i}] {exc.reason}")
        if not messages:
            return
        try:
            metadata = items.decode_metadata(value.metadata)
        except MalformedItem as exc:
            skipped.add("inbound", f"metadata {exc.reason}", len(messages))
            return
        await self._inbound.messages(metadata.phone_number_id, messages)

    async def _template_status(self, waba_id: str, raw: msgspec.Raw, skipped: Skipped) -> None:
        try:
            items.check_identifier(waba_id, "entry.id", max_length=ID_MAX_LENGTH)
            update = items.decode_template_status(raw)
        except MalformedItem as exc:
            skipped.add("template_status", exc.reason)
            return
        await self._inbound.template_status(waba_id, update)
