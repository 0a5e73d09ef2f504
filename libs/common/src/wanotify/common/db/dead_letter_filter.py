"""Which failed notifications a dead-letter listing or a replay by filter speaks of."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wanotify.common.db.schema import notifications
from wanotify.common.domain.status import Status

_n = notifications


class DeadLetterFilter:
    def __init__(
        self,
        *,
        error_code: str | None = None,
        event_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        self.error_code = error_code
        self.event_type = event_type
        self.since = since
        self.until = until

    def conditions(self, tenant_id: str) -> list[Any]:
        conds: list[Any] = [_n.c.tenant_id == tenant_id, _n.c.status == Status.FAILED.value]
        if self.error_code is not None:
            conds.append(_n.c.error_code == self.error_code)
        if self.event_type is not None:
            conds.append(_n.c.event_type == self.event_type)
        if self.since is not None:
            conds.append(_n.c.failed_at >= self.since)
        if self.until is not None:
            conds.append(_n.c.failed_at < self.until)
        return conds
