"""Ingress limits at the edge: every authenticated /v1 request is checked once, and its decision
is kept in the request scope so the middleware can put ``X-RateLimit-*`` on whatever response
follows, errors included.

What counts: every request takes one token of the global bucket. Reads (and every other route)
only look at the tenant's windows. ``POST /v1/notifications`` takes 1 unit before validation (a
request is a request, valid or not, replayed or not); a bulk request takes one per submitted item.
Requests refused by authentication carry the global bucket's headers; the router's own 404/405
(no route matched) never reach a middleware and carry none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from wanotify.common.config import IngressLimitSettings
from wanotify.common.db.policies import TenantPolicies
from wanotify.common.domain.notification import Principal
from wanotify.common.ratelimit import (
    Decision,
    IngressLimiter,
    RateLimited,
    TenantLimits,
    rate_limit_headers,
    tenant_limits,
)

STATE_KEY = "rate_limit"
HEADER_NAMES = {b"x-ratelimit-limit", b"x-ratelimit-remaining", b"x-ratelimit-reset"}

Authenticate = Callable[[ASGIConnection[Any, Any, Any, Any], str], Awaitable[Principal]]


class IngressGate:
    def __init__(
        self,
        authenticate: Authenticate,
        limiter: IngressLimiter,
        policies: TenantPolicies,
        defaults: IngressLimitSettings,
    ) -> None:
        self._authenticate = authenticate
        self._limiter = limiter
        # Cached like API keys: a policy change applies within API_KEY_CACHE_SECONDS.
        self._policies = policies
        self._defaults = defaults

    async def authenticate(self, request: ASGIConnection[Any, Any, Any, Any], scope: str) -> Principal:
        """Authenticate and spend one global token; the tenant's windows are only read."""
        principal = await self._authenticate(request, scope)
        limits = await self._limits_of(principal.tenant_id)
        self._record(request, await self._limiter.peek(principal.tenant_id, limits))
        return principal

    async def principal(self, request: ASGIConnection[Any, Any, Any, Any], scope: str) -> Principal:
        """Authenticate only: the caller follows with :meth:`take`."""
        return await self._authenticate(request, scope)

    async def take(
        self, request: ASGIConnection[Any, Any, Any, Any], principal: Principal, count: int
    ) -> int:
        """Take up to ``count`` notifications of the tenant's quota; the number granted, at least 1."""
        limits = await self._limits_of(principal.tenant_id)
        decision = await self._limiter.take(principal.tenant_id, limits, count)
        self._record(request, decision)
        return decision.granted

    async def anonymous(self) -> Decision:
        return await self._limiter.peek(None)

    async def _limits_of(self, tenant_id: str) -> TenantLimits:
        policy = await self._policies.get(tenant_id)
        return tenant_limits(policy.rate_limits, self._defaults)

    @staticmethod
    def _record(request: ASGIConnection[Any, Any, Any, Any], decision: Decision) -> None:
        request.scope.setdefault("state", {})[STATE_KEY] = decision
        if not decision.refused:
            return
        retry = decision.retry_after or 1
        if decision.window == "global":
            message = f"Too many requests; retry in {retry} s"
        else:
            message = (
                f"Rate limit of {decision.limit} notifications per {decision.window} reached; "
                f"retry in {retry} s"
            )
        raise RateLimited(message, retry_after=retry)


def ingress_headers_middleware(gate: Callable[[], IngressGate | None]) -> Callable[[ASGIApp], ASGIApp]:
    """``X-RateLimit-*`` on every /v1 response, from the request's decision or the global bucket."""

    def factory(app: ASGIApp) -> ASGIApp:
        return _with_headers(app, gate)

    return factory


def _with_headers(app: ASGIApp, gate_of: Callable[[], IngressGate | None]) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not scope["path"].startswith("/v1/"):
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                decision: Decision | None = scope.get("state", {}).get(STATE_KEY)
                gate = gate_of()
                if decision is None and gate is not None:
                    decision = await gate.anonymous()
                if decision is not None:
                    headers = [h for h in message.get("headers", []) if h[0].lower() not in HEADER_NAMES]
                    headers.extend(
                        (name.lower().encode(), value.encode())
                        for name, value in rate_limit_headers(decision).items()
                    )
                    message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
