"""The ``X-RateLimit-*`` headers of a limiter decision (``Retry-After`` belongs to the 429 itself)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from wanotify.common.ratelimit.ingress import Decision


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    """Reset is an ISO-8601 UTC timestamp rounded up to the second; no headers when unlimited."""
    if decision.limit is None:
        return {}
    reset = datetime.fromtimestamp(math.ceil(decision.reset.timestamp()), UTC)
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
