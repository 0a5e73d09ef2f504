"""What ``/v1/batches`` answers."""

from __future__ import annotations

import msgspec


class BatchOut(msgspec.Struct):
    """A bulk batch: its notifications counted by status (every status, zero included)."""

    id: str
    total: int
    counts: dict[str, int]
    # Delivered, read, failed, canceled or expired: the outcome is known.
    settled: int
    created_at: str
    updated_at: str
