"""``X-Trace-Id``: the client's id when it sends a sane one, else our trace id; echoed on every response."""

from __future__ import annotations

import os
import re

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace

from wanotify.common.telemetry import current_trace_id

SANE_TRACE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def trace_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        supplied = dict(scope["headers"]).get(b"x-trace-id", b"").decode("latin-1")
        trace_id = supplied if SANE_TRACE_ID.match(supplied) else (current_trace_id() or os.urandom(16).hex())
        if supplied:
            trace.get_current_span().set_attribute("wanotify.client_trace_id", supplied[:128])
        scope.setdefault("state", {})["trace_id"] = trace_id

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-trace-id"]
                headers.append((b"x-trace-id", trace_id.encode()))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_header)

    return middleware
