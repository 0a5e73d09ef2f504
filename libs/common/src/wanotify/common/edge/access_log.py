"""One INFO line per HTTP request: ``POST /v1/notifications 202`` with method, route template,
status, duration, tenant and trace id as fields. Never the raw path: it may hold ids or numbers.

The line is written when the last byte of the response is handed to the server (still inside
the request's span, so the formatter's ``span_id`` is the request's), or when the application
ends without finishing a response (an exception, a client that left).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from wanotify.common.edge.trace_id import HEADER, STATE_KEY
from wanotify.common.telemetry import current_trace_id

SKIPPED_PATHS = frozenset({"/livez", "/metrics"})
UNMATCHED = "unmatched"


def access_log_middleware(service_logger_name: str = "wanotify.access") -> Callable[[ASGIApp], ASGIApp]:
    """Wrap the whole Litestar application with this (unmatched routes never reach route middleware)."""
    log = logging.getLogger(service_logger_name)

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or scope["path"] in SKIPPED_PATHS:
                await app(scope, receive, send)
                return
            line = _AccessLine(log, scope)

            async def logging_send(message: Message) -> None:
                line.saw(message)
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    line.write()

            try:
                await app(scope, receive, logging_send)
            finally:
                line.write()

        return middleware

    return factory


class _AccessLine:
    def __init__(self, log: logging.Logger, scope: Scope) -> None:
        self._log = log
        self._scope = scope
        self._method = scope.get("method", "GET")
        self._started = time.perf_counter()
        self._status = 500  # what the server answers when the application sends nothing
        self._response_trace_id: str | None = None
        self._written = False

    def saw(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._status = message["status"]
            for name, value in message.get("headers", []):
                if name.lower() == HEADER:
                    self._response_trace_id = value.decode("latin-1")

    def write(self) -> None:
        if self._written:
            return
        self._written = True
        route = str(self._scope.get("path_template") or UNMATCHED)
        state = self._scope.get("state") or {}
        self._log.info(
            "%s %s %s",
            self._method,
            route,
            self._status,
            extra={
                "method": self._method,
                "route": route,
                "status": self._status,
                "duration_ms": round((time.perf_counter() - self._started) * 1000, 1),
                "tenant_id": state.get("tenant_id"),
                "trace_id": state.get(STATE_KEY) or self._response_trace_id or current_trace_id(),
            },
        )
