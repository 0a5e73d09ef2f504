"""A slow client must not hold a worker: the whole request body within a deadline, else ``408``.

Only the reads of the body are bounded, counted from the application's first ``receive``; once
the body is complete, ``receive`` (which then waits for ``http.disconnect``) is passed through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPDisconnectEvent, Message, Receive, ReceiveMessage, Scope, Send

from wanotify.common.edge.trace_id import trace_id_for

CODE = "REQUEST_TIMEOUT"


def body_timeout_middleware(seconds: float) -> Callable[[ASGIApp], ASGIApp]:
    """On expiry the client gets ``408 REQUEST_TIMEOUT`` with ``Connection: close`` (or, when a
    response has already started, nothing more) and the application sees ``http.disconnect``.
    ``seconds <= 0`` disables the bound."""

    def factory(app: ASGIApp) -> ASGIApp:
        if seconds <= 0:
            return app

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            guard = _BodyDeadline(scope, receive, send, seconds)
            await app(scope, guard.receive, guard.send)

        return middleware

    return factory


class _BodyDeadline:
    """One request's reads of its body, against one deadline."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, seconds: float) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        self._seconds = seconds
        self._deadline: float | None = None
        self._body_done = False
        self._response_started = False
        self._timed_out = False

    async def receive(self) -> ReceiveMessage:
        if self._timed_out:
            return _disconnect()
        if self._body_done:
            return await self._receive()
        if self._deadline is None:
            self._deadline = asyncio.get_running_loop().time() + self._seconds
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            self._timed_out = True
            if not self._response_started:
                await self._send_timeout()
            return _disconnect()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._body_done = True
        return message

    async def send(self, message: Message) -> None:
        if self._timed_out:
            return  # the client has its answer (or its cut connection); the app's is dropped
        if message["type"] == "http.response.start":
            self._response_started = True
        await self._send(message)

    async def _send_timeout(self) -> None:
        trace_id = trace_id_for(self._scope)
        body = msgspec.json.encode(
            {
                "error": {
                    "code": CODE,
                    "message": f"The request body did not arrive within {self._seconds:g} s",
                    "field": None,
                    "trace_id": trace_id,
                }
            }
        )
        await self._send(
            {
                "type": "http.response.start",
                "status": 408,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    (b"x-trace-id", trace_id.encode()),
                ],
            }
        )
        await self._send({"type": "http.response.body", "body": body, "more_body": False})


def _disconnect() -> HTTPDisconnectEvent:
    return {"type": "http.disconnect"}
