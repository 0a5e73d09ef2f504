"""Small HTTP helpers shared by the route modules."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, Response

from wanotify.sandbox.errors import MetaError

VERSION_PATTERN = re.compile(r"v\d+\.\d+")


def json_response(body: Any, status_code: int = 200) -> Response[bytes]:
    return Response(content=msgspec.json.encode(body), status_code=status_code, media_type="application/json")


def meta_error_response(_: Request[Any, Any, Any], error: MetaError) -> Response[bytes]:
    return json_response(error.body(), error.http_status)


def check_version(version: str) -> None:
    if not VERSION_PATTERN.fullmatch(version):
        raise MetaError(100, f"Unknown path components: /{version}")


def access_token(request: Request[Any, Any, Any]) -> str | None:
    """The bearer token, or Graph's `access_token` query parameter."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query_params.get("access_token") or None
