"""Priorities travel in separate lanes: one SQS queue each, or one queue name each in the PostgreSQL table."""

from __future__ import annotations

from enum import StrEnum


class Priority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


# Highest first: the order due-work scans and lane fallbacks use.
PRIORITY_ORDER: tuple[Priority, ...] = (Priority.HIGH, Priority.NORMAL, Priority.LOW)

# The PostgreSQL queue's lane names. Normal keeps the name the single queue had before lanes existed,
# so messages already waiting there are served after an upgrade.
PG_LANE_NAMES: dict[Priority, str] = {
    Priority.HIGH: "wa-notify-send-high",
    Priority.NORMAL: "wa-notify-send",
    Priority.LOW: "wa-notify-send-low",
}


def parse_priority(value: str) -> Priority:
    """A stored or received priority; anything unknown is served as normal."""
    try:
        return Priority(value)
    except ValueError:
        return Priority.NORMAL
