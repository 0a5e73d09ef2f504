"""When to try again: the delay for each retry class, exponential with ±25 % jitter, capped."""

from __future__ import annotations

import random
from datetime import timedelta

from wanotify.common.meta.errors import ErrorClass

# (base seconds, factor, cap seconds) per class; ``pair`` follows Meta's 4^n rule.
_SCHEDULE: dict[ErrorClass, tuple[float, float, float]] = {
    ErrorClass.SOON: (2.0, 2.0, 300.0),
    ErrorClass.THROTTLED: (1.0, 2.0, 60.0),
    ErrorClass.PAIR: (1.0, 4.0, 3600.0),
    ErrorClass.LONG: (300.0, 2.0, 3600.0),
}
# Meta asks for at least 24 h before resending after 131049 (per-user marketing limit).
_FIXED: dict[int, float] = {131049: 24 * 3600.0}
JITTER = 0.25


def retry_delay(
    error_class: ErrorClass, attempt: int, *, code: int | None = None, rng: random.Random | None = None
) -> timedelta:
    """Delay before attempt ``attempt + 1`` after attempt ``attempt`` (1-based) failed."""
    if code is not None and code in _FIXED:
        return timedelta(seconds=_FIXED[code])
    base, factor, cap = _SCHEDULE[error_class]
    raw = min(cap, base * factor ** max(0, attempt - 1))
    spread = raw * JITTER
    jittered = raw + (rng or random).uniform(-spread, spread)
    return timedelta(seconds=max(0.0, min(cap, jittered)))
