"""``Allow`` on OPTIONS answers lists every method of the path.

Litestar 2.25 builds each path's OPTIONS handler before it merges the path's other handlers into
one route, so with ``GET`` and ``POST`` declared separately its ``Allow`` names only the last one.
This middleware answers from the app's merged routes instead.
"""

from __future__ import annotations

import re

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_TYPED = re.compile(r"\{(\w+):[^}]+\}")


def _template(path: str) -> str:
    return _TYPED.sub(r"{\1}", path)


def options_allow_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") != "OPTIONS":
            await app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start":
                template = scope.get("path_template")
                routes = scope["litestar_app"].routes
                methods = next((r.methods for r in routes if template in (r.path, _template(r.path))), None)
                if methods:
                    headers = [h for h in message.get("headers", []) if h[0].lower() != b"allow"]
                    headers.append((b"allow", ", ".join(sorted(methods)).encode()))
                    message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_allow)

    return middleware
