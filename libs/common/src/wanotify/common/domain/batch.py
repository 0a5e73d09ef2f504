"""A bulk batch, as its notifications make it up: how many are in each status, and whether the
batch is settled (every notification in a status it will not leave on its own)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from wanotify.common.domain.status import TERMINAL, Status

# A notification in one of these has had its outcome; `sent` and `delivered` may still move on.
SETTLED: frozenset[Status] = TERMINAL | {Status.DELIVERED}


class BatchSummary(msgspec.Struct, frozen=True):
    id: str
    total: int
    # Every status, zero included, so a client can read any of them.
    counts: dict[str, int]
    settled: int
    created_at: datetime
    updated_at: datetime


def summarize_batch(
    batch_id: str, groups: Sequence[tuple[Status, int, datetime, datetime]]
) -> BatchSummary | None:
    """``groups`` are ``(status, count, first created, last updated)`` per status; none is no batch."""
    if not groups:
        return None
    counts = {s.value: 0 for s in Status}
    for status, count, _, _ in groups:
        counts[status.value] += count
    return BatchSummary(
        id=batch_id,
        total=sum(counts.values()),
        counts=counts,
        settled=sum(count for status, count, _, _ in groups if status in SETTLED),
        created_at=min(g[2] for g in groups),
        updated_at=max(g[3] for g in groups),
    )
