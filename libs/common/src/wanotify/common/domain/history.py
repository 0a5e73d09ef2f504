"""A notification's history as a client reads it: its delivery log, oldest first, each row read
as a move ``from`` → ``to``. Pure: the rows come from the delivery log.

Most rows are transitions: their ``status`` is where the notification went. Some only record
something that moved nothing: a Meta report about a status already passed
(``meta_status_ignored``), or one whose failure was retried instead (written with ``applied:
false``). Those keep ``from`` = ``to`` = where the notification was, and say what Meta reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from wanotify.common.clock import iso

# What the log keeps in `detail` that the entry shows as fields of its own, or not at all.
_SHOWN_APART = frozenset({"pricing", "current", "applied", "conversation"})
_RECORDED_ONLY_EVENTS = frozenset({"meta_status_ignored"})


class HistoryError(msgspec.Struct):
    code: str | None
    title: str | None


class HistoryEntry(msgspec.Struct):
    at: str
    event: str
    from_: str | None = msgspec.field(name="from")
    to: str
    # False for a row that moved nothing (see `reported`).
    applied: bool
    # api, worker, meta, scheduler or inbound.
    source: str
    attempt: int
    whatsapp_message_id: str | None
    error: HistoryError | None
    # What Meta reported, on rows that come from a Meta status webhook.
    reported: str | None
    pricing: dict[str, Any] | None
    # The rest of what the row recorded: a retry's `next_attempt_at`, a deferral's `reason`, …
    detail: dict[str, Any] | None


def history_of(rows: Sequence[Mapping[str, Any]]) -> list[HistoryEntry]:
    """``rows`` of the delivery log in the order they were written."""
    entries: list[HistoryEntry] = []
    current: str | None = None
    for row in rows:
        detail: dict[str, Any] = dict(row.get("detail") or {})
        applied = row["event"] not in _RECORDED_ONLY_EVENTS and detail.get("applied", True) is not False
        status = str(row["status"])
        before = current
        if applied:
            current = status
        from_meta = row["source"] == "meta"
        error = row.get("error_code") or row.get("error_message")
        rest = {k: v for k, v in detail.items() if k not in _SHOWN_APART}
        at = row["occurred_at"]
        entries.append(
            HistoryEntry(
                at=(iso(at) if isinstance(at, datetime) else str(at)) or "",
                event=str(row["event"]),
                from_=before,
                to=current if current is not None else status,
                applied=applied,
                source=str(row["source"]),
                attempt=int(row.get("attempt") or 0),
                whatsapp_message_id=row.get("whatsapp_message_id"),
                error=HistoryError(row.get("error_code"), row.get("error_message")) if error else None,
                reported=status if from_meta and row["event"].startswith("meta_status") else None,
                pricing=detail.get("pricing") or None,
                detail=rest or None,
            )
        )
    return entries
