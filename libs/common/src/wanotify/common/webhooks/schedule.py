"""When to try a failed webhook delivery again: a fixed schedule with ±20 % jitter and Retry-After.

The schedule lists the delay before each attempt (the first is normally 0: send at once); once every
attempt has been made the delivery is given up. Everything here is pure: the caller supplies the
random number and the current time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from wanotify.common.domain.errors import ValidationFailed

# Delay before attempt 1..8: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 27.5 h in all).
DEFAULT_SCHEDULE_SECONDS: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.2


def parse_schedule(text: str, field: str) -> tuple[float, ...]:
    """``"0, 5, 300"`` → ``(0.0, 5.0, 300.0)``: at least one finite, non-negative number."""
    rule = "a comma-separated list of one or more non-negative numbers of seconds"
    if not text.strip():
        raise ValidationFailed(f"no delays: {rule}", field=field, code="INVALID_RETRY_SCHEDULE")
    parts = [part.strip() for part in text.split(",")]
    delays: list[float] = []
    for part in parts:
        try:
            delay = float(part)
        except ValueError:
            raise ValidationFailed(
                f"{part!r} is not a number: {rule}", field=field, code="INVALID_RETRY_SCHEDULE"
            ) from None
        if not math.isfinite(delay) or delay < 0:
            raise ValidationFailed(
                f"{part!r} is not a non-negative number: {rule}", field=field, code="INVALID_RETRY_SCHEDULE"
            )
        delays.append(delay)
    return tuple(delays)


def next_delay(
    schedule: Sequence[float], attempts_made: int, *, rand: float, retry_after: float | None = None
) -> float | None:
    """Seconds to wait before the next attempt after ``attempts_made`` attempts, or None when the
    schedule is exhausted. ``rand`` in [0, 1) places the delay within ±20 %; a ``retry_after`` from the
    endpoint lengthens it, but never beyond the schedule's longest step."""
    if attempts_made < 0:
        raise ValueError(f"attempts_made must be >= 0, got {attempts_made}")
    if not 0.0 <= rand < 1.0:
        raise ValueError(f"rand must be in [0, 1), got {rand}")
    if attempts_made >= len(schedule):
        return None
    jittered = max(0.0, schedule[attempts_made] * (1 - JITTER + 2 * JITTER * rand))
    if retry_after is None or math.isnan(retry_after):
        return jittered
    return max(0.0, min(max(jittered, retry_after), max(schedule)))


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """A ``Retry-After`` header in seconds from ``now``: delta-seconds or an HTTP-date. None when it is
    absent, unparseable or in the past. A naive ``now`` or date is taken as UTC."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        try:
            return float(int(value))
        except (OverflowError, ValueError):  # beyond float range, or past int()'s digit limit
            return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    seconds = (when - now).total_seconds()
    return seconds if seconds >= 0 else None
