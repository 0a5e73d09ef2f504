"""``X-Trace-Id``: the client's id when it sends a sane one, else the request's trace id; echoed on
every response and kept in ``scope["state"]["trace_id"]`` for handlers and error bodies.

Every request must also start from an empty OpenTelemetry context, which the server does not
guarantee. When a request body passes uvicorn's 64 KiB high-water mark, uvicorn pauses reading the
connection and resumes it from inside the request's task; asyncio then copies that task's context
(holding the request's span) into the socket's reader callback, so each later request on the
keep-alive connection is created inside it. OpenTelemetry's middleware sees a current span, makes
the new request an internal child of the finished one and ignores the client's ``traceparent``:
every later response reports the old trace id (CPython gh-140947, uvicorn #2167).
:func:`fresh_trace_context` drops whatever the request inherited before that middleware runs.
"""

from __future__ import annotations

import os
import re

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import context as otel_context
from opentelemetry import trace

from wanotify.common.telemetry import current_trace_id

# ``\Z``, not ``$``: ``$`` would also accept the id followed by a newline.
SANE_TRACE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}\Z")
STATE_KEY = "trace_id"
HEADER = b"x-trace-id"


def _supplied(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name.lower() == HEADER:
            return value.decode("latin-1")
    return ""


def choose_trace_id(scope: Scope) -> str:
    """A new choice for this request: the client's sane ``X-Trace-Id``, else the current span's
    trace id, else a random one."""
    supplied = _supplied(scope)
    if SANE_TRACE_ID.match(supplied):
        return supplied
    return current_trace_id() or os.urandom(16).hex()


def trace_id_for(scope: Scope) -> str:
    """This request's trace id: the one already chosen (by :func:`trace_id_middleware`), else a new
    choice, remembered so that the error body, the header and the access log agree."""
    state = scope.setdefault("state", {})
    chosen = state.get(STATE_KEY)
    if not isinstance(chosen, str) or not chosen:
        chosen = state[STATE_KEY] = choose_trace_id(scope)
    return chosen


def trace_id_middleware(app: ASGIApp) -> ASGIApp:
    """Litestar route middleware (inside the OpenTelemetry plugin's span): choose, store, echo."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        # Chosen anew even if the state holds one: state copied from elsewhere is not this request's.
        trace_id = choose_trace_id(scope)
        supplied = _supplied(scope)
        if supplied:
            trace.get_current_span().set_attribute("wanotify.client_trace_id", supplied[:128])
        scope.setdefault("state", {})[STATE_KEY] = trace_id

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != HEADER]
                headers.append((HEADER, trace_id.encode()))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_header)

    return middleware


def fresh_trace_context(app: ASGIApp) -> ASGIApp:
    """Wrap the whole application (outside OpenTelemetry's middleware): each HTTP or WebSocket
    connection runs in an empty OpenTelemetry context, whatever its task inherited."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in (ScopeType.HTTP, ScopeType.WEBSOCKET):
            await app(scope, receive, send)
            return
        token = otel_context.attach(otel_context.Context())
        try:
            await app(scope, receive, send)
        finally:
            otel_context.detach(token)

    return middleware
