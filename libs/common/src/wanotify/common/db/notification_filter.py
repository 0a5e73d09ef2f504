"""Which of a tenant's notifications a search speaks of (`GET /v1/notifications`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Text, literal_column

from wanotify.common.db.schema import notifications
from wanotify.common.domain.status import Status

_n = notifications
# A literal key, not a bound parameter: only then does the planner match the expression of
# `ix_notifications_tenant_template`. Only a template's content has a top-level `name`, so no
# `kind` test (the planner has no statistics for one, and misjudged every template search by 200x).
_TEMPLATE_NAME = literal_column("notifications.message ->> 'name'", Text)


class NotificationFilter(msgspec.Struct, frozen=True, kw_only=True):
    statuses: tuple[Status, ...] = ()
    event_type: str | None = None
    batch_id: str | None = None
    recipient: str | None = None
    recipient_country: str | None = None
    template: str | None = None
    sender_id: str | None = None
    priority: str | None = None
    # Each key holds this value (containment on the JSON, served by a GIN index).
    metadata: Mapping[str, str] = msgspec.field(default_factory=dict)
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None

    def conditions(self, tenant_id: str) -> list[Any]:
        conds: list[Any] = [_n.c.tenant_id == tenant_id]
        if self.statuses:
            conds.append(_n.c.status.in_([s.value for s in self.statuses]))
        for column, value in (
            (_n.c.event_type, self.event_type),
            (_n.c.batch_id, self.batch_id),
            (_n.c.recipient_phone, self.recipient),
            (_n.c.recipient_country, self.recipient_country),
            (_n.c.sender_id, self.sender_id),
            (_n.c.priority, self.priority),
        ):
            if value is not None:
                conds.append(column == value)
        if self.template is not None:
            conds.append(_TEMPLATE_NAME == self.template)  # noqa: SIM300 (the column on the left)
        if self.metadata:
            conds.append(_n.c.metadata.contains(dict(self.metadata)))
        if self.created_after is not None:
            conds.append(_n.c.created_at >= self.created_after)
        if self.created_before is not None:
            conds.append(_n.c.created_at < self.created_before)
        if self.updated_after is not None:
            conds.append(_n.c.updated_at >= self.updated_after)
        return conds
