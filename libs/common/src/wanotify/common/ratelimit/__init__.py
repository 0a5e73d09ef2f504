"""Rate limits backed by Redis, with a per-process fallback while Redis is down."""

from wanotify.common.ratelimit.headers import rate_limit_headers
from wanotify.common.ratelimit.ingress import (
    Decision,
    IngressLimiter,
    RateLimited,
    TenantLimits,
    tenant_limits,
)

__all__ = ["Decision", "IngressLimiter", "RateLimited", "TenantLimits", "rate_limit_headers", "tenant_limits"]
